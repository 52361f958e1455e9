import type { Database } from './connection.js'
import { EngineError, invalidInput } from './engine-error.js'
import type { TransactionStatements } from './transaction-statements.js'
import type { SqlArgs, SqlRow, SqlStatement, SqlValue, TransactionClient } from './workflow-context.js'

/**
 * A savepoint inside the group-commit batch for one `ctx.transaction`. The user's SQL and the
 * step's journal record are written between `SAVEPOINT` and `RELEASE`, so they commit (or not)
 * together with the batch; a throwing function rolls back to the savepoint, leaving the other
 * runs' writes in the batch untouched.
 *
 * The synchronous driver runs SQL on the event loop, so the transaction's statements share one
 * time budget (`timeoutMs`), enforced inside SQLite by interrupting the statement running when
 * it is spent: the event loop (and with it the worker's heartbeats) is blocked at most that
 * long. Some failures fail the transaction even if its function catches them (see
 * {@link failure}): a refused statement, the budget spent, and SQLite rolling back the whole
 * batch transaction (a trigger's `RAISE(ROLLBACK)`, `INSERT OR ROLLBACK`, an interrupted write,
 * `SQLITE_FULL`), after which nothing more may run, or it would autocommit outside the batch.
 */
export class TransactionScope {
  readonly #db: Database
  readonly #statements: TransactionStatements
  readonly #name: string
  readonly #timeoutMs: number
  readonly #deadline: number
  #open = true
  /** The savepoint exists in SQLite (neither released nor rolled back nor lost). */
  #savepoint = true
  #failure: unknown = undefined
  #batchLost = false
  readonly client: TransactionClient

  constructor(db: Database, statements: TransactionStatements, name: string, timeoutMs: number) {
    this.#db = db
    this.#statements = statements
    this.#name = name
    this.#timeoutMs = timeoutMs
    statements.savepoint.run()
    this.#deadline = performance.now() + timeoutMs
    this.client = { execute: (statement, args) => this.#execute(statement, args) }
  }

  /** The failure that fails this transaction whatever its function did after it, if any. */
  get failure(): unknown {
    return this.#failure
  }

  /** True once SQLite rolled back the whole batch transaction (nothing of it is left). */
  get batchLost(): boolean {
    return this.#batchLost
  }

  #execute(statement: string | SqlStatement, args?: SqlArgs): SqlRow[] {
    if (!this.#open) throw new Error('execute: this ctx.transaction has already ended')
    if (this.#failure !== undefined) throw this.#failure
    const { sql, bound } = parseStatement(statement, args)
    let prepared
    try {
      prepared = this.#statements.prepare(sql)
    } catch (error) {
      if ((error as { code?: unknown }).code === 'INVALID_INPUT') this.#failure = error
      throw error
    }
    if (prepared.hasNamelessParameter && bound !== undefined && !Array.isArray(bound)) {
      throw invalidInput(
        'tx.execute args',
        args ?? (statement as SqlStatement).args,
        `an array: \`${excerpt(sql)}\` has a plain ? parameter, which named arguments cannot bind (name it, e.g. :id)`,
      )
    }
    const leftMs = this.#deadline - performance.now()
    if (leftMs < 1) throw (this.#failure = this.#timeout(sql, undefined))
    const options = { queryTimeout: Math.ceil(leftMs) }
    let rows: SqlRow[] = []
    try {
      if (prepared.reader) rows = prepared.statement.all(bound, options) as SqlRow[]
      else prepared.statement.run(bound, options)
    } catch (error) {
      throw this.#failed(sql, error)
    }
    // A statement that succeeded cannot end the transaction once the authorizer refused
    // transaction control; this check stays as the guard that nothing autocommits after it.
    if (!this.#db.inTransaction) throw this.#failed(sql, new Error('the transaction ended'))
    return rows
  }

  /**
   * The error a failed statement fails with. A timeout, and SQLite ending the whole transaction
   * (after which the transaction cannot go on), are sticky; other SQL errors leave the
   * transaction usable, as in SQLite (the statement alone is undone), for `fn` to handle.
   */
  #failed(sql: string, error: unknown): unknown {
    const interrupted = (error as { code?: unknown } | null)?.code === 'SQLITE_INTERRUPT'
    const lost = !this.#db.inTransaction
    if (!interrupted && !lost) return error
    this.#failure = interrupted ? this.#timeout(sql, error) : error
    this.#batchLost = lost
    return this.#failure
  }

  #timeout(sql: string, cause: unknown): EngineError {
    return new EngineError(
      'STEP_TIMEOUT',
      `transaction '${this.#name}': its SQL ran longer than transactionTimeoutMs ${this.#timeoutMs}, so SQLite interrupted \`${excerpt(sql)}\`; make the statement cheaper (an index, fewer rows) or raise the engine's transactionTimeoutMs`,
      { cause },
    )
  }

  release(): void {
    this.#open = false
    this.#statements.release.run()
    this.#savepoint = false
  }

  /** Undoes the transaction's writes (idempotent; a no-op once SQLite rolled back the batch). */
  rollback(): void {
    this.#open = false
    if (!this.#savepoint) return
    this.#savepoint = false
    if (this.#batchLost || !this.#db.inTransaction) return
    this.#statements.rollbackTo.run()
    this.#statements.release.run()
  }

  /** Ends the scope without touching SQLite (its transaction is gone). */
  abandon(): void {
    this.#open = false
    this.#savepoint = false
  }
}

/**
 * The SQL and bindable arguments of `tx.execute(sql, args)` or `tx.execute({ sql, args })`,
 * the statement object `@libsql/client` users write.
 */
function parseStatement(
  statement: string | SqlStatement,
  args: SqlArgs | undefined,
): { sql: string; bound: unknown[] | Record<string, unknown> | undefined } {
  if (typeof statement === 'string') return { sql: statement, bound: toBindable(args) }
  if (typeof statement !== 'object' || statement === null || typeof statement.sql !== 'string')
    throw invalidInput('tx.execute statement', statement, 'an SQL string or { sql, args }')
  if (args !== undefined)
    throw invalidInput('tx.execute args', args, 'absent when the statement is { sql, args }')
  return { sql: statement.sql, bound: toBindable(statement.args) }
}

/**
 * Booleans become 0/1 (SQLite has no boolean type); arrays and objects pass through. Named
 * arguments may be written with their prefix (`{ ':id': 1 }`), as `@libsql/client` allows;
 * the driver binds names without it.
 */
export function toBindable(args: SqlArgs | undefined): unknown[] | Record<string, unknown> | undefined {
  if (args === undefined || args === null) return undefined
  const convert = (value: SqlValue): unknown =>
    typeof value === 'boolean' ? (value ? 1 : 0) : value
  if (Array.isArray(args)) return (args as readonly SqlValue[]).map(convert)
  // Anything but a plain object would reach the driver as named arguments it misreads (a
  // Uint8Array becomes {0: …, 1: …}).
  const prototype = typeof args === 'object' ? Object.getPrototypeOf(args) : undefined
  if (prototype !== Object.prototype && prototype !== null)
    throw invalidInput('tx.execute args', args, 'an array or a plain object')
  return Object.fromEntries(
    Object.entries(args as Record<string, SqlValue>).map(([key, value]) => [
      key[0] === ':' || key[0] === '@' || key[0] === '$' ? key.slice(1) : key,
      convert(value),
    ]),
  )
}

function excerpt(sql: string): string {
  return sql.length > 80 ? `${sql.slice(0, 77)}...` : sql
}
