import Libsql from 'libsql'
import type { Database, Statement } from './connection.js'
import { EngineError } from './engine-error.js'
import { sqlTextFacts } from './sql-text.js'

/** Distinct SQL texts of `tx.execute` kept prepared per engine (the oldest is dropped past it). */
export const MAX_CACHED_TRANSACTION_STATEMENTS = 256

/**
 * PRAGMAs that only read the schema, whatever their argument, and so may run inside a
 * `ctx.transaction` (the authorizer sees a pragma's name but cannot tell a read from a write
 * by its argument, so only pragmas that never write are allowed).
 */
const SCHEMA_READING_PRAGMAS = [
  'table_info',
  'table_xinfo',
  'table_list',
  'index_list',
  'index_info',
  'index_xinfo',
  'foreign_key_list',
] as const

const { Action, Authorization } = Libsql

/**
 * What `tx.execute` refuses, enforced by SQLite's authorizer while a statement is prepared:
 * transaction control (`BEGIN`, `COMMIT`, `END`, `ROLLBACK`, `SAVEPOINT`, `RELEASE`, `ROLLBACK
 * TO`) would end or split the engine's group-commit transaction, `ATTACH`/`DETACH` change
 * the connection, and PRAGMAs change the connection (or checkpoint, which only Litestream
 * may do). `VACUUM` has no authorizer action: it is refused by its leading keyword (SQLite
 * would refuse it inside a transaction anyway).
 */
const REFUSE_TRANSACTION_CONTROL = {
  rules: [
    ...SCHEMA_READING_PRAGMAS.map((entity) => ({
      action: Action.PRAGMA,
      entity,
      policy: Authorization.ALLOW,
    })),
    {
      action: [Action.TRANSACTION, Action.SAVEPOINT, Action.ATTACH, Action.DETACH, Action.PRAGMA],
      policy: Authorization.DENY,
    },
  ],
  defaultPolicy: Authorization.ALLOW,
}

/** A user statement prepared (and vetted) once per engine. */
export interface TransactionStatement {
  readonly statement: Statement
  /** Whether it returns rows (`Statement.reader` is a native call each time). */
  readonly reader: boolean
  /** It has a plain `?` parameter, so it must not get named arguments (see sql-text.ts). */
  readonly hasNamelessParameter: boolean
}

/**
 * The statements `ctx.transaction` runs on the write connection: the savepoint that scopes one
 * transaction inside the group-commit batch, and the app's own SQL, prepared once per distinct
 * text and vetted by the authorizer when it is prepared. The authorizer is installed only
 * around that prepare: SQLite consults it when it compiles a statement (also when it
 * recompiles one after a schema change), and the engine's own `BEGIN`/`COMMIT`/`SAVEPOINT`
 * statements on the same connection must stay allowed. Running a cached statement costs no
 * authorizer call at all.
 */
export class TransactionStatements {
  readonly #db: Database
  readonly #cache = new Map<string, TransactionStatement>()
  readonly savepoint: Statement
  readonly release: Statement
  readonly rollbackTo: Statement

  constructor(db: Database) {
    this.#db = db
    this.savepoint = db.prepare('SAVEPOINT lc_transaction')
    this.release = db.prepare('RELEASE lc_transaction')
    this.rollbackTo = db.prepare('ROLLBACK TO lc_transaction')
  }

  /**
   * The prepared statement for `sql`.
   *
   * @throws {EngineError} `INVALID_INPUT` for a statement `tx.execute` refuses (or text that
   *   holds more than one statement); SQLite's own error for SQL that does not compile.
   */
  prepare(sql: string): TransactionStatement {
    const cached = this.#cache.get(sql)
    if (cached !== undefined) return cached
    const facts = sqlTextFacts(sql)
    if (facts.leadingKeyword === 'vacuum') throw refused(sql, undefined)
    if (facts.hasTrailingStatements) {
      throw new EngineError(
        'INVALID_INPUT',
        `tx.execute runs one statement, got several in \`${excerpt(sql)}\`; call it once per statement`,
      )
    }
    let statement: Statement
    this.#db.authorizer(REFUSE_TRANSACTION_CONTROL)
    try {
      statement = this.#db.prepare(sql)
    } catch (error) {
      if ((error as { code?: unknown }).code === 'SQLITE_AUTH') throw refused(sql, error)
      throw error
    } finally {
      this.#db.authorizer(null)
    }
    const prepared = {
      statement,
      reader: statement.reader,
      hasNamelessParameter: facts.hasNamelessParameter,
    }
    if (this.#cache.size >= MAX_CACHED_TRANSACTION_STATEMENTS) {
      this.#cache.delete(this.#cache.keys().next().value as string)
    }
    this.#cache.set(sql, prepared)
    return prepared
  }

  /** Drops the cached statements (they hold the connection open until collected). */
  clear(): void {
    this.#cache.clear()
  }
}

function excerpt(sql: string): string {
  return sql.length > 60 ? `${sql.slice(0, 57)}...` : sql
}

function refused(sql: string, cause: unknown): EngineError {
  return new EngineError(
    'INVALID_INPUT',
    `tx.execute refuses \`${excerpt(sql)}\`: transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE), VACUUM, ATTACH, DETACH and PRAGMA statements cannot run inside ctx.transaction, whose transaction the engine owns; read schema pragmas through their table-valued functions instead, e.g. SELECT * FROM pragma_table_info('t')`,
    { cause },
  )
}
