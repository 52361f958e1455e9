import type { Database, Statement } from './connection.js'
import { EngineError } from './engine-error.js'

interface Waiter {
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * Group commit over the engine's single write connection.
 *
 * Writes execute at once, synchronously, inside a batch transaction that the first write of
 * an event-loop turn opens (`BEGIN IMMEDIATE`). The batch commits in a `setImmediate` callback,
 * after every run that progressed in the same turn has added its checkpoint; then each
 * `durable()` waiter resolves. So N concurrent runs finishing a step together cost one commit,
 * not N commits queued behind each other, and a lone run still commits within one turn.
 *
 * Because writes run immediately on the write connection, later reads on that connection see
 * them (read-your-writes), and a `ctx.transaction` nests in a savepoint of the batch so its SQL
 * and its checkpoint commit together.
 *
 * Failure: if `COMMIT` fails, the batch rolls back and every waiter of that batch rejects with
 * `STORAGE_FAILED`; nothing of the batch is durable.
 */
export class GroupCommit {
  readonly #db: Database
  readonly #begin: Statement
  readonly #commit: Statement
  readonly #rollback: Statement
  readonly #onCommit: ((writes: number, durationMs: number) => void) | undefined
  #waiters: Waiter[] = []
  #writes = 0
  #openedAt = 0
  #scheduled: NodeJS.Immediate | null = null
  #closed = false
  /** Number of batch transactions committed so far (a test and metrics hook). */
  commits = 0

  constructor(db: Database, onCommit?: (writes: number, durationMs: number) => void) {
    this.#db = db
    this.#begin = db.prepare('BEGIN IMMEDIATE')
    this.#commit = db.prepare('COMMIT')
    this.#rollback = db.prepare('ROLLBACK')
    this.#onCommit = onCommit
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
    if (this.#scheduled === null) {
      this.#begin.run()
      this.#openedAt = performance.now()
      this.#scheduled = setImmediate(() => this.#flush())
    }
    this.#writes++
    return write()
  }

  /** Resolves once everything written so far is committed; at once if nothing is pending. */
  durable(): Promise<void> {
    if (this.#scheduled === null) return Promise.resolve()
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  /** Commits the open batch now (used before closing and by snapshots). */
  flushNow(): void {
    if (this.#scheduled === null) return
    clearImmediate(this.#scheduled)
    this.#flush()
  }

  /** Commits what is pending, then refuses further writes. Does not close the connection. */
  close(): void {
    this.flushNow()
    this.#closed = true
  }

  #flush(): void {
    const waiters = this.#waiters
    const writes = this.#writes
    this.#waiters = []
    this.#writes = 0
    this.#scheduled = null
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
      return
    }
    this.commits++
    this.#onCommit?.(writes, performance.now() - this.#openedAt)
    for (const waiter of waiters) waiter.resolve()
  }
}
