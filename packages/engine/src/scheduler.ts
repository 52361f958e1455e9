import type { AppDefinition } from './app.js'
import { CronSchedule } from './cron-schedule.js'
import { EngineError, invalidInput } from './engine-error.js'
import type { Executor } from './executor.js'
import type { GroupCommit } from './group-commit.js'
import { fromJsonText } from './json.js'
import { isFinished } from './run.js'
import type { RunRow, RunStore } from './run-store.js'
import {
  fireKey,
  MAX_BACKFILL_FIRES,
  MAX_OWED_FIRES,
  ON_TIME_GRACE_MS,
  validateSchedule,
  type ScheduleRequest,
  type ScheduleView,
} from './schedule.js'
import { ScheduleStore, type ScheduleRow } from './schedule-store.js'
import { syncAppSchedules } from './schedule-sync.js'
import { insertOrFindRun, validateStartRequest, type StartStores } from './start-request.js'
import { DurableTimer } from './timer.js'
import { withoutTraceContext } from './tracing.js'
import { formatIsoMs } from './run-view.js'

/** Wait before fires are tried again after their write failed (the storage is failing). */
const FIRE_RETRY_MS = 1_000

/** Cron schedules of one tenant: `engine.schedules`. Every method validates first. */
export interface Schedules {
  /**
   * Creates a schedule; its first fire is the first fire time after now.
   *
   * @throws {EngineError} `INVALID_INPUT` (bad id, cron with the parser's reason, time zone,
   *   overlap, catch-up, input), `UNKNOWN_WORKFLOW`, `SCHEDULE_EXISTS`.
   */
  create(request: ScheduleRequest): Promise<ScheduleView>
  /** Every schedule, by id. */
  list(): Promise<ScheduleView[]>
  /** @throws {EngineError} `SCHEDULE_NOT_FOUND`. */
  get(id: string): Promise<ScheduleView>
  /**
   * Deletes a schedule created through the API (runs it started stay).
   *
   * @throws {EngineError} `SCHEDULE_NOT_FOUND`; `INVALID_STATE` for a schedule the app
   *   declares (it would come back at the next open: remove it from the app).
   */
  delete(id: string): Promise<void>
  /** Stops firing; fires due while paused never start, nor do fires queued behind a run. */
  pause(id: string): Promise<ScheduleView>
  /** Fires again from the first fire time after now. */
  resume(id: string): Promise<ScheduleView>
  /**
   * Starts one run of the schedule's workflow and input now, whatever `overlap` says; it
   * becomes the schedule's latest run (the next fire's `overlap` looks at it).
   */
  trigger(id: string, options?: { idempotencyKey?: string }): Promise<{ runId: string }>
  /**
   * Starts a run for every fire time in [from, to) that is not later than now, each at most
   * once: a fire time that already has a run (from the cron or an earlier backfill) returns
   * that run (a run that retention deleted no longer holds its fire time, which starts
   * again). Runs start at once, whatever `overlap` says.
   *
   * @throws {EngineError} `INVALID_INPUT` for bad times, `from` not before `to`, or more than
   *   {@link MAX_BACKFILL_FIRES} fire times in the range.
   */
  backfill(
    id: string,
    range: { from: string | number | Date; to: string | number | Date },
  ): Promise<{ runIds: string[] }>
}

/** What the scheduler needs from the engine. */
export interface SchedulerHost {
  readonly app: AppDefinition
  readonly writer: GroupCommit
  readonly runs: RunStore
  /** The stores a start writes to (the runs, debounce keys, tags). */
  readonly stores: StartStores
  readonly executor: Executor
  readonly clock: () => number
  /** Announces and executes a run the scheduler inserted (after its commit). */
  readonly started: (row: RunRow) => void
}

/** The in-memory side of one schedule. */
interface ScheduleState {
  cron: CronSchedule | null
  /** `next_fire_at`, or `null` while paused or when it never fires again. */
  cursor: number | null
  /** With `overlap: 'queue'`: the run whose end the fire at `cursor` waits for. */
  blockedOn: string | null
  unblock: (() => void) | null
}

