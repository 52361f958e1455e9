import type { Database, Statement } from './connection.js'
import type { EngineErrorCode } from './engine-error.js'

/** An unfinished run past its deadline. */
export interface ExpiredRun {
  run_id: string
  timeout_ms: number | null
  deadline_at: number
}

// The same terms as the partial index lc_runs_deadline, which the queries name: only
// unfinished runs with a deadline are in it.
const IN_INDEX = "deadline_at IS NOT NULL AND status NOT IN ('succeeded','failed','cancelled')"

/**
 * Run deadlines (`timeoutMs`). A run's deadline is `lc_runs.deadline_at`, set when it is
 * inserted (start time + timeout; for a debounced run its delayed start + timeout) and anew
 * when it is resumed, so it is as durable as the run: the engine's timer is armed for the
 * earliest one, `Engine.nextWakeAt` includes it (a hibernated tenant wakes for it), and an
 * engine that opens cancels every run already past it before anything executes.
 */
export class RunDeadlines {
  readonly #expired: Statement
  readonly #earliest: Statement

  constructor(db: Database) {
    this.#expired = db.prepare(
      `SELECT run_id, timeout_ms, deadline_at FROM lc_runs INDEXED BY lc_runs_deadline
       WHERE ${IN_INDEX} AND deadline_at <= ? ORDER BY deadline_at`,
    )
    this.#earliest = db.prepare(
      `SELECT min(deadline_at) AS at FROM lc_runs INDEXED BY lc_runs_deadline
       WHERE ${IN_INDEX} AND deadline_at > ?`,
    )
  }

  /** Unfinished runs whose deadline is at or before `nowMs`, earliest first. */
  expired(nowMs: number): ExpiredRun[] {
    return this.#expired.all(nowMs) as ExpiredRun[]
  }

  /** The earliest deadline of an unfinished run after `afterMs`, or `null`. */
  earliest(afterMs = Number.MIN_SAFE_INTEGER): number | null {
    return (this.#earliest.get(afterMs) as { at: number | null }).at
  }
}

/** The recorded error of a run cancelled at its deadline (`code: 'RUN_TIMEOUT'`). */
export function timeoutErrorText(run: ExpiredRun): string {
  const code: EngineErrorCode = 'RUN_TIMEOUT'
  return JSON.stringify({
    name: 'Cancelled',
    code,
    message: `run ${run.run_id} timed out: it had not ended ${run.timeout_ms ?? '?'} ms after its start (deadline ${new Date(run.deadline_at).toISOString()}), so it was cancelled with its children; resume it to give it another ${run.timeout_ms ?? '?'} ms`,
  })
}

/** The recorded error of a run cancelled through the API. */
export const CANCELLED_ERROR_TEXT = '{"name":"Cancelled","message":"run cancelled"}'
