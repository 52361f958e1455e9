import type { Database, Statement } from './connection.js'
import type { SqlRow, SqlValue, TransactionClient } from './workflow-context.js'

/**
 * A savepoint inside the group-commit batch for one `ctx.transaction`. The user's SQL and the
 * step's journal record are written between `SAVEPOINT` and `RELEASE`, so they commit (or not)
 * together with the batch; a throwing function rolls back to the savepoint, leaving the other
 * runs' writes in the batch untouched.
 */
export class TransactionScope {
  readonly #db: Database
  readonly #statements = new Map<string, Statement>()
  #open = true
  readonly client: TransactionClient

  constructor(db: Database) {
    this.#db = db
    db.exec('SAVEPOINT lc_transaction')
    this.client = { execute: (sql, args) => this.#execute(sql, args) }
  }

  #execute(sql: string, args?: readonly SqlValue[] | Readonly<Record<string, SqlValue>>): SqlRow[] {
    if (!this.#open) throw new Error('execute: this ctx.transaction has already ended')
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    const bound = toBindable(args)
    if (statement.reader) {
      return (bound === undefined ? statement.all() : statement.all(bound)) as SqlRow[]
    }
    if (bound === undefined) statement.run()
    else statement.run(bound)
    return []
  }

  release(): void {
    this.#open = false
    this.#db.exec('RELEASE lc_transaction')
  }

  rollback(): void {
    if (!this.#open) return
    this.#open = false
    this.#db.exec('ROLLBACK TO lc_transaction; RELEASE lc_transaction')
  }
}

/** Booleans become 0/1 (SQLite has no boolean type); arrays and objects pass through. */
export function toBindable(
  args: readonly SqlValue[] | Readonly<Record<string, SqlValue>> | undefined,
): unknown[] | Record<string, unknown> | undefined {
  if (args === undefined) return undefined
  const convert = (value: SqlValue): unknown =>
    typeof value === 'boolean' ? (value ? 1 : 0) : value
  if (Array.isArray(args)) return (args as readonly SqlValue[]).map(convert)
  return Object.fromEntries(
    Object.entries(args as Record<string, SqlValue>).map(([key, value]) => [key, convert(value)]),
  )
}
