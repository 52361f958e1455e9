import { S3Client } from '@aws-sdk/client-s3'
import { ReplicaError, messageOf } from './replica-error.js'
import { type StorageConfig, describeStorage, redactSecret } from './storage-config.js'

/** How long to wait for a TCP connection to the endpoint. */
export const DEFAULT_S3_CONNECTION_TIMEOUT_MS = 3_000
/** How long one S3 request may take. */
export const DEFAULT_S3_REQUEST_TIMEOUT_MS = 60_000
/** Attempts per request (the SDK retries transient failures with backoff). */
export const DEFAULT_S3_MAX_ATTEMPTS = 3

/**
 * An S3 client for a storage config: path-style addressing for custom endpoints, and
 * checksums only when required. Newer SDKs otherwise stream uploads with `aws-chunked`
 * framing, which s3rver and some other S3-compatible stores store verbatim.
 */
export function createS3Client(storage: StorageConfig): S3Client {
  return new S3Client({
    region: storage.region,
    ...(storage.endpoint ? { endpoint: storage.endpoint, forcePathStyle: true } : {}),
    ...(storage.accessKeyId && storage.secretAccessKey
      ? {
          credentials: {
            accessKeyId: storage.accessKeyId,
            secretAccessKey: storage.secretAccessKey,
          },
        }
      : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: DEFAULT_S3_MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: DEFAULT_S3_CONNECTION_TIMEOUT_MS,
      requestTimeout: DEFAULT_S3_REQUEST_TIMEOUT_MS,
    },
  })
}

const AUTH_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
  'InvalidClientTokenId',
])
const FORBIDDEN_CODES = new Set([
  'AccessDenied',
  'Forbidden',
  'AllAccessDisabled',
  'AccountProblem',
])
const MISSING_BUCKET_CODES = new Set(['NoSuchBucket'])
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
])

/**
 * Turn an SDK error into a {@link ReplicaError} with one clear reason and a hint:
 * `STORAGE_AUTH_FAILED`, `STORAGE_FORBIDDEN`, `STORAGE_BUCKET_MISSING` or
 * `STORAGE_UNAVAILABLE`. The secret is redacted from the message.
 */
export function storageError(err: unknown, context: string, storage: StorageConfig): ReplicaError {
  const where = describeStorage(storage)
  const detail = redactSecret(sdkErrorText(err), storage)
  const code = sdkErrorCode(err)
  const status = httpStatusOf(err)
  if (AUTH_CODES.has(code)) {
    return new ReplicaError(
      'STORAGE_AUTH_FAILED',
      `${context}: credentials rejected by ${where}: ${detail}`,
      {
        cause: err,
        hint: 'check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the configured credentials)',
      },
    )
  }
  if (MISSING_BUCKET_CODES.has(code) || (status === 404 && code === 'NotFound')) {
    return new ReplicaError(
      'STORAGE_BUCKET_MISSING',
      `${context}: bucket ${storage.bucket} does not exist at ${where}`,
      {
        cause: err,
        hint: `create bucket ${storage.bucket} (ensureBucket) or fix LITECELL_S3_BUCKET`,
      },
    )
  }
  if (FORBIDDEN_CODES.has(code) || status === 403) {
    return new ReplicaError(
      'STORAGE_FORBIDDEN',
      `${context}: access denied by ${where}: ${detail}`,
      {
        cause: err,
        hint: `grant these credentials list/get/put/delete on bucket ${storage.bucket}`,
      },
    )
  }
  return new ReplicaError(
    'STORAGE_UNAVAILABLE',
    `${context}: storage unreachable at ${where}: ${detail}`,
    {
      cause: err,
      hint:
        NETWORK_CODES.has(code) || status === undefined
          ? 'check that the S3 endpoint is up and reachable from this machine'
          : 'the storage answered with an error; retry, and check its logs',
    },
  )
}

function sdkErrorCode(err: unknown): string {
  if (typeof err !== 'object' || err === null) return ''
  const record = err as { Code?: unknown; code?: unknown; name?: unknown; cause?: unknown }
  for (const value of [record.Code, record.code]) {
    if (typeof value === 'string' && value !== '') return value
  }
  const nested = record.cause ? sdkErrorCode(record.cause) : ''
  if (nested && NETWORK_CODES.has(nested)) return nested
  return typeof record.name === 'string' ? record.name : ''
}

function httpStatusOf(err: unknown): number | undefined {
  const metadata = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined
}

function sdkErrorText(err: unknown): string {
  const code = sdkErrorCode(err)
  const message = messageOf(err)
  if (message === '' || message === 'UnknownError') return code || 'unknown error'
  return code && !message.includes(code) ? `${code}: ${message}` : message
}
