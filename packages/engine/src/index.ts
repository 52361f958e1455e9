export { defineApp, validateApp } from './app.js'
export { workflow } from './workflow-definition.js'
export type { StandardSchemaV1, WorkflowDefinition, WorkflowEntry } from './workflow-definition.js'
export type { AppDescription, QueueDescription, ScheduleDescription, WorkflowDescription } from './app-description.js'
export type {
  App,
  AppDefinition,
  QueueDefinition,
  RetentionPolicy,
  WorkflowFn,
  WorkflowOptions,
} from './app.js'
export { DEFAULT_APP_NAME } from './app-identity.js'
export type { AppIdentity } from './app-identity.js'
export { migrationHash } from './migration.js'
export type { Migration, MigrationDefinition } from './migration.js'
export {
  MAX_BACKFILL_FIRES,
  MAX_OWED_FIRES,
  ON_TIME_GRACE_MS,
  SCHEDULE_CATCH_UPS,
  SCHEDULE_ID,
  SCHEDULE_OVERLAPS,
} from './schedule.js'
export type {
  ScheduleCatchUp,
  ScheduleDefinition,
  ScheduleOverlap,
  ScheduleRequest,
  ScheduleView,
} from './schedule.js'
export type { Schedules } from './scheduler.js'
export type { Duration } from './duration.js'
export { Engine } from './engine.js'
export { RUN_STATUSES } from './run.js'
export { EngineError, TerminalError } from './engine-error.js'
export type { EngineErrorCode } from './engine-error.js'
export { DEFAULT_TRANSACTION_TIMEOUT_MS } from './engine-options.js'
export type { EngineOptions } from './engine-options.js'
export type { JsonValue } from './json.js'
export type { EngineObserver } from './observer.js'
export type { QueryOptions, QueryResult } from './query.js'
export { QUARANTINE_AFTER_CRASHES } from './recovery.js'
export { MIN_RUN_ID_PREFIX } from './run-lookup.js'
export type { RunWait } from './run-lookup.js'
export type { QuarantinedRun, RecoveryReport } from './recovery.js'
export { MAX_TAG_KEY_LENGTH, MAX_TAG_VALUE_LENGTH, MAX_TAGS, TAG_KEY_PATTERN } from './run-tags.js'
export { MAX_STATUS_RUN_IDS } from './run-view.js'
export {
  MAX_DEBOUNCE_KEY_LENGTH,
  MAX_DEDUPLICATION_ID_LENGTH,
  MAX_PARTITION_KEY_LENGTH,
  MAX_PRIORITY,
  MIN_PRIORITY,
} from './start-options.js'
export type {
  DebounceOptions,
  ListOptions,
  ListPage,
  RunDetail,
  RunError,
  RunStatus,
  RunStatusEntry,
  RunSummary,
  RunTags,
  StartOptions,
  StartRequest,
  StepDetail,
  StepKind,
  StepRecord,
  StepStatus,
} from './run.js'
export type {
  Backoff,
  ChildHandle,
  ChildOptions,
  SqlArgs,
  SqlRow,
  SqlStatement,
  SqlValue,
  StepAttempt,
  StepOptions,
  TransactionClient,
  WorkflowContext,
} from './workflow-context.js'
