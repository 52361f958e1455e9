/**
 * `@litecell/client`: the typed client of the litecell HTTP API, on `fetch` alone (no Node
 * built-ins), for the CLI, the dashboard, scripts and tests. Node resolves `node.ts` instead:
 * the same, sent over `node:http`.
 */
export { LitecellClient } from './litecell-client.js'
export type { ApiReply, LitecellClientOptions, RequestOptions } from './litecell-client.js'
export { bufferedBody } from './buffered-body.js'
export type { Fetch } from './default-fetch.js'
export { LitecellError, TRANSIENT_CODES, isLitecellError, isTransient } from './litecell-error.js'
export type { ClientErrorCode } from './litecell-error.js'
export { apiPath, withQuery } from './api-path.js'
export type { QueryParams } from './api-path.js'
export { retrying } from './retry.js'
export { STUCK_CODES, retryDelayMs } from './response-retry.js'
export type { ResponseRetryOptions } from './response-retry.js'
export { readRunEvents, watchRunStatus } from './run-events.js'
export type { RunStatusChange, RunStatusSource, RunStreamEvent } from './run-events.js'
export type { RetryOptions } from './retry.js'
export { MAX_WAIT_MS, isBusy, waitForRun } from './run-waiter.js'
export type { WaitOutcome } from './run-waiter.js'
export {
  FINISHED_STATUSES,
  MAX_STATUS_RUN_IDS,
  RUN_STATUSES,
  TENANT_STATES,
  isFinished,
} from './api-types.js'
export type {
  AppDescription,
  Caller,
  CreatedTenant,
  CreateTenantRequest,
  Durability,
  FleetSummary,
  ForkTenantRequest,
  LifecycleFigures,
  JsonValue,
  ListRunsQuery,
  QueryResult,
  RestorePoints,
  RunDetail,
  RunError,
  RunPage,
  RunStatus,
  RunStatusEntry,
  RunStatusEvent,
  RunSummary,
  RunWait,
  StartedRun,
  StartedRuns,
  StartRunRequest,
  StepDetail,
  StepKind,
  StepStatus,
  StepView,
  TenantDetail,
  TenantPage,
  TenantState,
  TenantView,
  UpdateTenantRequest,
  WorkerView,
} from './api-types.js'
export type {
  BackfillRequest,
  CreateScheduleRequest,
  ScheduleCatchUp,
  ScheduleOverlap,
  ScheduleView,
} from './schedule-types.js'
