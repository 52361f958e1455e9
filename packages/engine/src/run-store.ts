import type { Database, Statement } from './connection.js'
import type { RunStatus } from './run.js'

/** One row of `lc_runs`. */
export interface RunRow {
  id: number
  run_id: string
  workflow: string
  status: RunStatus
  queue: string | null
  input: string | null
  output: string | null
  error: string | null
  idempotency_key: string | null
  parent_run_id: string | null
  parent_seq: number | null
  wake_at: number | null
  created_at: number
  updated_at: number
  /** Abnormal ends (process deaths) in a row during which the run was executing. */
  crash_count: number
  /** The app version the run started under (`NULL` for runs of older engines). */
  app_version: string | null
  priority: number
  partition_key: string | null
  deduplication_id: string | null
  debounce_key: string | null
  /** JSON object text of the run's tags, `NULL` without tags. */
  tags: string | null
  timeout_ms: number | null
  deadline_at: number | null
  /** 1 for a child run its parent's cancellation does not reach. */
  detached: 0 | 1
}

/** The flow-control columns of a new run (absent: a plain pending run). */
export interface RunFlow {
  /** `sleeping` for a debounced run waiting for its start (`wakeAt`). */
  status: 'pending' | 'sleeping'
  wakeAt: number | null
  priority: number
  partitionKey: string | null
  deduplicationId: string | null
  debounceKey: string | null
  tags: string | null
  timeoutMs: number | null
  deadlineAt: number | null
  detached: boolean
}

/** A run that was executing when the previous process ended abnormally. */
export interface CrashedRun {
  run_id: string
  workflow: string
  crash_count: number
}

/** A run {@link RunStore.cancelTree} cancelled. */
export interface CancelledRun {
  run_id: string
  workflow: string
  parent_run_id: string | null
}

/** A new run to insert. */
export interface NewRun {
  runId: string
  workflow: string
  queue: string | null
  input: string | null
  idempotencyKey: string | null
  parentRunId: string | null
  parentSeq: number | null
  nowMs: number
  /** Flow-control columns; `null` or absent for a plain run (the cheaper insert). */
  flow?: RunFlow | null
  /**
   * A plain run that executes at once: inserted `running`, so its insert also commits the
   * mark its execution would write before the workflow's code runs (see Engine#start).
   */
  running?: boolean
}

/** The {@link RunRow} of a run just inserted with `insert`, without reading it back. */
export function insertedRow(run: NewRun, id: number, appVersion: string | null): RunRow {
  const flow = run.flow ?? null
  return {
    id,
    run_id: run.runId,
    workflow: run.workflow,
    status: flow?.status ?? (run.running === true ? 'running' : 'pending'),
    queue: run.queue,
    input: run.input,
    output: null,
    error: null,
    idempotency_key: run.idempotencyKey,
    parent_run_id: run.parentRunId,
    parent_seq: run.parentSeq,
    wake_at: flow?.wakeAt ?? null,
    created_at: run.nowMs,
    updated_at: run.nowMs,
    crash_count: 0,
    app_version: appVersion,
    priority: flow?.priority ?? 0,
    partition_key: flow?.partitionKey ?? null,
    deduplication_id: flow?.deduplicationId ?? null,
    debounce_key: flow?.debounceKey ?? null,
    tags: flow?.tags ?? null,
    timeout_ms: flow?.timeoutMs ?? null,
    deadline_at: flow?.deadlineAt ?? null,
    detached: flow?.detached === true ? 1 : 0,
  }
}

// Status updates never leave a finished state: a cancel that lands while the run is still
// executing must win over the run's own later "sleeping" or "succeeded" write.
const UNFINISHED = "status NOT IN ('succeeded','failed','cancelled')"

/** Prepared statements over `lc_runs` and `lc_events` for the write connection. */
export class RunStore {
  /** The app version new runs record (see app-identity.ts). */
  readonly appVersion: string | null
  readonly #insert: Statement
  readonly #insertFlow: Statement
  readonly #get: Statement
  readonly #byKey: Statement
  readonly #byDeduplicationId: Statement
  readonly #setStatus: Statement
  readonly #finish: Statement
  readonly #reset: Statement
  // The timer queries name the partial wake index: without statistics the planner would pick
  // the status index and scan every sleeping run.
  readonly #due: Statement
  readonly #earliest: Statement
  readonly #runnable: Statement
  readonly #unfinished: Statement
  readonly #insertEvent: Statement
  readonly #takeEvent: Statement
  readonly #cancelTree: Statement
  readonly #releaseRunning: Statement
  readonly #countCrashes: Statement
  readonly #anyRunning: Statement
  readonly #suspects: Statement
  readonly #clearCrashCount: Statement

