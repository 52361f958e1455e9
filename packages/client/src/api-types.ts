/**
 * The request and response bodies of the litecell HTTP API (`../shared/API.md`, and the
 * README's API section). Declared here, not imported from the server packages: this package
 * is a client of the HTTP contract only, and loads in a browser. Fields a server may not send
 * yet (added by later versions) are optional.
 */

/** A JSON value as the API takes and returns it. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** Tenant states, as the API spells them. */
export type TenantState = 'hibernated' | 'starting' | 'active' | 'stopping' | 'failed' | 'deleting'
/** Every tenant state, busiest first (for lists and filters). */
export const TENANT_STATES: readonly TenantState[] = [
  'active',
  'starting',
  'stopping',
  'hibernated',
  'failed',
  'deleting',
]

/** Run statuses, as the API spells them. */
export type RunStatus =
  'pending' | 'running' | 'sleeping' | 'waiting' | 'succeeded' | 'failed' | 'cancelled'
/** Every run status, in lifecycle order. */
export const RUN_STATUSES: readonly RunStatus[] = [
  'pending',
  'running',
  'sleeping',
  'waiting',
  'succeeded',
  'failed',
  'cancelled',
]

/** Statuses a run never leaves (until resumed). */
export const FINISHED_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled']

/** Whether a run status is final. */
export function isFinished(status: string): boolean {
  return (FINISHED_STATUSES as readonly string[]).includes(status)
}

/**
 * What an acknowledgement means: `local`, committed on the worker's disk; `replicated`,
 * confirmed in S3 (a final status shows only once it is in S3 too). Answers say which in the
 * `Litecell-Durability` header.
 */
export type Durability = 'local' | 'replicated'

/** Who a token belongs to (`GET /v1/whoami`). */
export type Caller = { kind: 'admin' } | { kind: 'tenant'; tenantId: string }

/** A tenant's worker while it has one. */
export interface WorkerView {
  pid: number | null
  epoch: number
  startedAt: string | null
  /** Resident set size as of its last heartbeat; null before the first. */
  rssBytes?: number | null
}

/** `GET /v1/tenants` entries and the body of hibernate/wake. */
export interface TenantView {
  id: string
  app: string
  state: TenantState
  labels: Record<string, string>
  durability?: Durability
  createdAt: string
  lastActiveAt: string | null
  nextWakeAt: string | null
  failureReason?: string
  worker?: WorkerView
}

/** `GET /v1/tenants?limit=&cursor=&state=&label.<k>=`: a page of tenants, oldest first. */
export interface TenantPage {
  tenants: TenantView[]
  nextCursor?: string | null
  total?: number
}

/** What a tenant's replica can restore (`replica` of `GET /v1/tenants/:id`). */
export interface RestorePoints {
  generations: {
    id: string
    createdAt: string
    updatedAt: string
    snapshots: { index: number; createdAt: string; sizeBytes: number }[]
  }[]
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
  /** @default the server's (`local` with local workers, `replicated` with pods) */
  durability?: Durability
}

/** `PATCH /v1/tenants/:id`: what to change. */
export interface UpdateTenantRequest {
  labels?: Record<string, string>
  durability?: Durability
}

/** `POST /v1/tenants/:id/fork`: the new tenant's id, and the time to fork at (default: now). */
export interface ForkTenantRequest {
  id: string
  /** ISO 8601 time. */
  at?: string
}

/** Count and median duration of one kind of lifecycle event. */
export interface LifecycleFigures {
  count: number
  p50Ms: number | null
}

/** `GET /v1/fleet`: the fleet at a glance. */
export interface FleetSummary {
  activeWorkers: number
  maxWorkers: number
  tenants: Partial<Record<TenantState, number>>
  lastHour: { wakes: LifecycleFigures; hibernations: LifecycleFigures }
}

