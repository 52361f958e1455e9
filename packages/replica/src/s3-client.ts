import type { S3ClientConfig } from '@aws-sdk/client-s3'
import type { StorageConfig } from './storage-config.js'

/** How long to wait for a TCP connection to the endpoint. */
export const DEFAULT_S3_CONNECTION_TIMEOUT_MS = 3_000
/** How long one S3 request may take. */
export const DEFAULT_S3_REQUEST_TIMEOUT_MS = 60_000
/** Attempts per request (the SDK retries transient failures with backoff). */
export const DEFAULT_S3_MAX_ATTEMPTS = 3
/** S3's limit of keys per DeleteObjects request. */
export const DELETE_BATCH_SIZE = 1000

/** Check a store's `deleteBatchSize` option (1–1000) and return it. */
export function checkDeleteBatchSize(batch: number): number {
  if (!Number.isInteger(batch) || batch < 1 || batch > DELETE_BATCH_SIZE) {
    throw new TypeError(
      `Expected \`deleteBatchSize\` to be an integer from 1 to ${DELETE_BATCH_SIZE}, got \`${batch}\` (${typeof batch})`,
    )
  }
  return batch
}

/**
 * The AWS SDK's S3 client options for a storage config: path-style addressing for custom
 * endpoints, and checksums only when required. Newer SDKs otherwise stream uploads with
 * `aws-chunked` framing, which s3rver and some other S3-compatible stores store verbatim.
 * Options only: the SDK (≈ 25 MB of a worker's RSS, issue 12) is imported by the caller, and
 * only where a config has no explicit credentials (see `openReplicaStore`).
 *
 * @example
 * const { S3Client } = await import('@aws-sdk/client-s3')
 * const client = new S3Client(s3ClientConfig(storage))
 */
export function s3ClientConfig(storage: StorageConfig): S3ClientConfig {
  return {
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
  }
}
