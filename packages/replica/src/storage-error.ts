import { ReplicaError, messageOf } from './replica-error.js'
import { type StorageConfig, describeStorage, redactSecret } from './storage-config.js'

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
// AWS's answers to a request signed for, or sent to, another region than the bucket's.
const WRONG_REGION_CODES = new Set([
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'IllegalLocationConstraintException',
])
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
 * Turn an S3 error (of the AWS SDK or of `S3HttpClient`) into a {@link ReplicaError} with one clear reason and a hint:
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
          : WRONG_REGION_CODES.has(code)
            ? `check AWS_REGION (${storage.region}): the bucket may be in another region`
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

// The SDK puts the status in `$metadata.httpStatusCode`; S3HttpClient's errors in `statusCode`.
function httpStatusOf(err: unknown): number | undefined {
  const record = err as { $metadata?: { httpStatusCode?: unknown }; statusCode?: unknown } | null
  const status = record?.$metadata?.httpStatusCode ?? record?.statusCode
  return typeof status === 'number' ? status : undefined
}

function sdkErrorText(err: unknown): string {
  const code = sdkErrorCode(err)
  const message = messageOf(err)
  if (message === '' || message === 'UnknownError') return code || 'unknown error'
  return code && !message.includes(code) ? `${code}: ${message}` : message
}

/** CreateBucket answered `BucketAlreadyExists`: the name belongs to another account. */
export function bucketNameTakenError(bucket: string, cause: unknown): ReplicaError {
  return new ReplicaError(
    'STORAGE_FORBIDDEN',
    `create bucket ${bucket}: the name is taken by another account`,
    { cause, hint: 'bucket names are global on AWS S3; choose another LITECELL_S3_BUCKET' },
  )
}

/** One key a DeleteObjects answer reports as not deleted. */
export interface DeleteFailure {
  readonly key: string
  readonly code: string
  readonly message: string
}

/** A DeleteObjects batch of `batchSize` keys whose answer listed `failures` (at least one). */
export function deleteFailedError(
  batchSize: number,
  failures: readonly DeleteFailure[],
): ReplicaError {
  const first = failures[0]
  return new ReplicaError(
    first?.code === 'AccessDenied' ? 'STORAGE_FORBIDDEN' : 'STORAGE_UNAVAILABLE',
    `delete ${batchSize} objects: ${failures.length} failed, first ${first?.key}: ${first?.code} ${first?.message ?? ''}`.trim(),
    { hint: 'retry the deletion; objects already deleted stay deleted' },
  )
}
