import { ReplicaError } from './replica-error.js'

/** Region used when neither the config nor `AWS_REGION` names one. */
export const DEFAULT_REGION = 'us-east-1'
/** Bucket used when only an endpoint is configured. */
export const DEFAULT_BUCKET = 'litecell'

/** Where replicas live: an S3-compatible bucket and a key prefix inside it. */
export interface StorageConfig {
  /**
   * Custom endpoint (MinIO, R2, the embedded server), addressed path-style; absent means
   * AWS S3.
   */
  readonly endpoint?: string
  /** Bucket name. */
  readonly bucket: string
  /** Key prefix inside the bucket, without leading or trailing slash; may be empty. */
  readonly prefix: string
  /** Region. @default 'us-east-1' */
  readonly region: string
  /** Access key id; absent means the AWS default credential chain. */
  readonly accessKeyId?: string
  /** Secret access key; never logged and never part of an error message. */
  readonly secretAccessKey?: string
}

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

/**
 * Check a storage config and return it normalized (prefix without surrounding slashes).
 * Throws `INVALID_CONFIG` naming the bad field; the secret is never quoted.
 */
export function validateStorageConfig(storage: StorageConfig): StorageConfig {
  const fail = (what: string): never => {
    throw new ReplicaError('INVALID_CONFIG', `invalid storage config: ${what}`, {
      hint: 'check LITECELL_S3_ENDPOINT, LITECELL_S3_BUCKET, LITECELL_S3_PREFIX and the AWS_* variables',
    })
  }
  if (typeof storage !== 'object' || storage === null)
    fail(`expected an object, got ${describe(storage)}`)
  if (typeof storage.bucket !== 'string' || !BUCKET_PATTERN.test(storage.bucket)) {
    fail(`expected \`bucket\` to be an S3 bucket name, got ${describe(storage.bucket)}`)
  }
  if (typeof storage.prefix !== 'string' || storage.prefix.includes('..')) {
    fail(`expected \`prefix\` to be a key prefix, got ${describe(storage.prefix)}`)
  }
  if (typeof storage.region !== 'string' || storage.region === '') {
    fail(`expected \`region\` to be a non-empty string, got ${describe(storage.region)}`)
  }
  if (storage.endpoint !== undefined) {
    let url: URL | undefined
    try {
      url = new URL(storage.endpoint)
    } catch {
      url = undefined
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      fail(`expected \`endpoint\` to be an http(s) URL, got ${describe(storage.endpoint)}`)
    }
  }
  if ((storage.accessKeyId === undefined) !== (storage.secretAccessKey === undefined)) {
    fail('`accessKeyId` and `secretAccessKey` must be given together')
  }
  return { ...storage, prefix: trimSlashes(storage.prefix) }
}

/** A description of where the storage is, safe for logs: `s3://bucket/prefix (endpoint)`. */
export function describeStorage(storage: StorageConfig, path = storage.prefix): string {
  const where = `s3://${storage.bucket}/${path}`
  return storage.endpoint ? `${where} at ${storage.endpoint}` : where
}

/** Replace the secret (if any) in `text`, for text that came from outside (stderr, SDK errors). */
export function redactSecret(text: string, storage: StorageConfig): string {
  const secret = storage.secretAccessKey
  return secret && secret.length >= 4 ? text.split(secret).join('[redacted]') : text
}

/** `a/b/` → `a/b`; `/a` → `a`. */
export function trimSlashes(value: string): string {
  return value.replace(/^\/+|\/+$/g, '')
}

function describe(value: unknown): string {
  return `\`${String(value)}\` (${value === null ? 'null' : typeof value})`
}
