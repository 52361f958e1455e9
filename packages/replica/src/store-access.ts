import { ReplicaError } from './replica-error.js'
import type { ReplicaStore } from './replica-store.js'
import { S3ReplicaStore } from './s3-replica-store.js'
import { type StorageConfig, validateStorageConfig } from './storage-config.js'

/**
 * Open the store for a storage config and run `fn` with it, closing it afterwards.
 * The store is chosen by config; today every config is S3-compatible.
 */
export async function withReplicaStore<T>(
  storage: StorageConfig,
  fn: (store: ReplicaStore) => Promise<T>,
): Promise<T> {
  const store: ReplicaStore = new S3ReplicaStore(storage)
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
