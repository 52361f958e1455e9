import type { Database, Statement } from './connection.js'
import { EngineError, invalidInput } from './engine-error.js'
import type { StepRow } from './journal.js'
import { fromJsonText } from './json.js'
import {
  RUN_STATUSES,
  type ListOptions,
  type ListPage,
  type RunDetail,
  type RunError,
  type RunStatus,
  type RunStatusEntry,
  type RunSummary,
  type StepDetail,
  type StepRecord,
} from './run.js'
import { RunLookup } from './run-lookup.js'
import type { RunRow } from './run-store.js'
import { tagFilter } from './run-tags.js'

/** Runs per page unless `limit` says otherwise. */
export const DEFAULT_LIST_LIMIT = 50
/** Largest page. */
export const MAX_LIST_LIMIT = 1_000

/** Formats epoch ms as an ISO 8601 UTC string (as `Date#toISOString`), faster. */
export { iso as formatIsoMs }

const SUMMARY_COLUMNS =
  'r.id, r.run_id, r.workflow, r.status, r.queue, r.parent_run_id, r.created_at, r.updated_at, r.priority, r.partition_key, r.deduplication_id, r.debounce_key, r.tags, r.deadline_at, r.detached'

/** Most run ids one `statuses` call may ask for. */
export const MAX_STATUS_RUN_IDS = 1_000
/** Longest run id `statuses` accepts (ids are UUIDs; longer ones cannot exist). */
const MAX_RUN_ID_LENGTH = 128

/**
 * The API's view of runs over one connection. The engine reads through the one that shows
 * committed state only, so whatever `get` or `list` returns is durable.
 */
export class RunView {
  readonly #db: Database
  readonly #get: Statement
  readonly #steps: Statement
  readonly #step: Statement
  readonly #status: Statement
  readonly #statuses: Statement
  readonly #lists = new Map<string, Statement>()
  /** Run id prefixes, and what a parked run waits for. */
  readonly lookup: RunLookup