/**
 * Fires cron schedules: one in-process timer for the earliest fire time of all schedules
 * (the schedules themselves live in `lc_schedules`, so nothing is lost with the process), and
 * `nextFireAt` for `Engine.nextWakeAt`, so a hibernated tenant is woken for its next fire.
 *
 * A fire is handled in one commit with its run: the run's insert (idempotency key
 * `schedule:<id>:<fire time>`) and the cursor's move past the fire. A crash before that
 * commit leaves both undone and the fire is handled again at the next open; after it, the
 * key finds the run. So each fire starts at most one run, and exactly one unless `overlap`
 * or `catchUp` skip it.
 */
export class Scheduler implements Schedules {
  readonly #host: SchedulerHost
  readonly #store: ScheduleStore
  readonly #states = new Map<string, ScheduleState>()
  readonly #timer: DurableTimer
  readonly #inflight = new Set<Promise<void>>()
  #closed = false

  constructor(host: SchedulerHost) {
    this.#host = host
    this.#store = new ScheduleStore(host.writer.db)
    // Fires start their runs in a trace of their own, not in the context that armed the timer.
    this.#timer = new DurableTimer(host.clock, () =>
      withoutTraceContext(() => this.#track(this.#fireDue())),
    )
  }

  /**
   * At open: syncs the app's schedules into the database, moves the cursors of schedules
   * that missed fires while no process ran them as their `catchUp` says, then fires what is
   * due.
   */
  async open(): Promise<void> {
    const { writer, clock, app } = this.#host
    const declared = app.schedules ?? {}
    // A tenant without schedules pays nothing at open (no read beyond this one, no commit).
    if (Object.keys(declared).length === 0 && this.#store.all().length === 0) return
    const nowMs = clock()
    writer.write(() => {
      syncAppSchedules(this.#store, declared, nowMs)
      this.#load()
      for (const row of this.#store.all()) this.#catchUp(row, nowMs)
    })
    await writer.durable()
    await this.#fireDue()
  }

  /** The earliest fire time a schedule waits for (not paused, not queued behind a run), or `null`. */
  nextFireAt(): number | null {
    let next: number | null = null
    for (const state of this.#states.values()) {
      if (state.cursor === null || state.blockedOn !== null) continue
      if (next === null || state.cursor < next) next = state.cursor
    }
    return next
  }

  /** True while fires are being handled, or some are due by the clock. */
  hasWork(): boolean {
    const nextMs = this.nextFireAt()
    return this.#inflight.size > 0 || (nextMs !== null && nextMs <= this.#host.clock())
  }

  /** Handles every due fire (and waits for those under way): `Engine.idle` calls it first. */
  async settle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight])
    await this.#track(this.#fireDue())
  }

