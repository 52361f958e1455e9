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
