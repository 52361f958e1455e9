import type { Database, Statement } from './connection.js'
import { EngineError } from './engine-error.js'

interface Waiter {
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * Microtask hops without a new write after which a batch commits. Between two writes of one
 * run lie about 6–8 hops (step resolution, async returns, the next ctx call), so 10 quiet hops
 * mean that every run which could still join this batch has had its turn.
 */
export const QUIET_HOPS_BEFORE_COMMIT = 10
/**
 * Longest stretch of back-to-back microtask commits before a commit waits for an event-loop
 * turn (`setImmediate`) instead, so a long chain of fast steps cannot starve I/O and timers.
 */
export const MAX_MICROTASK_STRETCH_MS = 2

/**
 * Group commit over the engine's single write connection.
 *
 * Writes execute at once, synchronously, inside a batch transaction that the first write
 * opens (`BEGIN IMMEDIATE`). The batch commits once the microtask queue has gone
 * {@link QUIET_HOPS_BEFORE_COMMIT} hops without a new write, i.e. after every run that
 * progressed in the same wave has added its checkpoint; then each `durable()` waiter resolves.
 * So N concurrent runs finishing a step together cost one commit, not N commits queued behind
 * each other, and a lone run commits without waiting for an event-loop turn (a `setImmediate`
 * per step cost more than the SQLite commit itself, measured with --cpu-prof). Every
 * {@link MAX_MICROTASK_STRETCH_MS} the commit goes through `setImmediate` to let I/O in.
 *
 * Because writes run immediately on the write connection, later reads on that connection see
 * them (read-your-writes), and a `ctx.transaction` nests in a savepoint of the batch so its SQL
 * and its checkpoint commit together.
 *
 * Failure: if `COMMIT` fails, the batch rolls back and every waiter of that batch rejects with
 * `STORAGE_FAILED`; nothing of the batch is durable. SQLite may also end the open transaction
 * by itself while a write fails (`SQLITE_FULL`, an I/O error, a trigger's `RAISE(ROLLBACK)`,
 * `INSERT OR ROLLBACK`, an interrupted write): the write that failed notices (the connection
 * is no longer in a transaction), every waiter of the batch rejects with `STORAGE_FAILED` the
 * same way, and the next write opens a new batch. Engine statements can end the transaction
 * only by failing, so checking on failure suffices; user SQL, which could also end it while
 * succeeding, is checked after every statement by its `TransactionScope`.
 */
export class GroupCommit {
  readonly #db: Database
  readonly #begin: Statement
  readonly #commit: Statement
  readonly #rollback: Statement
  readonly #savepoint: Statement
  readonly #release: Statement
  readonly #rollbackTo: Statement
  readonly #onCommit: ((writes: number, durationMs: number) => void) | undefined
  readonly #isSolo: () => boolean
  readonly #synchronousFull: boolean
  #waiters: Waiter[] = []
  #writes = 0
  #openedAt = 0
  #open = false
  #batch = 0
  #immediate: NodeJS.Immediate | null = null
  #stretchStartedAt = 0
  #turnPending = false
  #closed = false
  /** Number of batch transactions committed so far (a test and metrics hook). */
  commits = 0
  /** Number of batches SQLite rolled back by itself (a test and metrics hook). */
  lostBatches = 0

  /**
   * @param isSolo says whether at most one run executes, so that a single-statement write may
   *   commit on its own (see {@link writeOne}).
   * @param synchronous the connection's `PRAGMA synchronous` (see {@link writeOneUnsynced}).
   */
  constructor(
    db: Database,
    onCommit?: (writes: number, durationMs: number) => void,
    isSolo: () => boolean = () => false,
    synchronous: 'NORMAL' | 'FULL' = 'NORMAL',
  ) {
    this.#db = db
    this.#isSolo = isSolo
    this.#synchronousFull = synchronous === 'FULL'
    this.#begin = db.prepare('BEGIN IMMEDIATE')
    this.#commit = db.prepare('COMMIT')
    this.#rollback = db.prepare('ROLLBACK')
    this.#savepoint = db.prepare('SAVEPOINT lc_atomic')
    this.#release = db.prepare('RELEASE lc_atomic')
    this.#rollbackTo = db.prepare('ROLLBACK TO lc_atomic')
    this.#onCommit = onCommit
  }

  /** True while a batch transaction is open (its writes are not committed yet). */
  get inTransaction(): boolean {
    return this.#open
  }

  /** True while {@link writeOne} would autocommit: no batch is open and at most one run executes. */
  get commitsAlone(): boolean {
    return !this.#open && !this.#closed && this.#isSolo()
  }

