import type { Database, Statement } from './connection.js'
import type { ScheduleCatchUp, ScheduleOverlap, ScheduleSpec } from './schedule.js'

/** One row of `lc_schedules`. */
export interface ScheduleRow {
  id: string
  source: 'app' | 'api'
  cron: string
  timezone: string
  workflow: string
  input: string
  overlap: ScheduleOverlap
  catch_up: ScheduleCatchUp
  paused: 0 | 1
  next_fire_at: number | null
  last_fire_at: number | null
  last_run_id: string | null
  last_error: string | null
  created_at: number
  updated_at: number
}

/** Where a schedule's cursor stands after a fire (or a skip) was handled. */
export interface ScheduleProgress {
  nextFireAt: number | null
  lastFireAt: number | null
  lastRunId: string | null
  lastError: string | null
}

const SQL = {
  all: 'SELECT * FROM lc_schedules ORDER BY id',
  get: 'SELECT * FROM lc_schedules WHERE id = ?',
  insert: `INSERT INTO lc_schedules (id, source, cron, timezone, workflow, input, overlap, catch_up, next_fire_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  updateSpec: `UPDATE lc_schedules SET source = ?, cron = ?, timezone = ?, workflow = ?, input = ?, overlap = ?, catch_up = ?,
       next_fire_at = ?, updated_at = ? WHERE id = ?`,
  progress: `UPDATE lc_schedules SET next_fire_at = ?, last_fire_at = ?, last_run_id = ?, last_error = ?, updated_at = ?
     WHERE id = ?`,
  setLastRun: 'UPDATE lc_schedules SET last_run_id = ?, updated_at = ? WHERE id = ?',
  setPaused: 'UPDATE lc_schedules SET paused = ?, next_fire_at = ?, updated_at = ? WHERE id = ?',
  delete: 'DELETE FROM lc_schedules WHERE id = ?',
} as const

/**
 * Statements over `lc_schedules` for the write connection, each prepared on first use: most
 * tenants have no schedule, and preparing them all cost a tenth of a millisecond per open.
 */
export class ScheduleStore {
  readonly #db: Database
  readonly #statements = new Map<keyof typeof SQL, Statement>()

  constructor(db: Database) {
    this.#db = db
  }

  #statement(name: keyof typeof SQL): Statement {
    let statement = this.#statements.get(name)
    if (statement === undefined)
      this.#statements.set(name, (statement = this.#db.prepare(SQL[name])))
    return statement
  }

  all(): ScheduleRow[] {
    return this.#statement('all').all() as ScheduleRow[]
  }

  get(id: string): ScheduleRow | undefined {
    return this.#statement('get').get(id) as ScheduleRow | undefined
  }

  insert(
    spec: ScheduleSpec,
    source: 'app' | 'api',
    nextFireAt: number | null,
    nowMs: number,
  ): void {
    this.#statement('insert').run(
      spec.id,
      source,
      spec.cron,
      spec.timezone,
      spec.workflow,
      spec.input,
      spec.overlap,
      spec.catchUp,
      nextFireAt,
      nowMs,
      nowMs,
    )
  }

  /** Replaces a schedule's definition (an app's schedule changed), keeping its history. */
  updateSpec(
    spec: ScheduleSpec,
    source: 'app' | 'api',
    nextFireAt: number | null,
    nowMs: number,
  ): void {
    this.#statement('updateSpec').run(
      source,
      spec.cron,
      spec.timezone,
      spec.workflow,
      spec.input,
      spec.overlap,
      spec.catchUp,
      nextFireAt,
      nowMs,
      spec.id,
    )
  }

  /** Moves a schedule's cursor past handled fires. */
  progress(id: string, progress: ScheduleProgress, nowMs: number): void {
    const { nextFireAt, lastFireAt, lastRunId, lastError } = progress
    this.#statement('progress').run(nextFireAt, lastFireAt, lastRunId, lastError, nowMs, id)
  }

  /** Records a run started outside the cron (a trigger) as the schedule's latest. */
  setLastRun(id: string, runId: string, nowMs: number): void {
    this.#statement('setLastRun').run(runId, nowMs, id)
  }

  setPaused(id: string, paused: boolean, nextFireAt: number | null, nowMs: number): void {
    this.#statement('setPaused').run(paused ? 1 : 0, nextFireAt, nowMs, id)
  }

  delete(id: string): boolean {
    return this.#statement('delete').run(id).changes > 0
  }
}
