/**
 * The wire contract between the control plane and its workers, and the pieces both sides
 * share: internal routes and bodies, error codes → HTTP status, request-body helpers, secrets,
 * the tenant id, exit codes, and the worker's environment (serializer beside parser).
 * Depends on no other litecell package.
 */
export { ProtocolError } from './protocol-error.js'
export type { ProtocolErrorCode } from './protocol-error.js'
export { describeValue } from './describe-value.js'
export {
  DEFAULT_REPLICATION_ACK_TIMEOUT_MS,
  DURABILITIES,
  DURABILITY_HEADER,
  TENANT_DURABILITY_HEADER,
  isDurability,
} from './durability.js'
export type { Durability } from './durability.js'
export { errorCode, errorOf, errorResponse, statusForCode } from './error-response.js'
export type { ErrorBody } from './error-response.js'
export { limitBody, readBodyText } from './body-text.js'
export { requestHeader, requestHeaderNames } from './request-header.js'
export { optionalInteger, readJsonObject } from './request-body.js'
export type { JsonObject } from './request-body.js'
export { bearerToken, hashSecret, matchesHash, newSecret } from './secret.js'
export { TENANT_ID_PATTERN, parseTenantId } from './tenant-id.js'
export { INCARNATION_PATTERN, newIncarnation } from './incarnation.js'
export {
  APP_REFUSAL_CODES,
  EXIT_APP_LOAD_FAILED,
  EXIT_APP_REFUSED,
  EXIT_FAILED,
  EXIT_HIBERNATED,
  EXIT_LEASE_LOST,
  EXIT_NO_RESTORE_POINT,
  EXIT_STORAGE_UNAVAILABLE,
  isStorageOutage,
} from './exit-codes.js'
export type { AppRefusalCode, RefusedCode } from './exit-codes.js'
export { storageFromEnv } from './storage-env.js'
export type { StorageSettings } from './storage-env.js'
export {
  DEFAULT_IDLE_MS,
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  DEFAULT_SYNC_INTERVAL_MS,
  DEFAULT_SYNC_TIMEOUT_MS,
  TENANT_DB_FILE,
  WORKER_ENV,
  parseWorkerEnvironment,
  serializeWorkerEnvironment,
} from './worker-environment.js'
export type {
  RestoreSource,
  WorkerEnvironment,
  WorkerPlacement,
  WorkerSettings,
} from './worker-environment.js'
export { PRELOAD_APPS_ENV, STANDBY_ENV, isStandbyAssignment } from './standby.js'
export type { StandbyAssignment } from './standby.js'
export {
  CALLBACK_BASE_PATH,
  CALLBACK_ROUTE,
  HIBERNATE_PATH,
  SYNC_POINT_PATH,
  WORKER_SECRET_HEADER,
  callbackPath,
  isWorkerCallback,
  parseCallbackCaller,
  parseHeartbeatReport,
  parseHibernatedReport,
  parseReadyReport,
  parseRefusedReport,
  MAX_REFUSAL_MESSAGE_LENGTH,
} from './internal-api.js'
export type {
  CallbackCaller,
  HeartbeatReport,
  HibernatedReport,
  IdleAnswer,
  LeaseAnswer,
  MetricsDelta,
  ReadyReport,
  RefusedReport,
  SyncPoint,
  WorkerCallback,
} from './internal-api.js'
export {
  BackfillScheduleBody,
  CreateScheduleBody,
  TriggerScheduleBody,
  CreateTenantBody,
  ForkRunBody,
  RunWriteBody,
  ForkTenantBody,
  MAX_STATUS_RUN_IDS,
  QueryBody,
  RunStatusesBody,
  SendEventBody,
  StartRunBody,
  StartRunsBody,
  UpdateTenantBody,
  UpgradeTenantBody,
  DurabilitySchema,
  parseBody,
} from './api-schemas/index.js'
export type { StartRunFields } from './api-schemas/index.js'
export { TENANT_ID_ATTRIBUTE, traceRequests } from './tracing.js'