  close(): void {
    this.#closed = true
    this.#timer.disarm()
    for (const state of this.#states.values()) state.unblock?.()
  }

  async create(request: ScheduleRequest): Promise<ScheduleView> {
    this.#assertOpen('create schedule')
    const nowMs = this.#host.clock()
    const { spec, cron } = validateSchedule(request?.id, request, '', nowMs)
    if (!this.#host.executor.hasWorkflow(spec.workflow)) {
      throw new EngineError(
        'UNKNOWN_WORKFLOW',
        `create schedule ${spec.id}: no workflow named \`${spec.workflow}\` in the app`,
      )
    }
    if (this.#store.get(spec.id) !== undefined) {
      throw new EngineError(
        'SCHEDULE_EXISTS',
        `create schedule ${spec.id}: a schedule with this id exists`,
      )
    }
    const nextFireAt = cron.nextAfter(nowMs)
    this.#host.writer.writeOne(() => this.#store.insert(spec, 'api', nextFireAt, nowMs))
    await this.#host.writer.durable()
    this.#states.set(spec.id, { cron, cursor: nextFireAt, blockedOn: null, unblock: null })
    this.#arm()
    return this.get(spec.id)
  }

  async list(): Promise<ScheduleView[]> {
    this.#assertOpen('list schedules')
    await this.#host.writer.durable()
    return this.#store.all().map(toView)
  }

  async get(id: string): Promise<ScheduleView> {
    this.#assertOpen('get schedule')
    await this.#host.writer.durable()
    return toView(this.#row(id, 'get'))
  }

  async delete(id: string): Promise<void> {
    this.#assertOpen('delete schedule')
    const row = this.#row(id, 'delete')
    if (row.source === 'app') {
      throw new EngineError(
        'INVALID_STATE',
        `delete schedule ${id}: the app declares it (it would come back at the next open); remove it from the app's schedules, or pause it`,
      )
    }
    this.#host.writer.writeOne(() => this.#store.delete(id))
    await this.#host.writer.durable()
    this.#states.get(id)?.unblock?.()
    this.#states.delete(id)
  }

  async pause(id: string): Promise<ScheduleView> {
    this.#assertOpen('pause schedule')
    const row = this.#row(id, 'pause')
    if (row.paused === 0) {
      const nowMs = this.#host.clock()
      this.#host.writer.writeOne(() => this.#store.setPaused(id, true, null, nowMs))
      await this.#host.writer.durable()
      const state = this.#state(id)
      state.unblock?.()
      state.cursor = null
    }
    return this.get(id)
  }

  async resume(id: string): Promise<ScheduleView> {
    this.#assertOpen('resume schedule')
    const row = this.#row(id, 'resume')
    if (row.paused === 1) {
      const nowMs = this.#host.clock()
      const state = this.#state(id)
      const nextFireAt = state.cron?.nextAfter(nowMs) ?? null
      this.#host.writer.writeOne(() => this.#store.setPaused(id, false, nextFireAt, nowMs))
      await this.#host.writer.durable()
      state.cursor = nextFireAt
      this.#arm()
    }
    return this.get(id)
  }

  async trigger(id: string, options?: { idempotencyKey?: string }): Promise<{ runId: string }> {
    this.#assertOpen('trigger schedule')
    const row = this.#row(id, 'trigger')
    const key = options?.idempotencyKey
    const request = validateStartRequest(
      this.#host.executor,
      {
        workflow: row.workflow,
        input: fromJsonText(row.input) ?? null,
        ...(key === undefined ? {} : { idempotencyKey: key }),
      },
      `trigger schedule ${id}`,
    )
    const { writer, stores, clock } = this.#host
    const nowMs = clock()
    const { row: run, created } = writer.atomic(() => {
      const result = insertOrFindRun(stores, request, nowMs)
      if (result.created) this.#store.setLastRun(id, result.row.run_id, nowMs)
      return result
    })
    await writer.durable()
    if (created) this.#host.started(run)
    return { runId: run.run_id }
  }

  async backfill(
    id: string,
    range: { from: string | number | Date; to: string | number | Date },
  ): Promise<{ runIds: string[] }> {
    this.#assertOpen('backfill schedule')
    const fromMs = toMs(range?.from, 'from')
    const toMsValue = toMs(range?.to, 'to')
    if (fromMs >= toMsValue)
      throw invalidInput('from', range.from, `a time before \`to\` (${String(range.to)})`)
    const row = this.#row(id, 'backfill')
    const cron = this.#state(id).cron
    if (cron === null)
      throw new EngineError('INVALID_STATE', `backfill schedule ${id}: its cron no longer parses`)
    const nowMs = this.#host.clock()
    const fires = cron.between(fromMs, Math.min(toMsValue, nowMs + 1), MAX_BACKFILL_FIRES)
    if (fires === null) {
      throw new EngineError(
        'INVALID_INPUT',
        `backfill schedule ${id}: [${iso(fromMs)}, ${iso(toMsValue)}) holds more than ${MAX_BACKFILL_FIRES} fire times of \`${row.cron}\`; split it into smaller ranges`,
      )
    }
    const created: RunRow[] = []
    const runIds = this.#host.writer.atomic(() =>
      fires.map((fireAt) => {
        const result = this.#startFire(row, fireAt, nowMs)
        if (result.created) created.push(result.row)
        return result.row.run_id
      }),
    )
    await this.#host.writer.durable()
    for (const run of created) this.#host.started(run)
    return { runIds }
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new EngineError('ENGINE_CLOSED', `${what}: the engine is closed`)
  }

  #row(id: string, what: string): ScheduleRow {
    if (typeof id !== 'string') throw invalidInput('schedule id', id, 'a string')
    const row = this.#store.get(id)
    if (row === undefined) {
      throw new EngineError('SCHEDULE_NOT_FOUND', `${what} schedule ${id}: no such schedule`)
    }
    return row
  }

