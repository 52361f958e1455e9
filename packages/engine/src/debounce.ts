import type { Database, Statement } from './connection.js'
import type { RunRow } from './run-store.js'

/**
 * Debounced starts. A debounced start of workflow W with key K either creates a run that is
 * `sleeping` until `now + delayMs` (a durable timer like any sleep, so a hibernated tenant
 * wakes for it) with `debounce_key = K`, or, while such a run of W and K has not begun to
 * execute, is absorbed by it: the run takes the start's input and its start moves to
 * `now + delayMs`. So a burst of starts closer together than `delayMs` becomes one run with
 * the last input, starting `delayMs` after the last start; every start of the burst answers
 * with that run's id.
 *
 * "Has not begun" is read from the database, not memory: the run is still `sleeping` and has
 * no journal record yet (once it executed, any later sleep or wait of its own has recorded a
 * call first). The partial index `lc_runs_debounce` holds only `sleeping` runs with a key, so
 * the lookup stays one short index range however many runs a key had before.
 */
export class DebounceStore {
  readonly #collecting: Statement
  readonly #absorb: Statement

  constructor(db: Database) {
    this.#collecting = db.prepare(
      `SELECT * FROM lc_runs AS r INDEXED BY lc_runs_debounce
       WHERE r.workflow = ? AND r.debounce_key = ? AND r.debounce_key IS NOT NULL AND r.status = 'sleeping'
         AND NOT EXISTS (SELECT 1 FROM lc_steps AS s WHERE s.run_id = r.run_id)
       ORDER BY r.id DESC LIMIT 1`,
    )
    this.#absorb = db.prepare(
      `UPDATE lc_runs SET input = ?, wake_at = ?, deadline_at = ?, updated_at = ?
       WHERE run_id = ? AND status = 'sleeping' RETURNING *`,
    )
  }

  /** The run of `workflow` still collecting the starts of `key`, if any. */
  collecting(workflow: string, key: string): RunRow | undefined {
    return this.#collecting.get(workflow, key) as RunRow | undefined
  }

  /**
   * Gives the collecting run `runId` the input of a later start and moves its start (and its
   * deadline, which counts from its start) to `startAtMs`.
   */
  absorb(run: RunRow, input: string, startAtMs: number, nowMs: number): RunRow {
    const deadlineAt = run.timeout_ms === null ? null : startAtMs + run.timeout_ms
    return this.#absorb.get(input, startAtMs, deadlineAt, nowMs, run.run_id) as RunRow
  }
}
