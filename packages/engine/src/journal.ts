import type { Database, Statement } from './connection.js'
import type { StepKind, StepStatus } from './run.js'

/** One row of `lc_steps`. JSON columns hold text; `NULL` output means `undefined`. */
export interface StepRow {
  seq: number
  name: string
  kind: StepKind
  status: StepStatus
  attempts: number
  output: string | null
  error: string | null
  started_at: number
  ended_at: number | null
}

/** The journal of ctx calls (`lc_steps`), over one connection's prepared statements. */
export class Journal {
  readonly #load: Statement
  readonly #put: Statement
  readonly #copy: Statement
  readonly #truncate: Statement
  readonly #firstFailed: Statement

  constructor(db: Database) {
    this.#load = db.prepare(
      'SELECT seq, name, kind, status, attempts, output, error, started_at, ended_at FROM lc_steps WHERE run_id = ? ORDER BY seq',
    )
    this.#put = db.prepare(
      `INSERT OR REPLACE INTO lc_steps (run_id, seq, name, kind, status, attempts, output, error, started_at, ended_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#copy = db.prepare(
      `INSERT INTO lc_steps (run_id, seq, name, kind, status, attempts, output, error, started_at, ended_at)
       SELECT ?, seq, name, kind, status, attempts, output, error, started_at, ended_at
       FROM lc_steps WHERE run_id = ? AND seq < ?`,
    )
    this.#truncate = db.prepare('DELETE FROM lc_steps WHERE run_id = ? AND seq >= ?')
    this.#firstFailed = db.prepare(
      "SELECT min(seq) AS seq FROM lc_steps WHERE run_id = ? AND status = 'failed'",
    )
  }

  /** All recorded calls of a run, by seq. */
  load(runId: string): StepRow[] {
    return this.#load.all(runId) as StepRow[]
  }

  /** Writes (inserts or replaces) the record of one call. */
  put(runId: string, row: StepRow): void {
    this.#put.run(
      runId,
      row.seq,
      row.name,
      row.kind,
      row.status,
      row.attempts,
      row.output,
      row.error,
      row.started_at,
      row.ended_at,
    )
  }

  /** Copies the records before `beforeSeq` from one run to another (fork). */
  copy(fromRunId: string, toRunId: string, beforeSeq: number): void {
    this.#copy.run(toRunId, fromRunId, beforeSeq)
  }

  /** Deletes the records from `fromSeq` on (resume after failure). */
  truncate(runId: string, fromSeq: number): void {
    this.#truncate.run(runId, fromSeq)
  }

  /** The first failed call's seq, or `null`. */
  firstFailedSeq(runId: string): number | null {
    const row = this.#firstFailed.get(runId) as { seq: number | null } | undefined
    return row?.seq ?? null
  }
}