  #state(id: string): ScheduleState {
    let state = this.#states.get(id)
    if (state === undefined) {
      state = { cron: null, cursor: null, blockedOn: null, unblock: null }
      this.#states.set(id, state)
    }
    return state
  }

  /** Reads every schedule into memory; a cron that no longer parses never fires. */
  #load(): void {
    for (const state of this.#states.values()) state.unblock?.()
    this.#states.clear()
    for (const row of this.#store.all()) {
      let cron: CronSchedule | null = null
      try {
        cron = new CronSchedule(row.cron, row.timezone, this.#host.clock())
      } catch {
        // Kept with its error visible through `nextFireAt: null`; delete or fix it.
      }
      this.#states.set(row.id, {
        cron,
        cursor: row.paused === 1 || cron === null ? null : row.next_fire_at,
        blockedOn: null,
        unblock: null,
      })
    }
  }

  /**
   * Fires missed while no process ran the schedule (its cursor is in the past at open): moves
   * the cursor to the first fire its `catchUp` still owes. `all` keeps it (the owed fires are
   * bounded when handled), `latest` moves it to the latest fire time, `none` past the fires
   * older than {@link ON_TIME_GRACE_MS}. A `queue` schedule whose latest run is unfinished
   * keeps its cursor: its owed fires were queued behind that run, and a queue runs them all.
   */
  #catchUp(row: ScheduleRow, nowMs: number): void {
    const state = this.#state(row.id)
    const { cron, cursor } = state
    if (cron === null || cursor === null || cursor > nowMs || row.catch_up === 'all') return
    if (row.overlap === 'queue' && row.last_run_id !== null && this.#isUnfinished(row.last_run_id))
      return
    let next: number | null
    if (row.catch_up === 'latest') {
      const latest = cron.latestAtOrBefore(nowMs, 1)[0]
      next = latest !== undefined && latest >= cursor ? latest : cron.nextAfter(nowMs)
    } else {
      next = cron.nextAfter(Math.max(cursor, nowMs - ON_TIME_GRACE_MS) - 1)
    }
    if (next === cursor) return
    this.#store.progress(
      row.id,
      {
        nextFireAt: next,
        lastFireAt: row.last_fire_at,
        lastRunId: row.last_run_id,
        lastError: row.last_error,
      },
      nowMs,
    )
    state.cursor = next
  }

  #track(promise: Promise<void>): Promise<void> {
    this.#inflight.add(promise)
    const done = promise.finally(() => this.#inflight.delete(promise))
    done.catch(() => undefined)
    return done
  }

  /** Handles the fires due by the clock, commits, starts their runs, re-arms the timer. */
  async #fireDue(): Promise<void> {
    if (this.#closed) return
    const { writer, clock } = this.#host
    const nowMs = clock()
    const due: ScheduleRow[] = []
    for (const [id, state] of this.#states) {
      if (state.blockedOn !== null && this.#isUnfinished(state.blockedOn)) continue
      state.unblock?.()
      if (state.cursor !== null && state.cursor <= nowMs)
        due.push(this.#store.get(id) as ScheduleRow)
    }
    if (due.length === 0) return this.#arm()
    const created: RunRow[] = []
    try {
      writer.write(() => {
        for (const row of due) this.#handle(row, nowMs, created)
      })
      await writer.durable()
    } catch (error) {
      if (this.#closed) return
      // The batch is lost: memory follows the database again, and the fires are tried later.
      this.#load()
      this.#timer.arm(clock() + FIRE_RETRY_MS)
      if ((error as { code?: unknown }).code === 'STORAGE_FAILED') return
      throw error
    }
    for (const run of created) this.#host.started(run)
    this.#arm()
  }

  /**
   * Handles the fires a schedule owes at `nowMs`, oldest first, as its `overlap` says, and
   * moves its cursor past them (or, with `queue`, to the first one that waits for a run).
   */
  #handle(row: ScheduleRow, nowMs: number, created: RunRow[]): void {
    const state = this.#state(row.id)
    const { cron, cursor } = state
    if (cron === null || cursor === null) return
    let { last_fire_at: lastFireAt, last_run_id: lastRunId, last_error: lastError } = row
    let next: number | null = null
    for (const fireAt of owedFires(cron, cursor, nowMs)) {
      if (row.overlap !== 'allow' && lastRunId !== null && this.#isUnfinished(lastRunId)) {
        if (row.overlap === 'queue') {
          next = fireAt
          this.#block(row.id, state, lastRunId)
          break
        }
        lastFireAt = fireAt
        continue
      }
      try {
        const result = this.#startFire(row, fireAt, nowMs)
        if (result.created) created.push(result.row)
        lastRunId = result.row.run_id
        lastError = null
      } catch (error) {
        if ((error as { code?: unknown }).code === 'STORAGE_FAILED') throw error
        lastError = (error as Error).message
      }
      lastFireAt = fireAt
    }
    next ??= cron.nextAfter(nowMs)
    this.#store.progress(row.id, { nextFireAt: next, lastFireAt, lastRunId, lastError }, nowMs)
    state.cursor = next
  }

  /** Inserts the run of one fire, or finds the one its key already started. */
  #startFire(row: ScheduleRow, fireAtMs: number, nowMs: number): { row: RunRow; created: boolean } {
    const key = fireKey(row.id, fireAtMs)
    const existing = this.#host.runs.byIdempotencyKey(key)
    if (existing !== undefined) return { row: existing, created: false }
    const request = validateStartRequest(
      this.#host.executor,
      { workflow: row.workflow, input: fromJsonText(row.input) ?? null, idempotencyKey: key },
      `fire schedule ${row.id} at ${iso(fireAtMs)}`,
    )
    return insertOrFindRun(this.#host.stores, request, nowMs)
  }

  #isUnfinished(runId: string): boolean {
    const run = this.#host.runs.get(runId)
    return run !== undefined && !isFinished(run.status)
  }

  /** Parks a `queue` schedule until `runId` ends; its end handles the waiting fire. */
  #block(id: string, state: ScheduleState, runId: string): void {
    if (state.blockedOn === runId) return
    state.unblock?.()
    state.blockedOn = runId
    const remove = this.#host.executor.onEnd(runId, () => {
      if (state.blockedOn !== runId) return
      state.unblock?.()
      if (!this.#closed && this.#states.get(id) === state) void this.#track(this.#fireDue())
    })
    state.unblock = () => {
      remove()
      state.blockedOn = null
      state.unblock = null
    }
  }

  #arm(): void {
    if (this.#closed) return
    const next = this.nextFireAt()
    if (next !== null) this.#timer.arm(next)
  }
}

