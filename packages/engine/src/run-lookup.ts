import type { Database, Statement } from './connection.js'
import { EngineError } from './engine-error.js'
import type { StepRow } from './journal.js'
import { fromJsonText } from './json.js'
import type { RunStatus } from './run.js'

/** Fewest characters a run id prefix must have (a UUIDv7's first 8 are its creation time). */
export const MIN_RUN_ID_PREFIX = 4

/** What a `sleeping` or `waiting` run waits for (`RunDetail.waitingFor`). Times are ISO strings. */
export type RunWait =
  /** A durable `ctx.sleep`, until `until`. */
  | { kind: 'timer'; until: string | null }
  /** A step's next attempt after a failure, at `at`. */
  | { kind: 'retry'; step: string; at: string | null }
  /** `ctx.waitForEvent(event)`, given up at `timeoutAt` (null: no timeout). */
  | { kind: 'event'; event: string; timeoutAt: string | null }
  /** A child run's result (`ChildHandle.result()`). */
  | { kind: 'child'; workflow: string; childRunId: string | null }

/**
 * Run lookups for people: a run id given by a unique prefix (as `git` takes commit ids), and
 * what a parked run waits for, read from its journal.
 */
export class RunLookup {
  readonly #exact: Statement
  readonly #prefix: Statement
  readonly #status: Statement

  constructor(db: Database) {
    this.#exact = db.prepare('SELECT run_id FROM lc_runs WHERE run_id = ?')
    // A range on the unique index of run_id, not LIKE: two rows at most, however many runs.
    this.#prefix = db.prepare('SELECT run_id FROM lc_runs WHERE run_id >= ? AND run_id < ? ORDER BY run_id LIMIT 2')
    this.#status = db.prepare('SELECT status FROM lc_runs WHERE run_id = ?')
  }

  /**
   * The run id `text` names: itself if a run has that id, else the one run whose id starts with
   * it (at least {@link MIN_RUN_ID_PREFIX} characters).
   *
   * @throws {EngineError} `RUN_NOT_FOUND` (no such run or prefix), `AMBIGUOUS_RUN_ID` (several).
   */
  resolve(text: string): string {
    if (typeof text !== 'string' || text === '') {
      throw new EngineError('RUN_NOT_FOUND', `get run ${String(text)}: no such run`)
    }
    if (this.#exact.get(text) !== undefined || text.length < MIN_RUN_ID_PREFIX) return text
    const rows = this.#prefix.all(text, `${text}\uffff`) as { run_id: string }[]
    if (rows.length === 1) return rows[0]!.run_id
    if (rows.length === 0) {
      throw new EngineError('RUN_NOT_FOUND', `get run ${text}: no run has this id or an id starting with it`)
    }
    throw new EngineError(
      'AMBIGUOUS_RUN_ID',
      `run id prefix \`${text}\` matches more than one run (${rows.map((row) => row.run_id).join(', ')}, …); give more of the id`,
    )
  }

  /**
   * What a run in `status` waits for, from its newest parked journal entry and its wake time;
   * undefined unless it is `sleeping` or `waiting`.
   */
  waitOf(status: RunStatus, wakeAtMs: number | null, steps: readonly StepRow[], iso: (ms: number) => string): RunWait | undefined {
    if (status !== 'sleeping' && status !== 'waiting') return undefined
    const at = wakeAtMs === null ? null : iso(wakeAtMs)
    for (let i = steps.length - 1; i >= 0; i -= 1) {
      const step = steps[i]!
      if (step.status === 'retrying') return { kind: 'retry', step: step.name, at }
      if (step.kind === 'sleep' && step.status === 'sleeping') return { kind: 'timer', until: at }
      if (step.kind === 'event' && step.status === 'waiting') return { kind: 'event', event: step.name, timeoutAt: at }
      if (step.kind === 'result' && step.status === 'waiting') {
        return { kind: 'child', workflow: step.name, childRunId: this.#waitedChild(steps, i, step.name) }
      }
    }
    return undefined
  }

  /**
   * The child a `result` entry at `index` waits for: the journal records the child's workflow
   * there and its id at the `child` entry that started it, so take the newest unfinished
   * child of that workflow started before it.
   */
  #waitedChild(steps: readonly StepRow[], index: number, workflow: string): string | null {
    let fallback: string | null = null
    for (let i = index - 1; i >= 0; i -= 1) {
      const step = steps[i]!
      if (step.kind !== 'child' || step.output === null) continue
      const childRunId = fromJsonText(step.output) as string
      const row = this.#status.get(childRunId) as { status: RunStatus } | undefined
      fallback ??= childRunId
      if (row && !['succeeded', 'failed', 'cancelled'].includes(row.status)) {
        if (step.name === workflow) return childRunId
      }
    }
    return fallback
  }
}
