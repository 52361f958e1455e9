/**
 * The shapes of the public HTTP API as the dashboard reads them (`README.md`, API section).
 * Fields a server may not send yet (added by later versions) are optional.
 */

export type TenantState = 'hibernated' | 'starting' | 'active' | 'stopping' | 'failed' | 'deleting'
export const TENANT_STATES: readonly TenantState[] = ['active', 'starting', 'stopping', 'hibernated', 'failed', 'deleting']

export type RunStatus = 'pending' | 'running' | 'sleeping' | 'waiting' | 'succeeded' | 'failed' | 'cancelled'
export const RUN_STATUSES: readonly RunStatus[] = ['pending', 'running', 'sleeping', 'waiting', 'succeeded', 'failed', 'cancelled']

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** Who the signed-in token belongs to (`GET /v1/whoami`). */
export type Caller = { kind: 'admin' } | { kind: 'tenant'; tenantId: string }

export interface WorkerView {
  pid: number | null
  epoch: number
  startedAt: string | null
  rssBytes?: number | null
}

export interface TenantView {
  id: string
  app: string
  state: TenantState
  labels: Record<string, string>
  durability?: string
  createdAt: string
  lastActiveAt: string | null
  nextWakeAt: string | null
  failureReason?: string
  worker?: WorkerView
}

export interface RestorePoints {
  generations: { id: string; createdAt: string; updatedAt: string; snapshots: { index: number; createdAt: string; sizeBytes: number }[] }[]
  earliestAt: string | null
  latestAt: string | null
}

export interface TenantDetail extends TenantView {
  replica: RestorePoints | { error: string }
}

export interface TenantPage {
  tenants: TenantView[]
  nextCursor?: string | null
  total?: number
}

export interface CreatedTenant {
  id: string
  token: string
  state: TenantState
}

export interface LifecycleFigures {
  count: number
  p50Ms: number | null
}

/** `GET /v1/fleet`. */
export interface FleetSummary {
  activeWorkers: number
  maxWorkers: number
  tenants: Partial<Record<TenantState, number>>
  lastHour: { wakes: LifecycleFigures; hibernations: LifecycleFigures }
}

export interface RunSummary {
  runId: string
  workflow: string
  status: RunStatus
  queue: string | null
  parentRunId?: string
  createdAt: string
  updatedAt: string
}

export interface RunPage {
  runs: RunSummary[]
  nextCursor: string | null
}

export type StepKind = 'step' | 'transaction' | 'sleep' | 'event' | 'child' | 'result' | 'now' | 'random' | 'uuid'
export type StepStatus = 'running' | 'retrying' | 'sleeping' | 'waiting' | 'succeeded' | 'failed'

export interface StepRecord {
  seq: number
  name: string
  kind: StepKind
  status: StepStatus
  attempts: number
  startedAt: string
  endedAt: string | null
  /** The child run a `child` or `result` step refers to. */
  childRunId?: string
}

export interface RunError {
  name: string
  message: string
  code?: string
}

export interface RunDetail extends RunSummary {
  input: JsonValue
  output: JsonValue
  error: RunError | null
  steps: StepRecord[]
}

/** `GET /v1/tenants/:id/runs/:runId/steps/:seq`. */
export interface StepDetail extends StepRecord {
  output: JsonValue
  error: RunError | null
}

export interface QueryResult {
  columns: string[]
  rows: Record<string, JsonValue>[]
  truncated?: boolean
  maxRows?: number
}

/** One event of `GET /v1/tenants/:id/runs/stream`. */
export interface RunStatusEvent {
  runId: string
  workflow: string
  status: RunStatus
  at: string
}