/**
 * The fire times owed at `nowMs` from `cursor` on, oldest first: at most
 * {@link MAX_OWED_FIRES} (the latest ones) however far behind the cursor is.
 */
function owedFires(cron: CronSchedule, cursor: number, nowMs: number): number[] {
  const fires: number[] = []
  for (
    let fire = cron.nextAfter(cursor - 1);
    fire !== null && fire <= nowMs;
    fire = cron.nextAfter(fire)
  ) {
    if (fires.length === MAX_OWED_FIRES) {
      return cron.latestAtOrBefore(nowMs, MAX_OWED_FIRES).filter((latest) => latest >= cursor)
    }
    fires.push(fire)
  }
  return fires
}

function toMs(value: unknown, what: string): number {
  const ms =
    value instanceof Date
      ? value.getTime()
      : typeof value === 'string' || typeof value === 'number'
        ? new Date(value).getTime()
        : Number.NaN
  if (!Number.isFinite(ms)) throw invalidInput(what, value, 'an ISO 8601 time or epoch ms')
  return ms
}

function iso(ms: number | null): string | null {
  return ms === null ? null : formatIsoMs(ms)
}

function toView(row: ScheduleRow): ScheduleView {
  return {
    id: row.id,
    source: row.source,
    cron: row.cron,
    timezone: row.timezone,
    workflow: row.workflow,
    input: fromJsonText(row.input) ?? null,
    overlap: row.overlap,
    catchUp: row.catch_up,
    paused: row.paused === 1,
    nextFireAt: iso(row.next_fire_at),
    lastFireAt: iso(row.last_fire_at),
    lastRunId: row.last_run_id,
    lastError: row.last_error,
    createdAt: iso(row.created_at) as string,
    updatedAt: iso(row.updated_at) as string,
  }
}
