import { ApiError, apiPath, type ApiClient } from './api-client.js'
import { isFinished, type RunDetail } from './api-types.js'

/** Longest long-poll the API accepts (`result?waitMs=`). */
export const MAX_WAIT_MS = 120_000
/** Retries of a long-poll answered 429/503 (worker restarting, over capacity). */
const TRANSIENT_RETRIES = 20
const TRANSIENT_BACKOFF_MS = 500

/** A run after waiting: ended, or still going when the time ran out. */
export interface WaitOutcome {
  readonly run: RunDetail
  readonly timedOut: boolean
}

/**
 * Long-polls `GET …/runs/:runId/result?waitMs=` until the run ends or `timeoutMs` passes
 * (forever without one), in polls of at most {@link MAX_WAIT_MS}.
 */
export async function waitForRun(
  client: ApiClient,
  tenantId: string,
  runId: string,
  options: { readonly timeoutMs?: number | undefined; readonly pollMs?: number } = {},
): Promise<WaitOutcome> {
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs
  for (;;) {
    const waitMs = Math.min(options.pollMs ?? MAX_WAIT_MS, Math.max(0, deadline - Date.now()))
    const run = await withRetries(() =>
      client.get<RunDetail>(apiPath('tenants', tenantId, 'runs', runId, 'result'), { waitMs }),
    )
    if (isFinished(run.status)) return { run, timedOut: false }
    if (Date.now() >= deadline) return { run, timedOut: true }
  }
}

/**
 * Calls `call`, retrying a few times while the API answers 429 or 503 (a worker restarting
 * or over capacity). `TENANT_FAILED` is not retried: it waits for an admin's wake.
 */
export async function withRetries<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call()
    } catch (err) {
      const transient =
        err instanceof ApiError &&
        (err.status === 429 || err.status === 503) &&
        err.code !== 'TENANT_FAILED'
      if (!transient || attempt >= TRANSIENT_RETRIES) throw err
      await new Promise((resolve) => setTimeout(resolve, TRANSIENT_BACKOFF_MS))
    }
  }
}
