export { type EmbeddedS3, type EmbeddedS3Options, startEmbeddedS3 } from './embedded-s3.js'
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
export { ensureBucket } from './replica-store.js'
export { type ReplicateOptions, replicate } from './replication.js'
export { type Replicator, type StopVerifiedResult } from './replicator.js'
export {
  type GenerationPoint,
  type RestorePoints,
  type SnapshotPoint,
  restorePoints,
} from './restore-points.js'
export { type RestoreOptions, type RestoreResult, restore } from './restore.js'
export { type StorageConfig, storageConfigFromEnv } from './storage-config.js'
export { openSqlite, pinDatabase, type SqliteConnection } from './sqlite-connection.js'
export { SYNC_MARKER_TABLE } from './sync-marker.js'
export { type WalCommit, readLastCommit } from './wal-commit.js'