  constructor(db: Database) {
    this.#db = db
    this.lookup = new RunLookup(db)
    this.#get = db.prepare('SELECT * FROM lc_runs WHERE run_id = ?')
    this.#status = db.prepare('SELECT status FROM lc_runs WHERE run_id = ?')
    this.#statuses = db.prepare(
      'SELECT run_id, status, updated_at FROM lc_runs WHERE run_id IN (SELECT value FROM json_each(?))',
    )
    // A child call's output is the child's run id: list it (it is short) so the run links to it.
    this.#steps = db.prepare(
      `SELECT seq, name, kind, status, attempts, started_at, ended_at,
         CASE kind WHEN 'child' THEN output END AS output
       FROM lc_steps WHERE run_id = ? ORDER BY seq`,
    )
    this.#step = db.prepare('SELECT * FROM lc_steps WHERE run_id = ? AND seq = ?')
  }

  /** @throws {EngineError} `RUN_NOT_FOUND`. */
  status(runId: string): RunStatus {
    if (typeof runId !== 'string') throw invalidInput('runId', runId, 'a string')
    const row = this.#status.get(runId) as { status: RunStatus } | undefined
    if (row === undefined) throw new EngineError('RUN_NOT_FOUND', `get run ${runId}: no such run`)
    return row.status
  }

  /** @throws {EngineError} `RUN_NOT_FOUND`. */
  get(runId: string): RunDetail {
    if (typeof runId !== 'string') {
      throw new EngineError(
        'INVALID_INPUT',
        `Expected \`runId\` to be a string, got \`${String(runId)}\` (${typeof runId})`,
      )
    }
    const row = this.#get.get(runId) as RunRow | undefined
    if (row === undefined) throw new EngineError('RUN_NOT_FOUND', `get run ${runId}: no such run`)
    const rows = this.#steps.all(runId) as StepRow[]
    const detail: RunDetail = {
      ...summary(row),
      input: fromJsonText(row.input) ?? null,
      output: fromJsonText(row.output) ?? null,
      error: (fromJsonText(row.error) as RunError | undefined) ?? null,
      appVersion: row.app_version,
      steps: rows.map(stepRecord),
    }
    const waitingFor = this.lookup.waitOf(row.status, row.wake_at, rows, iso)
    if (waitingFor !== undefined) detail.waitingFor = waitingFor
    return detail
  }

  /**
   * One journal entry of a run with what it recorded (output or error).
   *
   * @throws {EngineError} `RUN_NOT_FOUND` for an unknown run or step; `INVALID_INPUT` for a bad seq.
   */
  step(runId: string, seq: number): StepDetail {
    if (!Number.isSafeInteger(seq) || seq < 1) {
      throw new EngineError('INVALID_INPUT', `Expected \`seq\` to be an integer from 1 and up, got \`${String(seq)}\` (${typeof seq})`)
    }
    const row = this.#step.get(runId, seq) as StepRow | undefined
    if (row === undefined) {
      this.status(runId)
      throw new EngineError('RUN_NOT_FOUND', `get step ${seq} of run ${runId}: the run has no such step`)
    }
    return {
      ...stepRecord(row),
      output: fromJsonText(row.output) ?? null,
      error: (fromJsonText(row.error) as RunError | undefined) ?? null,
    }
  }

  /**
   * The status of each run id, in order; unknown ids get `status: null, notFound: true`.
   *
   * @throws {EngineError} `INVALID_INPUT` for anything but an array of 1 to
   *   {@link MAX_STATUS_RUN_IDS} strings of 1 to 128 characters.
   */
  statuses(runIds: readonly string[]): RunStatusEntry[] {
    if (!Array.isArray(runIds) || runIds.length === 0 || runIds.length > MAX_STATUS_RUN_IDS) {
      throw invalidInput('runIds', runIds, `an array of 1 to ${MAX_STATUS_RUN_IDS} run ids`)
    }
    runIds.forEach((runId: unknown, i) => {
      if (typeof runId !== 'string' || runId === '' || runId.length > MAX_RUN_ID_LENGTH) {
        throw invalidInput(`runIds[${i}]`, runId, `a run id (a string of 1 to ${MAX_RUN_ID_LENGTH} characters)`)
      }
    })
    const rows = this.#statuses.all(JSON.stringify(runIds)) as {
      run_id: string
      status: RunStatus
      updated_at: number
    }[]
    const byId = new Map(rows.map((row) => [row.run_id, row]))
    return runIds.map((runId) => {
      const row = byId.get(runId)
      return row === undefined
        ? { runId, status: null, notFound: true as const }
        : { runId, status: row.status, updatedAt: iso(row.updated_at) }
    })
  }

  /** @throws {EngineError} `INVALID_INPUT` for a bad status, limit, tag or cursor. */
  list(options: ListOptions = {}): ListPage {
    const { status, workflow, cursor } = options
    const limit = options.limit ?? DEFAULT_LIST_LIMIT
    if (status !== undefined && !RUN_STATUSES.includes(status)) {
      throw new EngineError(
        'INVALID_INPUT',
        `Expected \`status\` to be one of ${RUN_STATUSES.join(', ')}, got \`${String(status)}\` (${typeof status})`,
      )
    }
    if (workflow !== undefined && typeof workflow !== 'string') {
      throw new EngineError(
        'INVALID_INPUT',
        `Expected \`workflow\` to be a string, got \`${String(workflow)}\` (${typeof workflow})`,
      )
    }
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIST_LIMIT)) {
      throw new EngineError(
        'INVALID_INPUT',
        `Expected \`limit\` to be a number from 1 to ${MAX_LIST_LIMIT}, got \`${String(limit)}\` (${typeof limit})`,
      )
    }
    const tags = tagFilter(options.tags)
    const beforeId = cursor === undefined ? undefined : decodeCursor(cursor)
    const where: string[] = []
    const args: (string | number)[] = []
    // With tags, the first tag's index range drives the scan (newest first by run id); the
    // others are probes of the same index.
    const [first, ...others] = tags
    let from = 'lc_runs AS r'
    let order = 'r.id'
    if (first !== undefined) {
      from = 'lc_run_tags AS t0 JOIN lc_runs AS r ON r.id = t0.run_id'
      order = 't0.run_id'
      where.push('t0.key = ? AND t0.value = ?')
      args.push(...first)
      for (const tag of others) {
        where.push(
          'EXISTS (SELECT 1 FROM lc_run_tags AS t WHERE t.key = ? AND t.value = ? AND t.run_id = r.id)',
        )
        args.push(...tag)
      }
    }
    if (status !== undefined) (where.push('r.status = ?'), args.push(status))
    if (workflow !== undefined) (where.push('r.workflow = ?'), args.push(workflow))
    if (beforeId !== undefined) (where.push(`${order} < ?`), args.push(beforeId))
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM ${from} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} DESC LIMIT ?`
    let statement = this.#lists.get(sql)
    if (statement === undefined) this.#lists.set(sql, (statement = this.#db.prepare(sql)))
    const rows = statement.all(...args, limit + 1) as RunRow[]
    const page = rows.slice(0, limit)
    const last = page[page.length - 1]
    return {
      runs: page.map(summary),
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.id) : null,
    }
  }
}

// `new Date(ms).toISOString()` cost ~0.7 µs, twice per step of a `get` (a 1,000-step run:
// 1.5 ms). Steps of one run share their day, so the date part is cached and the time is
// formatted by hand.
let cachedDay = Number.NaN
let cachedDayPrefix = ''

function iso(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms >= 253_402_300_800_000) {
    return new Date(ms).toISOString() // outside years 1970–9999
  }
  const day = Math.floor(ms / 86_400_000)
  if (day !== cachedDay) {
    cachedDay = day
    cachedDayPrefix = new Date(day * 86_400_000).toISOString().slice(0, 11)
  }
  let rest = ms - day * 86_400_000
  const hours = Math.floor(rest / 3_600_000)
  rest -= hours * 3_600_000
  const minutes = Math.floor(rest / 60_000)
  rest -= minutes * 60_000
  const seconds = Math.floor(rest / 1_000)
  const millis = rest - seconds * 1_000
  return `${cachedDayPrefix}${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`
}

function stepRecord(step: StepRow): StepRecord {
  const record: StepRecord = {
    seq: step.seq,
    name: step.name,
    kind: step.kind,
    status: step.status,
    attempts: step.attempts,
    startedAt: iso(step.started_at),
    endedAt: step.ended_at === null ? null : iso(step.ended_at),
  }
  if (step.kind === 'child' && step.output !== null) record.childRunId = fromJsonText(step.output) as string
  return record
}

function summary(row: RunRow): RunSummary {
  const out: RunSummary = {
    runId: row.run_id,
    workflow: row.workflow,
    status: row.status,
    queue: row.queue,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  }
  if (row.parent_run_id !== null) out.parentRunId = row.parent_run_id
  if (row.priority !== 0) out.priority = row.priority
  if (row.partition_key !== null) out.partitionKey = row.partition_key
  if (row.deduplication_id !== null) out.deduplicationId = row.deduplication_id
  if (row.debounce_key !== null) out.debounceKey = row.debounce_key
  if (row.tags !== null) out.tags = JSON.parse(row.tags) as Record<string, string>
  if (row.deadline_at !== null) out.deadlineAt = iso(row.deadline_at)
  if (row.detached === 1) out.detached = true
  return out
}

function encodeCursor(id: number): string {
  return Buffer.from(`r${id}`).toString('base64url')
}

function decodeCursor(cursor: unknown): number {
  const text = typeof cursor === 'string' ? Buffer.from(cursor, 'base64url').toString() : ''
  const id = Number(text.slice(1))
  if (!text.startsWith('r') || !Number.isSafeInteger(id) || id < 1) {
    throw new EngineError(
      'INVALID_INPUT',
      `Expected \`cursor\` to be a nextCursor from a previous page, got \`${String(cursor)}\` (${typeof cursor})`,
    )
  }
  return id
}
