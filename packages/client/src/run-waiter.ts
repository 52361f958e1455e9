import { isFinished, type RunDetail } from './api-types.js'
import type { LitecellClient } from './litecell-client.js'
import { isLitecellError } from './litecell-error.js'
import { STUCK_CODES } from './response-retry.js'
import { retrying } from './retry.js'

/** Longest long-poll the API accepts (`result?waitMs=`). */
export const MAX_WAIT_MS = 120_000
/** How long a long-poll answered 429/503 (a worker restarting, over capacity) is retried. */
const TRANSIENT_RETRY_MS = 10_000

/** A run after waiting: ended, or still going when the time ran out. */
export interface WaitOutcome {
  readonly run: RunDetail
  readonly timedOut: boolean
}

/**
 * Long-polls `GET …/runs/:runId/result?waitMs=` until the run ends or `timeoutMs` passes
 * (forever without one), in polls of at most {@link MAX_WAIT_MS}. A poll answered 429 or 503
 * is retried for a while, except `TENANT_FAILED`, which waits for an admin's wake.
 */
export async function waitForRun(
  client: LitecellClient,
  tenantId: string,
  runId: string,
  options: { readonly timeoutMs?: number | undefined; readonly pollMs?: number } = {},
): Promise<WaitOutcome> {
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs
  for (;;) {
    const waitMs = Math.min(options.pollMs ?? MAX_WAIT_MS, Math.max(0, deadline - Date.now()))
    const run = await retrying(() => client.runResult(tenantId, runId, { waitMs }), {
      forMs: TRANSIENT_RETRY_MS,
      initialDelayMs: 250,
      maxDelayMs: 1_000,
      isRetryable: isBusy,
    })
    if (isFinished(run.status)) return { run, timedOut: false }
    if (Date.now() >= deadline) return { run, timedOut: true }
  }
}

/** 429 or 503 from a tenant that is not failed: a worker restarting, a full fleet. */
export function isBusy(err: unknown): boolean {
  return (
    isLitecellError(err) && (err.status === 429 || err.status === 503) && !STUCK_CODES.has(err.code)
  )
}
