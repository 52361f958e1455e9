import { randomUUID } from 'node:crypto'
import type { ApiClient, ApiResponse } from '../../../test/support/api-client.js'
import { delay } from './stats.js'

/** First pause after a 429; it doubles up to {@link MAX_BACKOFF_MS}, with jitter. */
const FIRST_BACKOFF_MS = 100
const MAX_BACKOFF_MS = 2_000
/** Longest a request keeps being retried. */
const RETRY_DEADLINE_MS = 300_000
/** Long-poll per request while waiting for runs. */
const LONG_POLL_MS = 5_000
/** The query route answers at most 1,000 rows. */
const QUERY_SLICE = 1_000

const ENDED = new Set(['succeeded', 'failed', 'cancelled'])

/** A run as the bench checks it (read from the engine's documented `lc_runs` table). */
export interface RunRow {
  readonly run_id: string
  readonly status: string
  /** Epoch ms, engine clock (this machine). */
  readonly created_at: number
  readonly updated_at: number
}

/** Counts what the client had to absorb. */
export class RetryCounter {
  overCapacity = 0
  /** 503 WORKER_START_FAILED: a wake that failed (retried, and reported by the bench). */
  startFailures = 0
  networkErrors = 0
}

/**
 * Sends a request, retrying a 429 (over capacity), a failed wake (503 WORKER_START_FAILED, as
 * a client would; the bench counts and reports them) and network errors, with exponential
 * backoff and jitter. Only for requests that are safe to resend (reads, submissions with keys).
 */
export async function withRetry<T>(
  send: () => Promise<ApiResponse<T>>,
  counter?: RetryCounter,
): Promise<ApiResponse<T>> {
  const deadline = Date.now() + RETRY_DEADLINE_MS
  let backoffMs = FIRST_BACKOFF_MS
  for (;;) {
    let response: ApiResponse<T> | undefined
    try {
      response = await send()
    } catch (err) {
      if (Date.now() > deadline) throw err
      if (counter) counter.networkErrors += 1
    }
    const isStartFailure = response?.status === 503 && (response.body as { error?: { code?: string } })?.error?.code === 'WORKER_START_FAILED'
    if (response && response.status !== 429 && !isStartFailure) return response
    if (response && counter) {
      if (isStartFailure) counter.startFailures += 1
      else counter.overCapacity += 1
    }
    if (Date.now() > deadline) return response!
    await delay(backoffMs * (0.5 + Math.random()))
    backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2)
  }
}

/** Starts runs in one batch call (each with an idempotency key, so a retry is safe); returns their ids. */
export async function submitBatch(
  client: ApiClient,
  tenantId: string,
  runs: readonly { workflow: string; input: unknown }[],
  counter?: RetryCounter,
): Promise<string[]> {
  const body = { runs: runs.map((run) => ({ ...run, idempotencyKey: `bench-${randomUUID()}` })) }
  const response = await withRetry(() => client.post(`/v1/tenants/${tenantId}/runs/batch`, body), counter)
  if (response.status !== 202) {
    throw new Error(`submit ${runs.length} runs to ${tenantId}: ${response.status} ${JSON.stringify(response.body)}`)
  }
  return response.body.runIds as string[]
}

/** Runs read-only SQL in a tenant and returns its rows. */
export async function queryTenant<T>(client: ApiClient, tenantId: string, sql: string, args: unknown[] = []): Promise<T[]> {
  const response = await withRetry(() => client.post(`/v1/tenants/${tenantId}/query`, { sql, args }))
  if (response.status !== 200) throw new Error(`query ${tenantId}: ${response.status} ${JSON.stringify(response.body)}`)
  return response.body.rows as T[]
}

/** The runs' rows, in slices the query route can answer. */
export async function readRuns(client: ApiClient, tenantId: string, runIds: readonly string[]): Promise<RunRow[]> {
  const rows: RunRow[] = []
  for (let i = 0; i < runIds.length; i += QUERY_SLICE) {
    const slice = JSON.stringify(runIds.slice(i, i + QUERY_SLICE))
    rows.push(
      ...(await queryTenant<RunRow>(
        client,
        tenantId,
        'SELECT run_id, status, created_at, updated_at FROM lc_runs WHERE run_id IN (SELECT value FROM json_each(?))',
        [slice],
      )),
    )
  }
  return rows
}

/**
 * Waits until every listed run has ended and returns their rows. Between status queries it
 * long-polls one unfinished run, so a request is in flight the whole time: the fleet never
 * counts the tenant idle (evicting it) while the bench still waits on it.
 */
export async function waitForRunsEnded(
  client: ApiClient,
  tenantId: string,
  runIds: readonly string[],
  timeoutMs: number,
): Promise<RunRow[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const rows = await readRuns(client, tenantId, runIds)
    const open = runIds.filter((id) => !ENDED.has(rows.find((row) => row.run_id === id)?.status ?? ''))
    if (open.length === 0) return rows
    if (Date.now() > deadline) throw new Error(`${open.length} of ${runIds.length} runs of ${tenantId} did not end within ${timeoutMs} ms`)
    const waitMs = Math.max(0, Math.min(LONG_POLL_MS, deadline - Date.now()))
    await withRetry(() => client.get(`/v1/tenants/${tenantId}/runs/${open[open.length - 1]}/result?waitMs=${waitMs}`))
  }
}

/** Runs of the tenant by status (`{succeeded: 2000}`). */
export async function statusCounts(client: ApiClient, tenantId: string): Promise<Record<string, number>> {
  const rows = await queryTenant<{ status: string; n: number }>(
    client,
    tenantId,
    'SELECT status, count(*) AS n FROM lc_runs GROUP BY status',
  )
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]))
}