  constructor(db: Database, appVersion: string | null = null) {
    this.appVersion = appVersion
    this.#insert = db.prepare(
      `INSERT INTO lc_runs (run_id, workflow, status, queue, input, idempotency_key, parent_run_id, parent_seq, created_at, updated_at, app_version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#insertFlow = db.prepare(
      `INSERT INTO lc_runs (run_id, workflow, status, queue, input, idempotency_key, parent_run_id, parent_seq, created_at, updated_at,
         wake_at, priority, partition_key, deduplication_id, debounce_key, tags, timeout_ms, deadline_at, detached, app_version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#get = db.prepare('SELECT * FROM lc_runs WHERE run_id = ?')
    this.#byKey = db.prepare('SELECT * FROM lc_runs WHERE idempotency_key = ?')
    // The same terms as the partial index lc_runs_dedup, so the planner may use it.
    this.#byDeduplicationId = db.prepare(
      `SELECT run_id FROM lc_runs WHERE deduplication_id = ? AND deduplication_id IS NOT NULL
         AND ${UNFINISHED}`,
    )
    this.#setStatus = db.prepare(
      `UPDATE lc_runs SET status = ?, wake_at = ?, updated_at = ? WHERE run_id = ? AND ${UNFINISHED}`,
    )
    this.#finish = db.prepare(
      `UPDATE lc_runs SET status = ?, output = ?, error = ?, wake_at = NULL, updated_at = ?
       WHERE run_id = ? AND ${UNFINISHED}`,
    )
    this.#reset = db.prepare(
      `UPDATE lc_runs SET status = 'pending', output = NULL, error = NULL, wake_at = NULL, crash_count = 0, updated_at = ?1,
         deadline_at = ?1 + timeout_ms
       WHERE run_id = ?2`,
    )
    this.#due = db.prepare(
      "SELECT run_id FROM lc_runs INDEXED BY lc_runs_wake WHERE status IN ('sleeping','waiting') AND wake_at IS NOT NULL AND wake_at <= ?",
    )
    this.#earliest = db.prepare(
      "SELECT min(wake_at) AS wake_at FROM lc_runs INDEXED BY lc_runs_wake WHERE status IN ('sleeping','waiting') AND wake_at IS NOT NULL AND wake_at > ?",
    )
    this.#runnable = db.prepare(
      "SELECT run_id, status FROM lc_runs WHERE status IN ('pending','running','waiting') ORDER BY id",
    )
    this.#unfinished = db.prepare(
      "SELECT 1 FROM lc_runs WHERE status IN ('pending','running') LIMIT 1",
    )
    this.#insertEvent = db.prepare(
      'INSERT INTO lc_events (run_id, name, payload, created_at) VALUES (?, ?, ?, ?)',
    )
    this.#takeEvent = db.prepare(
      `UPDATE lc_events SET consumed_seq = ?
       WHERE id = (SELECT id FROM lc_events WHERE run_id = ? AND name = ? AND consumed_seq IS NULL ORDER BY id LIMIT 1)
       RETURNING payload`,
    )
    // Detached children (and their own children) are not part of the tree. The runs below the
    // root record why they ended (PARENT_CANCELLED), so resuming the root resumes them too.
    this.#cancelTree = db.prepare(
      `WITH RECURSIVE tree(run_id) AS (
         SELECT ?1 UNION ALL SELECT r.run_id FROM lc_runs r JOIN tree t ON r.parent_run_id = t.run_id
         WHERE r.detached = 0
       )
       UPDATE lc_runs SET status = 'cancelled', wake_at = NULL, updated_at = ?2,
         error = CASE WHEN run_id = ?1 THEN ?3 ELSE json_object('name', 'Cancelled',
           'code', 'PARENT_CANCELLED', 'message', 'cancelled with its parent run ' || parent_run_id) END
       WHERE run_id IN (SELECT run_id FROM tree) AND ${UNFINISHED}
       RETURNING run_id, workflow, parent_run_id`,
    )
    this.#releaseRunning = db.prepare(
      `UPDATE lc_runs SET status = 'pending', updated_at = ?
       WHERE status = 'running' AND run_id NOT IN (SELECT value FROM json_each(?))`,
    )
    this.#countCrashes = db.prepare(
      `UPDATE lc_runs SET status = 'pending', crash_count = crash_count + 1, updated_at = ?
       WHERE status = 'running' RETURNING run_id, workflow, crash_count`,
    )
    this.#anyRunning = db.prepare("SELECT 1 FROM lc_runs WHERE status = 'running' LIMIT 1")
    this.#suspects = db.prepare(
      "SELECT run_id FROM lc_runs WHERE status = 'pending' AND crash_count > 0 ORDER BY crash_count DESC, id",
    )
    this.#clearCrashCount = db.prepare(
      'UPDATE lc_runs SET crash_count = 0 WHERE run_id = ? AND crash_count > 0',
    )
  }

  /** Inserts a run and returns its `id` (insertion order). */
  insert(run: NewRun): number {
    const flow = run.flow
    if (flow === undefined || flow === null) {
      return Number(
        this.#insert.run(
          run.runId,
          run.workflow,
          run.running === true ? 'running' : 'pending',
          run.queue,
          run.input,
          run.idempotencyKey,
          run.parentRunId,
          run.parentSeq,
          run.nowMs,
          run.nowMs,
          this.appVersion,
        ).lastInsertRowid,
      )
    }
    return Number(
      this.#insertFlow.run(
        run.runId,
        run.workflow,
        flow.status,
        run.queue,
        run.input,
        run.idempotencyKey,
        run.parentRunId,
        run.parentSeq,
        run.nowMs,
        run.nowMs,
        flow.wakeAt,
        flow.priority,
        flow.partitionKey,
        flow.deduplicationId,
        flow.debounceKey,
        flow.tags,
        flow.timeoutMs,
        flow.deadlineAt,
        flow.detached ? 1 : 0,
        this.appVersion,
      ).lastInsertRowid,
    )
  }

  get(runId: string): RunRow | undefined {
    return this.#get.get(runId) as RunRow | undefined
  }

  byIdempotencyKey(key: string): RunRow | undefined {
    return this.#byKey.get(key) as RunRow | undefined
  }

  /** The unfinished run holding a deduplication id, if any. */
  byDeduplicationId(deduplicationId: string): string | undefined {
    return (this.#byDeduplicationId.get(deduplicationId) as { run_id: string } | undefined)?.run_id
  }

  /** Moves an unfinished run to `status`; returns false if it was finished meanwhile. */
  setStatus(runId: string, status: RunStatus, wakeAtMs: number | null, nowMs: number): boolean {
    return this.#setStatus.run(status, wakeAtMs, nowMs, runId).changes > 0
  }

  /** Ends an unfinished run; returns false if it was finished (e.g. cancelled) meanwhile. */
  finish(
    runId: string,
    status: 'succeeded' | 'failed',
    output: string | null,
    error: string | null,
    nowMs: number,
  ): boolean {
    return this.#finish.run(status, output, error, nowMs, runId).changes > 0
  }

  /**
   * Puts `running` runs back to `pending`, except `stillExecuting` (a clean close stopped the
   * others at a durable point; those it abandoned keep `running`, as after a crash).
   */
  releaseRunning(stillExecuting: readonly string[], nowMs: number): number {
    return this.#releaseRunning.run(nowMs, JSON.stringify(stillExecuting)).changes
  }

  /**
   * At open: every `running` run was executing when the previous process ended abnormally.
   * Makes them `pending` with one more crash counted, and returns them.
   */
  countCrashes(nowMs: number): CrashedRun[] {
    return this.#countCrashes.all(nowMs) as CrashedRun[]
  }

  /** True if some run is `running` (at open: the previous process ended abnormally). */
  hasRunning(): boolean {
    return this.#anyRunning.get() !== undefined
  }

  /** Pending runs with crashes counted, most crashes first, to recover one at a time. */
  suspects(): string[] {
    return (this.#suspects.all() as { run_id: string }[]).map((row) => row.run_id)
  }

  /** Forgets a run's crashes (it made durable progress). */
  clearCrashCount(runId: string): void {
    this.#clearCrashCount.run(runId)
  }

  /**
   * Makes a finished run `pending` again (resume), with no crashes counted and, if it has a
   * timeout, a new deadline counted from now.
   */
  reset(runId: string, nowMs: number): void {
    this.#reset.run(nowMs, runId)
  }

  /** Sleeping or waiting runs whose timer is due. */
  due(nowMs: number): string[] {
    return (this.#due.all(nowMs) as { run_id: string }[]).map((row) => row.run_id)
  }

  /** The earliest durable timer (after `afterMs` if given), or `null`. */
  earliestWakeAt(afterMs = Number.MIN_SAFE_INTEGER): number | null {
    return (this.#earliest.get(afterMs) as { wake_at: number | null }).wake_at
  }

  /** Runs to execute (or replay) after opening: pending, running and waiting ones. */
  runnable(): string[] {
    return (this.#runnable.all() as { run_id: string }[]).map((row) => row.run_id)
  }

  /** True if some run is pending or running. */
  hasUnfinishedWork(): boolean {
    return this.#unfinished.get() !== undefined
  }

  insertEvent(runId: string, name: string, payload: string | null, nowMs: number): void {
    this.#insertEvent.run(runId, name, payload, nowMs)
  }

  /** Takes the oldest unconsumed event `name` of a run for the wait at `seq`. */
  takeEvent(runId: string, name: string, seq: number): { payload: string | null } | undefined {
    return this.#takeEvent.get(seq, runId, name) as { payload: string | null } | undefined
  }

  /**
   * Cancels a run (recording `error`, JSON text) and its unfinished non-detached descendants;
   * returns the cancelled runs.
   */
  cancelTree(runId: string, error: string, nowMs: number): CancelledRun[] {
    return this.#cancelTree.all(runId, nowMs, error) as CancelledRun[]
  }
}