  /** The write connection, for prepared statements owned by the stores. */
  get db(): Database {
    return this.#db
  }

  /**
   * Runs `write` inside the open batch transaction (opening one if needed) and returns its
   * result. A throwing `write` leaves earlier writes of the batch intact.
   *
   * @throws {EngineError} `ENGINE_CLOSED` after {@link close}.
   */
  write<T>(write: () => T): T {
    if (this.#closed) throw new EngineError('ENGINE_CLOSED', 'write: the engine is closed')
    if (!this.#open) this.#openBatch()
    this.#writes++
    try {
      return write()
    } catch (error) {
      // A failing statement may have ended SQLite's transaction, and the batch with it.
      if (this.#open && !this.#db.inTransaction) this.#lose(error)
      throw asStorageFailure(error)
    }
  }

  /**
   * {@link write} for a closure that runs exactly one statement. When no batch is open and at
   * most one run executes, nobody could share a commit, so the statement runs in SQLite's
   * autocommit mode and is committed when it returns: one native call instead of three
   * (BEGIN, statement, COMMIT), which made a lone run's step about twice as fast (each libsql
   * call costs several µs of binding overhead, measured with --cpu-prof). Multi-statement
   * closures must use {@link write} or {@link atomic}, which always open a transaction.
   *
   * @throws {EngineError} `STORAGE_FAILED` if the autocommitted statement fails.
   */
  writeOne<T>(write: () => T): T {
    if (this.#open || !this.#isSolo()) return this.write(write)
    if (this.#closed) throw new EngineError('ENGINE_CLOSED', 'write: the engine is closed')
    const t0 = performance.now()
    let result: T
    try {
      result = write()
    } catch (cause) {
      throw new EngineError('STORAGE_FAILED', `write: ${(cause as Error).message}`, { cause })
    }
    this.commits++
    this.#onCommit?.(1, performance.now() - t0)
    return result
  }

  /**
   * {@link write} for a multi-statement closure that, when it commits alone (no batch open, at
   * most one run executes), commits in a transaction of its own before returning (`BEGIN`,
   * `write`, `COMMIT`) instead of waiting for a batch's quiet hops: a lone run's end and its
   * last step's checkpoint share one commit this way (see RunContext#deferCheckpoint).
   * Otherwise it joins the batch like {@link write}. All or nothing in both cases.
   *
   * @throws {EngineError} `STORAGE_FAILED` if a statement or the commit fails (nothing of
   *   `write` is committed then).
   */
  writeTogether<T>(write: () => T): T {
    if (this.#open || !this.#isSolo()) return this.atomic(write)
    if (this.#closed) throw new EngineError('ENGINE_CLOSED', 'write: the engine is closed')
    const t0 = performance.now()
    let result: T
    try {
      this.#begin.run()
      result = write()
      this.#commit.run()
    } catch (cause) {
      try {
        if (this.#db.inTransaction) this.#rollback.run()
      } catch {
        // The first error is the one worth reporting (see #flush).
      }
      throw cause instanceof EngineError
        ? cause
        : new EngineError('STORAGE_FAILED', `write: ${(cause as Error).message}`, { cause })
    }
    this.commits++
    this.#onCommit?.(1, performance.now() - t0)
    return result
  }

  /**
   * {@link writeOne} for a write that must survive a crash of the process but not a power loss
   * (a run's `running` mark, see executor.ts). With `synchronous=FULL` its autocommit skips the
   * fsync: WAL frames stay in order, so the next synced commit makes it durable as well, and a
   * sequential run keeps one fsync per step instead of paying one more for the mark.
   */
  writeOneUnsynced<T>(write: () => T): T {
    if (!this.#synchronousFull || this.#open || !this.#isSolo()) return this.writeOne(write)
    // A prepared PRAGMA synchronous applies when compiled, not reliably when run: exec.
    this.#db.exec('PRAGMA synchronous=NORMAL')
    try {
      return this.writeOne(write)
    } finally {
      this.#db.exec('PRAGMA synchronous=FULL')
    }
  }

  /**
   * Like {@link write}, but all or nothing: `write` runs inside a savepoint of the batch, and
   * if it throws, its statements roll back (the batch's other writes stay) and the error is
   * rethrown.
   */
  atomic<T>(write: () => T): T {
    return this.write(() => {
      this.#savepoint.run()
      try {
        const result = write()
        this.#release.run()
        return result
      } catch (error) {
        // If SQLite ended the whole transaction, there is no savepoint left to roll back to.
        if (this.#db.inTransaction) {
          this.#rollbackTo.run()
          this.#release.run()
        }
        throw error
      }
    })
  }

  #openBatch(): void {
    this.#begin.run()
    this.#open = true
    const batch = ++this.#batch
    const now = performance.now()
    this.#openedAt = now
    if (!this.#turnPending) {
      // A new stretch of microtask commits begins; note when the event loop next gets a turn.
      this.#turnPending = true
      this.#stretchStartedAt = now
      setImmediate(() => (this.#turnPending = false))
    } else if (now - this.#stretchStartedAt > MAX_MICROTASK_STRETCH_MS) {
      this.#immediate = setImmediate(() => {
        this.#immediate = null
        if (this.#batch === batch && this.#open) this.#flush()
      })
      return
    }
    let seen = this.#writes
    let quiet = 0
    const hop = (): void => {
      if (this.#batch !== batch || !this.#open) return
      if (this.#writes !== seen) {
        seen = this.#writes
        quiet = 0
      } else if (++quiet >= QUIET_HOPS_BEFORE_COMMIT) {
        this.#flush()
        return
      }
      queueMicrotask(hop)
    }
    queueMicrotask(hop)
  }

  /** Resolves once everything written so far is committed; at once if nothing is pending. */
  durable(): Promise<void> {
    if (!this.#open) return Promise.resolve()
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  /** Commits the open batch now (used before closing and by snapshots). */
  flushNow(): void {
    if (this.#open) this.#flush()
  }

  /**
   * Commits the open batch now, for a caller that goes on at once on the strength of it.
   *
   * @throws {EngineError} `STORAGE_FAILED` if the commit failed (its waiters reject too).
   */
  commitNow(): void {
    const error = this.#open ? this.#flush() : null
    if (error !== null) throw error
  }

  /** Commits what is pending, then refuses further writes. Does not close the connection. */
  close(): void {
    this.flushNow()
    this.#closed = true
  }

  /**
   * SQLite rolled the open batch back by itself while a write failed with `cause`: nothing of
   * the batch is committed, so its waiters learn it now, and the next write opens a new batch.
   */
  #lose(cause: unknown): void {
    const { waiters, writes } = this.#endBatch()
    this.lostBatches++
    const code = (cause as { code?: unknown } | null)?.code
    const error = new EngineError(
      'STORAGE_FAILED',
      `commit ${writes} engine writes: SQLite rolled back their transaction when a write failed (${typeof code === 'string' ? `${code}: ` : ''}${(cause as Error)?.message ?? String(cause)}); none of them is committed, and the runs that wrote them continue from their last committed step`,
      { cause },
    )
    for (const waiter of waiters) waiter.reject(error)
  }

  /** Closes the books of the open batch: returns its waiters and write count. */
  #endBatch(): { waiters: Waiter[]; writes: number } {
    const batch = { waiters: this.#waiters, writes: this.#writes }
    this.#waiters = []
    this.#writes = 0
    this.#open = false
    if (this.#immediate !== null) clearImmediate(this.#immediate)
    this.#immediate = null
    return batch
  }

  /** Commits the open batch; returns the error its waiters rejected with if that failed. */
  #flush(): EngineError | null {
    const { waiters, writes } = this.#endBatch()
    try {
      this.#commit.run()
    } catch (cause) {
      try {
        if (this.#db.inTransaction) this.#rollback.run()
      } catch {
        // The commit error below is the one worth reporting; a failed rollback after a failed
        // commit leaves SQLite to roll back the journal on the next open.
      }
      const error = new EngineError(
        'STORAGE_FAILED',
        `commit ${writes} engine writes: ${(cause as Error).message}; check disk space and that no other process holds the write lock`,
        { cause },
      )
      for (const waiter of waiters) waiter.reject(error)
      return error
    }
    this.commits++
    this.#onCommit?.(writes, performance.now() - this.#openedAt)
    for (const waiter of waiters) waiter.resolve()
    return null
  }
}

/**
 * An SQLite error from the engine's own statements is the storage's failure (a full disk, an
 * I/O error): callers see `STORAGE_FAILED` (HTTP 503), with SQLite's error as the cause.
 */
function asStorageFailure(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code
  if (error instanceof EngineError || typeof code !== 'string' || !code.startsWith('SQLITE_'))
    return error
  return new EngineError('STORAGE_FAILED', `write: ${code}: ${(error as Error).message}`, {
    cause: error,
  })
}
