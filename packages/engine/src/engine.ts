import { existsSync } from 'node:fs'
import { isPositiveInteger } from './app.js'
import { checkApp, recordApp, type AppIdentity } from './app-identity.js'
import { openConnection, type Database } from './connection.js'
import { EngineError, invalidInput } from './engine-error.js'
import { resolveOptions, type EngineOptions, type ResolvedOptions } from './engine-options.js'
import { Executor } from './executor.js'
import { GroupCommit } from './group-commit.js'
import { applyMigrations } from './migration.js'
import { Journal } from './journal.js'
import { toJsonText, type JsonValue } from './json.js'
import { validateQuery, type QueryArgs, type QueryOptions, type QueryResult } from './query.js'
import { QueryThread } from './query-thread.js'
import { recoverRuns, type RecoveryReport } from './recovery.js'
import { recordedCode } from './recorded-error.js'
import {
  isFinished,
  type ListOptions,
  type ListPage,
  type RunDetail,
  type RunStatus,
  type RunStatusEntry,
  type StartOptions,
  type StartRequest,
  type StepDetail,
} from './run.js'
import type { RunRow, RunStore } from './run-store.js'
import { RunStore as Store } from './run-store.js'
import { RunView } from './run-view.js'
import { applySchema } from './schema.js'
import { Scheduler, type Schedules } from './scheduler.js'
import { DebounceStore } from './debounce.js'
import { Retention, syncRetentionIndex } from './retention.js'
import { CANCELLED_ERROR_TEXT, RunDeadlines } from './run-deadline.js'
import { RunTagStore } from './run-tags.js'
import { RunTree } from './run-tree.js'
import {
  insertOrFindRun,
  MAX_START_MANY,
  validateStartRequest,
  type StartStores,
} from './start-request.js'
import { checkInput } from './workflow-definition.js'
import { describeApp, type AppDescription } from './app-description.js'
import { TransactionStatements } from './transaction-statements.js'

function bad(what: string, value: unknown, expected: string): never {
  throw invalidInput(what, value, expected)
}

/** Each engine's write connection, for the engine's own fault-injection tests only. */
const writeConnections = new WeakMap<Engine, Database>()
/** Each engine's retention, so the engine's own tests can sweep without waiting for its timer. */
const retentions = new WeakMap<Engine, Retention>()

/**
 * The write connection of `engine`, so a test can inject a storage fault SQLite itself
 * produces (`PRAGMA max_page_count` for `SQLITE_FULL`). Not exported from index.ts.
 */
export function writeConnectionOf(engine: Engine): Database {
  return writeConnections.get(engine) as Database
}

/**
 * Runs a retention sweep of `engine` now and resolves with the number of runs deleted (the
 * engine's own tests only; not exported from index.ts).
 */
export function sweepRetentionOf(engine: Engine): Promise<number> {
  return (retentions.get(engine) as Retention).sweep()
}

/**
 * A durable workflow engine bound to one SQLite database file (one tenant). Open it with
 * {@link Engine.open}; every method validates its arguments before writing anything, and
 * whatever a method reports as accepted is committed.
 */
export class Engine {
  readonly #options: ResolvedOptions
  readonly #writeDb: Database
  readonly #readDb: Database
  readonly #writer: GroupCommit
  readonly #runs: RunStore
  readonly #journal: Journal
  readonly #executor: Executor
  readonly #readView: RunView
  readonly #writeView: RunView
  readonly #queryThread: QueryThread
  readonly #transactionStatements: TransactionStatements
  readonly #scheduler: Scheduler
  readonly #stores: StartStores
  readonly #deadlines: RunDeadlines
  readonly #tree: RunTree
  readonly #retention: Retention
  #recovery: RecoveryReport = { crashed: 0, quarantined: [], suspects: 0 }
  #closed: Promise<void> | null = null

