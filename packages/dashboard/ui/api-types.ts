/**
 * The shapes of the public HTTP API as the dashboard reads them: `@litecell/client`'s types,
 * under the names the dashboard's components use.
 */
export { RUN_STATUSES, TENANT_STATES } from '@litecell/client'
export type {
  Caller,
  CreatedTenant,
  FleetSummary,
  JsonValue,
  LifecycleFigures,
  QueryResult,
  RestorePoints,
  RunDetail,
  RunError,
  RunPage,
  RunStatus,
  RunStatusEvent,
  RunSummary,
  StepDetail,
  StepKind,
  StepStatus,
  StepView as StepRecord,
  TenantDetail,
  TenantPage,
  TenantState,
  TenantView,
  WorkerView,
} from '@litecell/client'