/** One run to start (`POST …/runs`, and each entry of `…/runs/batch`). */
export interface StartRunRequest {
  workflow: string
  input?: JsonValue
  /** Same key, same run: makes a submission safe to retry. */
  idempotencyKey?: string
  queue?: string
  /** Overrides the tenant's durability for this request. */
  durability?: Durability
  /** Admission order in its queue: lower first (−1,000,000 to 1,000,000). @default 0 */
  priority?: number
  /** While a run with this id is unfinished, another start with it is 409 `DUPLICATE_RUN`. */
  deduplicationId?: string
  /** The partition of a queue declaring `partitionConcurrency`. */
  partitionKey?: string
  /** Attributes, filterable with `tag.<key>=<value>` (at most 16; keys `[A-Za-z0-9_.:-]`, 1–64; values 0–256). */
  tags?: Record<string, string>
  /** Cancelled (with its children) if not ended this many ms after the start. */
  timeoutMs?: number
  /** A burst of starts with one key becomes one run with the last input, `delayMs` after the last. */
  debounce?: { key: string; delayMs: number }
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
  /** Runs having all these tags (`tag.<key>=<value>` each). */
  tags?: Record<string, string>
  limit?: number
  cursor?: string
}

/** A run in `GET /v1/tenants/:id/runs`. */
export interface RunSummary {
  runId: string
  workflow: string
  status: RunStatus
  queue?: string | null
  parentRunId?: string
  /** Absent when 0. */
  priority?: number
  partitionKey?: string
  deduplicationId?: string
  debounceKey?: string
  tags?: Record<string, string>
  /** When the run is cancelled unless it ended (from its `timeoutMs`). */
  deadlineAt?: string
  /** A child its parent's cancellation does not reach. */
  detached?: true
  createdAt: string
  updatedAt: string
}

/** One answer of `POST …/runs/status`: the run's status, or `status: null` for an unknown id. */
export type RunStatusEntry =
  | { runId: string; status: RunStatus; updatedAt: string }
  | { runId: string; status: null; notFound: true }

/** `POST …/runs/status`: at most this many ids per request. */
export const MAX_STATUS_RUN_IDS = 1_000

/** `GET …/runs`: newest first. */
export interface RunPage {
  runs: RunSummary[]
  nextCursor: string | null
}

/** What a recorded step is. */
export type StepKind =
  | 'step'
  | 'transaction'
  | 'sleep'
  | 'event'
  | 'child'
  | 'result'
  | 'now'
  | 'random'
  | 'uuid'
  /** A `ctx.patched` marker: the run took the patched branch here. */
  | 'patch'
/** Where a recorded step stands. */
export type StepStatus = 'running' | 'retrying' | 'sleeping' | 'waiting' | 'succeeded' | 'failed'

/** One recorded step of a run. */
export interface StepView {
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

/** Why a run failed. */
export interface RunError {
  name?: string
  message?: string
  code?: string
}

/** What a `sleeping` or `waiting` run waits for. Times are ISO strings. */
export type RunWait =
  | { kind: 'timer'; until: string | null }
  | { kind: 'retry'; step: string; at: string | null }
  | { kind: 'event'; event: string; timeoutAt: string | null }
  | { kind: 'child'; workflow: string; childRunId: string | null }

/** `GET /v1/tenants/:id/runs/:runId` (and `…/result`, cancel, resume). */
export interface RunDetail extends RunSummary {
  input: JsonValue
  output: JsonValue
  error: RunError | null
  /** The app version the run started under (null for runs of older engines). */
  appVersion: string | null
  steps: StepView[]
  /** While `sleeping` or `waiting`: what for. */
  waitingFor?: RunWait
}

/** `GET /v1/tenants/:id/runs/:runId/steps/:seq`: one step with its recorded result. */
export interface StepDetail extends StepView {
  output: JsonValue
  error: RunError | null
}

/** One event of `GET /v1/tenants/:id/runs/stream`. */
export interface RunStatusEvent {
  runId: string
  workflow: string
  status: RunStatus
  at: string
}

/** `POST /v1/tenants/:id/query`. */
export interface QueryResult {
  columns: string[]
  rows: Record<string, JsonValue>[]
  truncated?: boolean
  maxRows?: number
}

/** `GET /v1/tenants/:id/workflows`: what the tenant's app offers, each list sorted by name. */
export interface AppDescription {
  workflows: {
    name: string
    /** Whether starts are checked against an input schema (a bad input is a 400). */
    validatesInput: boolean
    /** The input's JSON Schema when the app's schema library can express it. */
    inputSchema: Record<string, JsonValue> | null
  }[]
  queues: {
    name: string
    concurrency: number
    rateLimit: { limit: number; periodMs: number } | null
  }[]
  /** Schedules the app declares. */
  schedules: { name: string; workflow: string; cron: string; timezone: string | null }[]
}
