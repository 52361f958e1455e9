/**
 * The response bodies the CLI reads, as `../shared/API.md` specifies them. Declared here, not
 * imported from the server packages: the CLI is a client of the HTTP contract only.
 */
import type { JsonValue } from './json-input.js'

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
