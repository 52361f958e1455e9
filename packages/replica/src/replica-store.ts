import { S3ReplicaStore } from './s3-replica-store.js'
import { ReplicaError } from './replica-error.js'
import { type StorageConfig, validateStorageConfig } from './storage-config.js'

/** One stored object of a replica. */
export interface StoredObject {
  /** Full key inside the bucket. */
  readonly key: string
  readonly sizeBytes: number
  readonly lastModified: Date
}

/**
 * The object store that holds replicas, seen from litecell: check access, create the
 * bucket, list and delete keys. Litestream itself talks to the store directly; this seam
 * serves listing (restore points), deletion and preflight checks that turn bad
 * configuration into one clear error before Litestream starts.
 */
export interface ReplicaStore {
  /**
   * Succeed only when the bucket exists and the credentials may list it; otherwise throw
   * `STORAGE_AUTH_FAILED`, `STORAGE_FORBIDDEN`, `STORAGE_BUCKET_MISSING` or
   * `STORAGE_UNAVAILABLE`.
   */
  check(): Promise<void>
  /** Create the bucket unless it exists. */
  ensureBucket(): Promise<void>
  /**
   * Every object whose key starts with `prefix`, in key order; with `startAfter`, only
   * those whose key sorts after it (one request for a replica's newest objects).
   */
  list(prefix: string, opts?: { readonly startAfter?: string }): Promise<StoredObject[]>
  /** The bytes of one object, or null if there is no such key. */
  read(key: string): Promise<Uint8Array | null>
  /** Delete the given keys (any number; batched by the implementation); returns how many. */
  delete(keys: readonly string[]): Promise<number>
  /** Release connections. */
  close(): void
  /** Requests sent so far, by kind (a paginated listing counts one per page). */
  readonly requests: StoreRequests
}

/** Request counters of a {@link ReplicaStore}. */
export interface StoreRequests {
  list: number
  get: number
  /** Everything else: checks, deletes, bucket creation. */
  other: number
}

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
