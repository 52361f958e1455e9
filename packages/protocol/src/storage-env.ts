/** Bucket used when only an endpoint is configured. */
export const DEFAULT_STORAGE_BUCKET = 'litecell'
/** Region used when neither `AWS_REGION` nor `AWS_DEFAULT_REGION` names one. */
export const DEFAULT_STORAGE_REGION = 'us-east-1'

/**
 * Where replicas live, as the environment spells it: the same shape as the replica package's
 * `StorageConfig` (which validates it), declared here so that this package depends on no
 * other litecell package.
 */
export interface StorageSettings {
  /** Custom endpoint (MinIO, R2, the embedded server); absent means AWS S3. */
  readonly endpoint?: string
  readonly bucket: string
  /** Key prefix inside the bucket; may be empty. */
  readonly prefix: string
  readonly region: string
  /** Absent: the AWS default credential chain. */
  readonly accessKeyId?: string
  /** Never logged, never part of a message. */
  readonly secretAccessKey?: string
}

/**
 * Reads the storage settings from `LITECELL_S3_ENDPOINT`, `LITECELL_S3_BUCKET`,
 * `LITECELL_S3_PREFIX`, `AWS_REGION` (or `AWS_DEFAULT_REGION`), `AWS_ACCESS_KEY_ID` and
 * `AWS_SECRET_ACCESS_KEY`. Null when neither a bucket nor an endpoint is set (local use: the
 * embedded S3 server). Values are read, not validated: the replica package validates them.
 *
 * @example
 * const storage = storageFromEnv(process.env) ?? (await startEmbeddedS3({ dir })).storage()
 */
export function storageFromEnv(env: NodeJS.ProcessEnv): StorageSettings | null {
  const endpoint = nonEmpty(env.LITECELL_S3_ENDPOINT)
  const bucket = nonEmpty(env.LITECELL_S3_BUCKET)
  if (!endpoint && !bucket) return null
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID)
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY)
  return {
    ...(endpoint ? { endpoint } : {}),
    bucket: bucket ?? DEFAULT_STORAGE_BUCKET,
    prefix: env.LITECELL_S3_PREFIX ?? '',
    region: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? DEFAULT_STORAGE_REGION,
    ...(accessKeyId ? { accessKeyId } : {}),
    ...(secretAccessKey ? { secretAccessKey } : {}),
  }
}

/** The inverse of {@link storageFromEnv}: the variables that read back as `storage`. */
export function storageToEnv(storage: StorageSettings): Record<string, string> {
  const env: Record<string, string> = {
    LITECELL_S3_BUCKET: storage.bucket,
    LITECELL_S3_PREFIX: storage.prefix,
    AWS_REGION: storage.region,
  }
  if (storage.endpoint) env.LITECELL_S3_ENDPOINT = storage.endpoint
  if (storage.accessKeyId) env.AWS_ACCESS_KEY_ID = storage.accessKeyId
  if (storage.secretAccessKey) env.AWS_SECRET_ACCESS_KEY = storage.secretAccessKey
  return env
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}
