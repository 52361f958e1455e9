import { randomUUID } from 'node:crypto'
import {
  isLitecellError,
  isTransient,
  retrying,
  type JsonValue,
  type LitecellClient,
} from '@litecell/client'

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

  count(err: unknown): void {
    if (!isLitecellError(err)) return
    if (err.code === 'WORKER_START_FAILED') this.startFailures += 1
    else if (err.status === 0) this.networkErrors += 1
    else this.overCapacity += 1
  }
}

/**
 * Sends a request, retrying what a client would (a 429, a worker being replaced, a failed wake
 * (503 WORKER_START_FAILED; the bench counts and reports them) and network errors) with
 * exponential backoff and jitter. Only for requests that are safe to resend (reads,
 * submissions with keys).
 */
export function withRetry<T>(send: () => Promise<T>, counter?: RetryCounter): Promise<T> {
  return retrying(send, {
    forMs: RETRY_DEADLINE_MS,
    isRetryable: (err) =>
      isTransient(err) || (isLitecellError(err) && err.code === 'WORKER_START_FAILED'),
    onRetry: (err) => counter?.count(err),
  })
}

/** Starts runs in one batch call (each with an idempotency key, so a retry is safe); returns their ids. */
export async function submitBatch(
  client: LitecellClient,
  tenantId: string,
  runs: readonly { workflow: string; input: unknown }[],
  counter?: RetryCounter,
): Promise<string[]> {
  const keyed = runs.map((run) => ({ ...run, input: run.input as JsonValue, idempotencyKey: `bench-${randomUUID()}` }))
  return (await withRetry(() => client.startRuns(tenantId, keyed), counter)).runIds
}

/** Runs read-only SQL in a tenant and returns its rows. */
export async function queryTenant<T>(client: LitecellClient, tenantId: string, sql: string, args: unknown[] = []): Promise<T[]> {
  const result = await withRetry(() => client.query(tenantId, sql, args as JsonValue[]))
  return result.rows as T[]
}

/** The runs' rows, in slices the query route can answer. */
export async function readRuns(client: LitecellClient, tenantId: string, runIds: readonly string[]): Promise<RunRow[]> {
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
  client: LitecellClient,
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
    await withRetry(() => client.runResult(tenantId, open[open.length - 1]!, { waitMs }))
  }
}

/** Runs of the tenant by status (`{succeeded: 2000}`). */
export async function statusCounts(client: LitecellClient, tenantId: string): Promise<Record<string, number>> {
  const rows = await queryTenant<{ status: string; n: number }>(
    client,
    tenantId,
    'SELECT status, count(*) AS n FROM lc_runs GROUP BY status',
  )
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]))
}
