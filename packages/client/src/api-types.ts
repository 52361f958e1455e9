/**
 * The request and response bodies of the litecell HTTP API (`../shared/API.md`). Declared
 * here, not imported from the server packages: this package is a client of the HTTP contract
 * only, and loads in a browser.
 */

/** A JSON value as the API takes and returns it. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** Tenant states, as the API spells them. */
export type TenantState = 'hibernated' | 'starting' | 'active' | 'stopping' | 'failed'

/** Run statuses, as the API spells them. */
export type RunStatus =
  'pending' | 'running' | 'sleeping' | 'waiting' | 'succeeded' | 'failed' | 'cancelled'

/** Statuses a run never leaves (until resumed). */
export const FINISHED_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled']

/** Whether a run status is final. */
export function isFinished(status: string): boolean {
  return (FINISHED_STATUSES as readonly string[]).includes(status)
}

/** `GET /v1/tenants` entries and the body of hibernate/wake. */
export interface TenantView {
  id: string
  app: string
  state: TenantState
  labels: Record<string, string>
  createdAt: string
  lastActiveAt: string | null
  nextWakeAt: string | null
  failureReason?: string
  worker?: { pid: number | null; epoch: number; startedAt: string | null }
}

/** What a tenant's replica can restore (`replica` of `GET /v1/tenants/:id`). */
export interface RestorePoints {
  generations: { id: string; createdAt: string; updatedAt: string; snapshots: unknown[] }[]
  earliestAt: string | null
  latestAt: string | null
}

/** `GET /v1/tenants/:id`: the tenant plus its restore points (or why they could not be listed). */
export interface TenantDetail extends TenantView {
  replica: RestorePoints | { error: string } | null
}

/** `POST /v1/tenants` and tenant fork: the token is shown this once. */
export interface CreatedTenant {
  id: string
  token: string
  state: TenantState
}

/** `POST /v1/tenants`. */
export interface CreateTenantRequest {
  id?: string
  app?: string
  labels?: Record<string, string>
}

/** `POST /v1/tenants/:id/fork`: the new tenant's id, and the time to fork at (default: now). */
export interface ForkTenantRequest {
  id: string
  /** ISO 8601 time. */
  at?: string
}

/** One run to start (`POST …/runs`, and each entry of `…/runs/batch`). */
export interface StartRunRequest {
  workflow: string
  input?: JsonValue
  /** Same key, same run: makes a submission safe to retry. */
  idempotencyKey?: string
  queue?: string
}

/** `POST …/runs`. */
export interface StartedRun {
  runId: string
  status: RunStatus
}

/** `POST …/runs/batch`. */
export interface StartedRuns {
  runIds: string[]
}

/** `GET …/runs` query. */
export interface ListRunsQuery {
  status?: RunStatus
  workflow?: string
  limit?: number
  cursor?: string
}

/** `GET …/runs`: newest first. */
export interface RunPage {
  runs: RunSummary[]
  nextCursor: string | null
}

/** A run in `GET /v1/tenants/:id/runs`. */
export interface RunSummary {
  runId: string
  workflow: string
  status: RunStatus
  queue?: string | null
  parentRunId?: string
  createdAt: string
  updatedAt: string
}

/** One recorded step of a run. */
export interface StepView {
  seq: number
  name: string
  kind?: string
  status: string
  attempts: number
  startedAt: string | null
  endedAt: string | null
}

/** `GET /v1/tenants/:id/runs/:runId` (and `…/result`, cancel, resume). */
export interface RunDetail extends RunSummary {
  input: JsonValue
  output: JsonValue
  error: { message?: string; name?: string; code?: string } | null
  steps: StepView[]
}

/** `POST /v1/tenants/:id/query`. */
export interface QueryResult {
  columns: string[]
  rows: Record<string, JsonValue>[]
  truncated: boolean
}