  private constructor(options: ResolvedOptions, writeDb: Database, readDb: Database) {
    this.#options = options
    this.#writeDb = writeDb
    writeConnections.set(this, writeDb)
    this.#readDb = readDb
    this.#writer = new GroupCommit(
      writeDb,
      options.observer?.onCommit?.bind(options.observer),
      () => this.#executor.executingCount <= 1,
      options.synchronous,
    )
    this.#runs = new Store(writeDb, options.appVersion)
    this.#journal = new Journal(writeDb)
    this.#transactionStatements = new TransactionStatements(writeDb)
    const tags = new RunTagStore(writeDb)
    this.#stores = { runs: this.#runs, debounce: new DebounceStore(writeDb), tags }
    this.#deadlines = new RunDeadlines(writeDb)
    this.#tree = new RunTree(writeDb, this.#runs, this.#journal, tags)
    this.#executor = new Executor({
      app: options.app,
      writer: this.#writer,
      journal: this.#journal,
      runs: this.#runs,
      clock: options.clock,
      observer: options.observer,
      traceAttributes: options.traceAttributes,
      concurrency: options.concurrency,
      transactionStatements: this.#transactionStatements,
      transactionTimeoutMs: options.transactionTimeoutMs,
      confirmDurable: options.confirmDurable,
      tags,
      deadlines: this.#deadlines,
    })
    this.#scheduler = new Scheduler({
      app: options.app,
      writer: this.#writer,
      runs: this.#runs,
      stores: this.#stores,
      executor: this.#executor,
      clock: options.clock,
      started: (row) => this.#started(row),
    })
    this.#retention = new Retention(
      writeDb,
      this.#writer,
      options.clock,
      options.app.retention ?? {},
      (runId) => this.#executor.isActive(runId),
    )
    retentions.set(this, this.#retention)
    this.#readView = new RunView(readDb)
    this.#writeView = new RunView(writeDb)
    this.#queryThread = new QueryThread({
      path: options.path,
      timeoutMs: options.queryTimeoutMs,
      idleMs: options.queryThreadIdleMs,
    })
  }

  /**
   * Opens (creating if needed) the database at `path`, checks that it runs this app, applies
   * the schema and the app's pending migrations, recovers every unfinished run, and syncs and
   * fires the schedules (missed fires as their `catchUp` says).
   *
   * @throws {EngineError} `INVALID_INPUT` for bad options; `APP_MISMATCH` (the file records
   *   another app) or `MIGRATION_MISMATCH` (an applied migration changed or moved), both
   *   before anything is written; `MIGRATION_FAILED`; `STORAGE_FAILED` if the file cannot be
   *   opened.
   */
  static async open(options: EngineOptions): Promise<Engine> {
    const resolved = resolveOptions(options)
    let writeDb: Database | undefined
    let readDb: Database | undefined
    try {
      writeDb = openConnection(resolved.path, { synchronous: resolved.synchronous })
      applySchema(writeDb)
      const identity = { name: resolved.appName, version: resolved.appVersion }
      const recorded = checkApp(writeDb, identity, resolved.upgradeFrom)
      applyMigrations(writeDb, resolved.app.migrations ?? [], resolved.appName, resolved.clock())
      recordApp(writeDb, identity, recorded, resolved.clock())
      syncRetentionIndex(writeDb, resolved.app.retention)
      readDb = openConnection(resolved.path, { synchronous: resolved.synchronous, readOnly: true })
    } catch (error) {
      readDb?.close()
      writeDb?.close()
      if (error instanceof EngineError) throw error
      throw new EngineError(
        'STORAGE_FAILED',
        `open database ${resolved.path}: ${(error as Error).message}`,
        { cause: error },
      )
    }
    const engine = new Engine(resolved, writeDb, readDb)
    try {
      engine.#recovery = await recoverRuns({
        executor: engine.#executor,
        runs: engine.#runs,
        writer: engine.#writer,
        clock: resolved.clock,
        observer: resolved.observer,
      })
      await engine.#scheduler.open()
    } catch (error) {
      await engine.close().catch(() => undefined)
      throw error
    }
    engine.#retention.start()
    return engine
  }

  /**
   * What opening found: runs that were executing when the previous process ended abnormally,
   * the runs quarantined for it (`failed` with `RUN_QUARANTINED`), and how many runs are
   * recovered on probation.
   */
  get recovery(): RecoveryReport {
    return this.#recovery
  }

  /** The app this engine runs, as the database records it: its name and version. */
  get app(): AppIdentity {
    return { name: this.#options.appName, version: this.#options.appVersion }
  }

  /** The tenant's cron schedules: create, list, pause, resume, trigger, backfill, delete. */
  get schedules(): Schedules {
    return this.#scheduler
  }

  /**
   * Starts a run of `workflow`. With an `idempotencyKey` already used, returns that run with
   * `created: false` instead.
   *
   * With `debounce: { key, delayMs }` (or the workflow's declared `debounce`), the start
   * either creates a run that is `sleeping` until `delayMs` from now, or, while the run of
   * the same workflow and key created earlier has not begun to execute, hands that run this
   * start's input and moves its start to `delayMs` from now; it then answers with that run's
   * id and `created: false`. Every start of a burst (starts less than `delayMs` apart) thus
   * gets the id of the one run that executes, with the last input, `delayMs` after the last
   * start. A start after that run began starts the next burst (a new run). Only the input is
   * taken from later starts: the other options are those of the start that created the run,
   * and so is its idempotency key (a later start's key is not kept: retried, it joins the
   * burst again, or starts the next one).
   *
   * @throws {EngineError} `UNKNOWN_WORKFLOW`, `INVALID_INPUT` (input not JSON, bad options,
   *   unknown queue), `IDEMPOTENCY_CONFLICT` (key used by another workflow), `DUPLICATE_RUN`
   *   (an unfinished run holds the `deduplicationId`; `details.runId` names it),
   *   `ENGINE_CLOSED`. Nothing is written when it throws.
   */
  async start(
    workflow: string,
    input?: JsonValue,
    options?: StartOptions,
  ): Promise<{ runId: string; status: RunStatus; created: boolean }> {
    this.#assertOpen('start')
    if (options !== undefined && (typeof options !== 'object' || options === null))
      bad('options', options, 'an object')
    // Only a workflow with an input schema pays for the check (and its await).
    const schema = this.#executor.inputSchema(workflow)
    if (schema !== undefined)
      input = (await checkInput(schema, input ?? null, `start ${workflow}`)) as JsonValue
    const request = validateStartRequest(this.#executor, { ...options, workflow, input }, 'start')
    // A plain start is one INSERT, which may commit on its own (GroupCommit#writeOne); with a
    // key, tags or a debounce it is several statements.
    const plain = request.idempotencyKey === null && request.flow === null
    // A plain run that commits alone and executes at once is inserted `running`: its insert
    // also commits the mark the execution would commit next (one commit instead of two).
    // Nothing awaits from here to the workflow's code, so no other code runs in between and
    // the mark stays as exact for crash attribution as the execution's own (recovery.ts).
    const running =
      plain && this.#writer.commitsAlone && this.#executor.executesAtOnce(request.queue)
    const insert = () => insertOrFindRun(this.#stores, request, this.#options.clock(), running)
    const { row, created } = plain ? this.#writer.writeOne(insert) : this.#writer.atomic(insert)
    if (!running) await this.#writer.durable()
    // Announced and answered as accepted (`pending`), as every start is; its execution
    // announces `running`.
    const accepted = running ? 'pending' : row.status
    if (created) this.#started(row, true, accepted)
    return { runId: row.run_id, status: accepted, created }
  }

  /**
   * Starts many runs in one commit. All requests are validated first; if one is bad, none is
   * written. Idempotency keys behave as in {@link start}.
   */
  async startMany(requests: readonly StartRequest[]): Promise<{ runIds: string[] }> {
    this.#assertOpen('startMany')
    if (!Array.isArray(requests) || requests.length > MAX_START_MANY)
      bad('runs', requests, `an array of at most ${MAX_START_MANY} runs`)
    const checked = await this.#checkInputs(requests)
    const valid = checked.map((request, i) =>
      validateStartRequest(this.#executor, request, `runs[${i}]`),
    )
    const results = this.#writer.atomic(() =>
      valid.map((request) => insertOrFindRun(this.#stores, request, this.#options.clock())),
    )
    await this.#writer.durable()
    for (const { row, created } of results) if (created) this.#started(row)
    return { runIds: results.map(({ row }) => row.run_id) }
  }

  /** The requests with each input checked by its workflow's schema (the same array if none has one). */
  async #checkInputs(requests: readonly StartRequest[]): Promise<readonly StartRequest[]> {
    let checked: StartRequest[] | undefined
    for (let i = 0; i < requests.length; i += 1) {
      const request = requests[i]!
      const schema =
        typeof request === 'object' && request !== null
          ? this.#executor.inputSchema(request.workflow)
          : undefined
      if (schema === undefined) continue
      checked ??= [...requests]
      const input = await checkInput(
        schema,
        request.input ?? null,
        `runs[${i}] (${request.workflow})`,
      )
      checked[i] = { ...request, input: input as JsonValue }
    }
    return checked ?? requests
  }

  /** The app's workflows (with their input schemas), queues and declared schedules. */
  describe(): AppDescription {
    return describeApp(this.#options.app)
  }

  /**
   * The id of the run that `text` names: a run id, or a unique prefix of one (at least 4
   * characters), as people copy ids.
   *
   * @throws {EngineError} `RUN_NOT_FOUND`, `AMBIGUOUS_RUN_ID`.
   */
  resolveRunId(text: string): string {
    this.#assertOpen('resolveRunId')
    return this.#view().lookup.resolve(text)
  }

  /** @throws {EngineError} `RUN_NOT_FOUND`. */
  async get(runId: string): Promise<RunDetail> {
    this.#assertOpen('get')
    return this.#view().get(runId)
  }

  /**
   * One step (journal entry) of a run with its recorded output or error.
   *
   * @throws {EngineError} `RUN_NOT_FOUND` for an unknown run or step.
   */
  async step(runId: string, seq: number): Promise<StepDetail> {
    this.#assertOpen('step')
    return this.#view().step(runId, seq)
  }

  /** Runs, newest first, filtered and paginated by an opaque cursor. */
  async list(options?: ListOptions): Promise<ListPage> {
    this.#assertOpen('list')
    return this.#view().list(options)
  }

  /**
   * Resolves with the run once it ends, or after `waitMs` with its current state.
   *
   * @throws {EngineError} `RUN_NOT_FOUND`, `INVALID_INPUT`.
   */
  async result(runId: string, options?: { waitMs?: number }): Promise<RunDetail> {
    this.#assertOpen('result')
    const waitMs = options?.waitMs ?? 0
    if (typeof waitMs !== 'number' || !(waitMs >= 0) || !Number.isFinite(waitMs))
      bad('waitMs', waitMs, 'a number from 0 and up')
    // Only the status first: building the whole detail twice per waited-for run showed up in
    // the sequential benchmark's profile.
    const status = this.#view().status(runId)
    if (isFinished(status) || waitMs === 0) return this.#view().get(runId)
    return new Promise((resolve, reject) => {
      const answer = (): void => {
        clearTimeout(timer)
        remove()
        try {
          resolve(this.#view().get(runId))
        } catch (error) {
          reject(error)
        }
      }
      const remove = this.#executor.onEnd(runId, answer)
      const timer = setTimeout(answer, waitMs)
    })
  }

  /**
   * Sends an event to a run; a `ctx.waitForEvent(name)` takes it, now or later.
   *
   * @throws {EngineError} `RUN_NOT_FOUND`, `INVALID_STATE` (run ended), `INVALID_INPUT`.
   */
  async sendEvent(runId: string, name: string, payload?: JsonValue): Promise<void> {
    this.#assertOpen('sendEvent')
    if (typeof name !== 'string' || name === '') bad('name', name, 'a non-empty string')
    const payloadText = toJsonText(payload ?? null, 'the event payload')
    const row = this.#getRow(runId, 'send event to')
    if (isFinished(row.status))
      throw new EngineError(
        'INVALID_STATE',
        `send event ${name} to run ${runId}: the run is ${row.status}`,
      )
    this.#writer.writeOne(() =>
      this.#runs.insertEvent(runId, name, payloadText, this.#options.clock()),
    )
    await this.#writer.durable()
    this.#executor.wake(runId)
  }

  /**
   * Cancels a run and its unfinished descendants, except children started `detached` (and
   * theirs); those cancelled with it record `PARENT_CANCELLED`, so that {@link resume} of the
   * run resumes them too. An executing run stops at its next ctx call (a step in flight
   * finishes, and its result is recorded).
   *
   * @throws {EngineError} `RUN_NOT_FOUND`, `INVALID_STATE` (already ended).
   */
  async cancel(runId: string): Promise<RunDetail> {
    this.#assertOpen('cancel')
    const row = this.#getRow(runId, 'cancel')
    if (isFinished(row.status))
      throw new EngineError(
        'INVALID_STATE',
        `cancel run ${runId}: the run is already ${row.status}`,
      )
    await this.#executor.cancelTree(runId, CANCELLED_ERROR_TEXT)
    return this.#view().get(runId)
  }

  /**
   * Resumes a `failed` or `cancelled` run: a failed run forgets its journal from the first
   * failed call on (so that call runs again), then the run replays. A quarantined run
   * (`RUN_QUARANTINED`) keeps its whole journal and starts with no crashes counted: it is
   * recovered on probation again only if it kills the process again. Descendants cancelled
   * with the run (`PARENT_CANCELLED`) are resumed with it, keeping their journals (see
   * run-tree.ts); children that ended on their own are left as they are. A run with a
   * `timeoutMs` gets a new deadline, `timeoutMs` from now.
   *
   * @throws {EngineError} `RUN_NOT_FOUND`, `INVALID_STATE` (not failed or cancelled),
   *   `DUPLICATE_RUN` (another unfinished run took its deduplication id meanwhile).
   */
  async resume(runId: string): Promise<RunDetail> {
    this.#assertOpen('resume')
    const row = this.#getRow(runId, 'resume')
    if (row.status !== 'failed' && row.status !== 'cancelled')
      throw new EngineError(
        'INVALID_STATE',
        `resume run ${runId}: only failed or cancelled runs resume, this one is ${row.status}`,
      )
    const holder =
      row.deduplication_id === null ? undefined : this.#runs.byDeduplicationId(row.deduplication_id)
    if (holder !== undefined)
      throw new EngineError(
        'DUPLICATE_RUN',
        `resume run ${runId}: its deduplication id \`${row.deduplication_id}\` is held by run ${holder} until it ends`,
        { details: { runId: holder } },
      )
    const nowMs = this.#options.clock()
    const resumed = this.#writer.write(() => {
      const quarantined = recordedCode(row.error) === 'RUN_QUARANTINED'
      const failedSeq =
        row.status === 'failed' && !quarantined ? this.#journal.firstFailedSeq(runId) : null
      if (failedSeq !== null) this.#journal.truncate(runId, failedSeq)
      this.#runs.reset(runId, nowMs)
      return [this.#runs.get(runId) as RunRow, ...this.#tree.resumeCascaded(runId, nowMs)]
    })
    await this.#writer.durable()
    for (const run of resumed) this.#started(run, false)
    return this.#view().get(runId)
  }

  /**
   * Starts a new run of the same workflow, input and options (queue, priority, partition,
   * tags, timeout; not its deduplication id or idempotency key) that reuses the recorded calls
   * before `fromStep` (a seq) and runs the rest anew. Children started before `fromStep` that
   * ended on their own are reused as they are; those still unfinished, or cancelled with
   * their parent, are replaced by new runs of the fork (see run-tree.ts).
   *
   * @throws {EngineError} `RUN_NOT_FOUND`, `INVALID_INPUT` (`fromStep` not an integer ≥ 1).
   */
  async fork(runId: string, options: { fromStep: number }): Promise<{ runId: string }> {
    this.#assertOpen('fork')
    const fromStep = options?.fromStep
    if (!isPositiveInteger(fromStep)) bad('fromStep', fromStep, 'a step seq from 1 and up')
    const source = this.#getRow(runId, 'fork')
    const nowMs = this.#options.clock()
    const started = this.#writer.write(() => this.#tree.fork(source, fromStep, nowMs))
    await this.#writer.durable()
    for (const run of started) this.#started(run, false)
    return { runId: (started[0] as RunRow).run_id }
  }

  /**
   * The status of each of `runIds` (in order; at most 1,000), or
   * `status: null, notFound: true` for an id no run has.
   *
   * @throws {EngineError} `INVALID_INPUT` for anything but an array of 1 to 1,000 strings.
   */
  async statuses(runIds: readonly string[]): Promise<RunStatusEntry[]> {
    this.#assertOpen('statuses')
    return this.#view().statuses(runIds)
  }

  /**
   * The epoch ms at which this tenant next has work: now if a run is runnable, else the
   * earliest durable timer (sleep end, event timeout, retry wait, debounced start), run
   * deadline or schedule fire, or `null` if none.
   */
  async nextWakeAt(): Promise<number | null> {
    this.#assertOpen('nextWakeAt')
    if (this.#executor.activeCount > 0 || this.#runs.hasUnfinishedWork())
      return this.#options.clock()
    const times = [
      this.#runs.earliestWakeAt(),
      this.#deadlines.earliest(),
      this.#scheduler.nextFireAt(),
    ]
    const due = times.filter((at): at is number => at !== null)
    return due.length === 0 ? null : Math.min(...due)
  }

  /** Runs executing or queued in this process (for a worker's idle detection). */
  activeRuns(): number {
    return this.#executor.activeCount
  }

  /**
   * Resolves when no run executes or is queued and no durable timer or schedule fire is due
   * by the clock. Due ones are handled first, so a test can advance an injected clock, then
   * await this.
   */
  async idle(): Promise<void> {
    this.#assertOpen('idle')
    do {
      await this.#scheduler.settle()
      await this.#executor.idle()
    } while (this.#scheduler.hasWork())
  }

  /**
   * Read-only SQL over the tenant database (app tables and `lc_` tables alike), sandboxed to
   * SQLite's built-in functions over this database, on a thread of its own (see
   * query-thread.ts) and stopped inside SQLite after `queryTimeoutMs`.
   *
   * @throws {EngineError} `QUERY_NOT_READ_ONLY` (writes, transactions, ATTACH, PRAGMAs that
   *   act), `QUERY_NOT_ALLOWED` (functions or tables outside the sandbox), `QUERY_TIMEOUT`,
   *   `QUERY_BUSY` (64 of the tenant's queries already wait), `QUERY_TOO_LARGE` (a first row
   *   over 16 MiB; later rows past it are cut: `truncated`), `QUERY_FAILED`, `INVALID_INPUT`.
   */
  async query(sql: string, args?: QueryArgs, options?: QueryOptions): Promise<QueryResult> {
    this.#assertOpen('query')
    return this.#queryThread.run(validateQuery(sql, args, options))
  }

  /**
   * Writes a consistent copy of the database to `targetPath` (`VACUUM INTO`), including
   * everything committed so far. Blocks the engine for the copy's duration.
   *
   * @throws {EngineError} `INVALID_INPUT` if `targetPath` exists, `STORAGE_FAILED`.
   */
  async snapshot(targetPath: string): Promise<void> {
    this.#assertOpen('snapshot')
    if (typeof targetPath !== 'string' || targetPath === '')
      bad('targetPath', targetPath, 'a file path')
    if (existsSync(targetPath)) bad('targetPath', targetPath, 'a path where no file exists yet')
    this.#writer.flushNow()
    try {
      this.#writeDb.prepare('VACUUM INTO ?').run(targetPath)
    } catch (error) {
      throw new EngineError(
        'STORAGE_FAILED',
        `snapshot to ${targetPath}: ${(error as Error).message}`,
        { cause: error },
      )
    }
  }

  /**
   * Stops starting work, lets executing runs reach their next ctx call (they stop there and
   * continue on the next open), commits what is pending, answers `result` waiters with the
   * current state and closes the connections. Never checkpoints. Idempotent. With
   * `timeoutMs`, stops waiting for runs still inside a step after that long; such a step runs
   * again after the next open (at-least-once).
   *
   * @throws {EngineError} `STORAGE_FAILED` if a connection fails to close.
   */
  close(options?: { timeoutMs?: number }): Promise<void> {
    const timeoutMs = options?.timeoutMs
    if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs >= 0)) {
      return Promise.reject(invalidInput('timeoutMs', timeoutMs, 'a number from 0 and up'))
    }
    this.#closed ??= this.#close(timeoutMs)
    return this.#closed
  }

  async #close(timeoutMs: number | undefined): Promise<void> {
    this.#scheduler.close()
    await this.#retention.stop()
    await this.#queryThread.close()
    await this.#executor.close(timeoutMs)
    const errors: unknown[] = []
    try {
      // The runs stopped at a ctx call are `pending` again: `running` stays only on runs still
      // executing (abandoned past timeoutMs), so the next open counts a crash against exactly
      // those (see recovery.ts).
      const stillExecuting = this.#executor.executingRunIds()
      this.#writer.write(() => this.#runs.releaseRunning(stillExecuting, this.#options.clock()))
    } catch (error) {
      errors.push(error)
    }
    const committed = this.#writer.durable().catch((error: unknown) => errors.push(error))
    this.#writer.close()
    await committed
    for (const answer of this.#executor.takeEndWaiters()) answer()
    this.#transactionStatements.clear()
    // libsql closes a connection for real only once its statements are freed too, so these
    // closes never checkpoint thanks to the file's pin (connection.ts), not to their order.
    for (const db of [this.#writeDb, this.#readDb]) {
      try {
        db.close()
      } catch (error) {
        errors.push(error)
      }
    }
    if (errors.length > 0)
      throw new EngineError(
        'STORAGE_FAILED',
        `close database ${this.#options.path}: ${(errors[0] as Error).message}`,
        { cause: errors[0] },
      )
  }

  /**
   * The view to read runs through. Both show committed state only: while a group-commit batch
   * is open the read-only connection does; otherwise the write connection holds exactly the
   * committed state, and its page cache is warm, where the read-only connection re-reads every
   * page a write changed (two `get`s per run were a third of a sequential run's CPU time).
   */
  #view(): RunView {
    return this.#writer.inTransaction ? this.#readView : this.#writeView
  }

  #assertOpen(what: string): void {
    if (this.#closed !== null)
      throw new EngineError('ENGINE_CLOSED', `${what}: the engine is closed`)
  }

  #getRow(runId: string, what: string): RunRow {
    if (typeof runId !== 'string') bad('runId', runId, 'a string')
    const row = this.#runs.get(runId)
    if (row === undefined)
      throw new EngineError('RUN_NOT_FOUND', `${what} run ${runId}: no such run`)
    return row
  }

  /**
   * Announces a run that became `pending` (or, debounced, `sleeping` until its start) and
   * schedules it; `fresh` runs have no journal yet. Arms the timer for its deadline.
   * `announced`: the status observers hear (a start inserted `running` is announced `pending`).
   */
  #started(row: RunRow, fresh = true, announced: RunStatus = row.status): void {
    this.#options.observer?.onRunStatus?.(row.run_id, row.workflow, announced)
    if (row.status === 'sleeping') this.#executor.armTimer(row.wake_at as number)
    else this.#executor.schedule(row.run_id, row, fresh)
    if (row.deadline_at !== null) this.#executor.armTimer(row.deadline_at)
  }
}
