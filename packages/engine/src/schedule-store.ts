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

/** Prepared statements over `lc_schedules` for the write connection. */
export class ScheduleStore {
  readonly #all: Statement
  readonly #get: Statement
  readonly #insert: Statement
  readonly #updateSpec: Statement
  readonly #progress: Statement
  readonly #setLastRun: Statement
  readonly #setPaused: Statement
  readonly #delete: Statement

  constructor(db: Database) {
    this.#all = db.prepare('SELECT * FROM lc_schedules ORDER BY id')
    this.#get = db.prepare('SELECT * FROM lc_schedules WHERE id = ?')
    this.#insert = db.prepare(
      `INSERT INTO lc_schedules (id, source, cron, timezone, workflow, input, overlap, catch_up, next_fire_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#updateSpec = db.prepare(
      `UPDATE lc_schedules SET source = ?, cron = ?, timezone = ?, workflow = ?, input = ?, overlap = ?, catch_up = ?,
         next_fire_at = ?, updated_at = ? WHERE id = ?`,
    )
    this.#progress = db.prepare(
      `UPDATE lc_schedules SET next_fire_at = ?, last_fire_at = ?, last_run_id = ?, last_error = ?, updated_at = ?
       WHERE id = ?`,
    )
    this.#setLastRun = db.prepare('UPDATE lc_schedules SET last_run_id = ?, updated_at = ? WHERE id = ?')
    this.#setPaused = db.prepare(
      'UPDATE lc_schedules SET paused = ?, next_fire_at = ?, updated_at = ? WHERE id = ?',
    )
    this.#delete = db.prepare('DELETE FROM lc_schedules WHERE id = ?')
  }

  all(): ScheduleRow[] {
    return this.#all.all() as ScheduleRow[]
  }

  get(id: string): ScheduleRow | undefined {
    return this.#get.get(id) as ScheduleRow | undefined
  }

  insert(spec: ScheduleSpec, source: 'app' | 'api', nextFireAt: number | null, nowMs: number): void {
    this.#insert.run(
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
  updateSpec(spec: ScheduleSpec, source: 'app' | 'api', nextFireAt: number | null, nowMs: number): void {
    this.#updateSpec.run(
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
    this.#progress.run(nextFireAt, lastFireAt, lastRunId, lastError, nowMs, id)
  }

  /** Records a run started outside the cron (a trigger) as the schedule's latest. */
  setLastRun(id: string, runId: string, nowMs: number): void {
    this.#setLastRun.run(runId, nowMs, id)
  }

  setPaused(id: string, paused: boolean, nextFireAt: number | null, nowMs: number): void {
    this.#setPaused.run(paused ? 1 : 0, nextFireAt, nowMs, id)
  }

  delete(id: string): boolean {
    return this.#delete.run(id).changes > 0
  }
}
