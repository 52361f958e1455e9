import { ReplicaError } from './replica-error.js'
import type { ReplicaStore } from './replica-store.js'
import { S3HttpReplicaStore } from './s3-http-replica-store.js'
import { S3ReplicaStore } from './s3-replica-store.js'
import { type StorageConfig, validateStorageConfig } from './storage-config.js'

/** Options of {@link openReplicaStore}. */
export interface ReplicaStoreOptions {
  /** Keys per DeleteObjects request, 1–1000. @default 1000 */
  readonly deleteBatchSize?: number
}

/**
 * Open the store for a storage config. Every config is S3-compatible; one with explicit
 * credentials (the embedded server, MinIO, R2, most deployments) gets an
 * {@link S3HttpReplicaStore}, which signs its own requests; one without gets the AWS SDK's
 * {@link S3ReplicaStore} for the SDK's default credential chain (IRSA, instance roles), and
 * only then is the SDK loaded (issue 12: ≈ 25 MB of a worker's RSS).
 */
export async function openReplicaStore(
  storage: StorageConfig,
  opts: ReplicaStoreOptions = {},
): Promise<ReplicaStore> {
  return storage.accessKeyId !== undefined && storage.secretAccessKey !== undefined
    ? new S3HttpReplicaStore(storage, opts)
    : await S3ReplicaStore.open(storage, opts)
}

/** Open the store for a storage config and run `fn` with it, closing it afterwards. */
export async function withReplicaStore<T>(
  storage: StorageConfig,
  fn: (store: ReplicaStore) => Promise<T>,
): Promise<T> {
  const store = await openReplicaStore(storage)
  try {
    return await fn(store)
  } finally {
    store.close()
  }
}

/**
 * Create the storage's bucket unless it exists. Throws one clear error otherwise:
 * `STORAGE_AUTH_FAILED` (credentials rejected), `STORAGE_FORBIDDEN` (no permission),
 * `STORAGE_UNAVAILABLE` (endpoint unreachable), `INVALID_CONFIG`; never with the secret.
 */
export async function ensureBucket(storage: StorageConfig): Promise<void> {
  try {
    await withReplicaStore(validateStorageConfig(storage), (store) => store.ensureBucket())
  } catch (err) {
    throw ReplicaError.wrap(err, `ensure bucket ${String(storage?.bucket)}`, 'STORAGE_UNAVAILABLE')
  }
}
