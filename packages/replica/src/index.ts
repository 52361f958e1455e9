export {
  CommitConfirmations,
  type ConfirmCommittedOptions,
} from './commit-confirmations.js'
export { type EmbeddedS3, type EmbeddedS3Options, startEmbeddedS3 } from './embedded-s3.js'
export { type EmbeddedS3ProcessOptions, startEmbeddedS3Process } from './embedded-s3-process.js'
export { type LitestreamBinary, resolveLitestream } from './litestream-binary.js'
export { DEFAULT_MONITOR_INTERVAL_MS, DEFAULT_SYNC_INTERVAL_MS } from './litestream-config.js'
export {
  type ConfirmOptions,
  DEFAULT_CONFIRM_TIMEOUT_MS,
  type PositionWatcherStats,
} from './position-watcher.js'
export { type ReplicaDeletion, deleteReplica } from './replica-deletion.js'
export { ReplicaError, type ReplicaErrorCode, isReplicaError } from './replica-error.js'
export { type ReplicaLocation, controlPlaneReplica, tenantReplica } from './replica-location.js'
export {
  type ReplicaPosition,
  comparePositions,
  formatPosition,
  isCovered,
} from './replica-position.js'
export { type ReplicaStore, type StoredObject } from './replica-store.js'
export { ensureBucket, withReplicaStore } from './store-access.js'
export { type ReplicateOptions, replicate } from './replicate.js'
export { type Replicator, type StopVerifiedResult, type SyncVerifiedResult } from './replicator.js'
export {
  type GenerationPoint,
  type RestorePoints,
  type SnapshotPoint,
  restorePoints,
} from './restore-points.js'
export { type RestoreOptions, type RestoreResult, restore } from './restore.js'
export { type StorageConfig, validateStorageConfig } from './storage-config.js'
export {
  DEFAULT_BUSY_TIMEOUT_MS,
  type SqliteConnection,
  openSqlite,
  openSqliteReadOnly,
  pinDatabase,
} from './sqlite-connection.js'
export { SYNC_MARKER_TABLE } from './sync-marker.js'
export { type WalCommit, readLastCommit } from './wal-commit.js'
export { type HibernatedCopyUse, keepHibernatedCopy, takeHibernatedCopy } from './hibernated-copy.js'
