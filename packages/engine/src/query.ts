import type { Database, Statement } from './connection.js'
import { EngineError } from './engine-error.js'
import type { JsonValue } from './json.js'
import { hasTrailingStatements, leadingKeyword, pragmaName } from './sql-statement.js'

/** Rows a query returns unless `maxRows` says otherwise. */
export const DEFAULT_MAX_ROWS = 1_000
/** Longest time a query may spend producing rows. */
export const DEFAULT_QUERY_TIMEOUT_MS = 5_000

/** The answer of `Engine.query`. */
export interface QueryResult {
  columns: string[]
  rows: Record<string, JsonValue>[]
  /** True if rows were cut at `maxRows` (or at the time limit). */
  truncated: boolean
}

/** Options of `Engine.query`. */
export interface QueryOptions {
  /** @default 1000 */
  readonly maxRows?: number
}

/**
 * PRAGMAs that only report. Others may act even on a read-only connection (`wal_checkpoint`
 * checkpoints, and Litestream owns checkpoints; `optimize` may write), so they are refused.
 * Assignments (`PRAGMA x = …`) of allowed names are refused by SQLite as writes.
 */
const READ_ONLY_PRAGMAS: ReadonlySet<string> = new Set([
  'application_id',
  'collation_list',
  'compile_options',
  'database_list',
  'encoding',
  'foreign_key_check',
  'foreign_key_list',
  'freelist_count',
  'function_list',
  'index_info',
  'index_list',
  'index_xinfo',
  'integrity_check',
  'journal_mode',
  'module_list',
  'page_count',
  'page_size',
  'pragma_list',
  'quick_check',
  'schema_version',
  'table_info',
  'table_list',
  'table_xinfo',
  'user_version',
])

type QueryArgs = readonly JsonValue[] | Readonly<Record<string, JsonValue>>

/**
 * Read-only SQL over a dedicated connection that SQLite itself keeps read-only: it is opened
 * `readonly` and with `query_only=ON`, and only statements that return rows are run (so
 * `BEGIN`, `ATTACH` or `PRAGMA x=…` cannot change the connection). Nothing here parses SQL.
 *
 * Limits: rows are capped at `maxRows`, and row production stops after
 * {@link DEFAULT_QUERY_TIMEOUT_MS}. The driver is synchronous, so a single step that computes
 * for long without yielding a row (a huge aggregate) cannot be interrupted from this thread.
 */
export class ReadOnlyQuery {
  readonly #db: Database
  readonly #timeoutMs: number

  constructor(db: Database, timeoutMs = DEFAULT_QUERY_TIMEOUT_MS) {
    this.#db = db
    this.#timeoutMs = timeoutMs
  }

  /**
   * @throws {EngineError} `QUERY_NOT_READ_ONLY` for statements that write or change the
   *   connection; `QUERY_FAILED` for SQL errors; `INVALID_INPUT` for bad arguments.
   */
  run(sql: string, args: QueryArgs | undefined, options: QueryOptions | undefined): QueryResult {
    if (typeof sql !== 'string' || sql.trim() === '') {
      throw new EngineError(
        'INVALID_INPUT',
        `Expected \`sql\` to be a non-empty string, got \`${String(sql)}\` (${typeof sql})`,
      )
    }
    const maxRows = options?.maxRows ?? DEFAULT_MAX_ROWS
    if (!(Number.isInteger(maxRows) && maxRows >= 1)) {
      throw new EngineError(
        'INVALID_INPUT',
        `Expected \`maxRows\` to be a number from 1 and up, got \`${String(maxRows)}\` (${typeof maxRows})`,
      )
    }
    const bound = bindable(args)
    if (hasTrailingStatements(sql)) {
      throw new EngineError(
        'INVALID_INPUT',
        'query: send one statement at a time (found more after the first `;`)',
      )
    }
    if (leadingKeyword(sql) === 'pragma' && !READ_ONLY_PRAGMAS.has(pragmaName(sql))) {
      throw new EngineError(
        'QUERY_NOT_READ_ONLY',
        `query: PRAGMA ${pragmaName(sql) || '(unnamed)'} is not allowed here; allowed: ${[...READ_ONLY_PRAGMAS].join(', ')}`,
      )
    }
    let statement: Statement
    try {
      statement = this.#db.prepare(sql)
    } catch (error) {
      throw queryError(error)
    }
    if (!statement.reader) {
      throw new EngineError(
        'QUERY_NOT_READ_ONLY',
        'query: only statements that return rows may run here (writes, BEGIN, ATTACH and PRAGMA assignments are refused)',
      )
    }
    const deadline = performance.now() + this.#timeoutMs
    const rows: Record<string, JsonValue>[] = []
    let truncated = false
    try {
      const columns = statement.columns().map((column) => column.name)
      const iterator = (
        bound === undefined ? statement.iterate() : statement.iterate(bound)
      ) as Iterator<Record<string, unknown>>
      for (let next = iterator.next(); next.done !== true; next = iterator.next()) {
        if (rows.length >= maxRows || performance.now() > deadline) {
          truncated = true
          break
        }
        rows.push(toJsonRow(next.value))
      }
      return { columns, rows, truncated }
    } catch (error) {
      throw queryError(error)
    } finally {
      // A cut-short iterator leaves the statement's read transaction open; reset it so this
      // connection keeps seeing new commits.
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK')
    }
  }
}

function queryError(error: unknown): EngineError {
  const code = (error as { code?: unknown }).code
  const message = (error as Error).message
  if (code === 'SQLITE_READONLY' || /readonly|read-only|query_only/i.test(message)) {
    return new EngineError(
      'QUERY_NOT_READ_ONLY',
      `query: the database refused a write: ${message}`,
      { cause: error },
    )
  }
  return new EngineError('QUERY_FAILED', `query: ${message}`, { cause: error })
}

function bindable(args: QueryArgs | undefined): unknown[] | Record<string, unknown> | undefined {
  if (args === undefined) return undefined
  const check = (value: unknown, where: string): unknown => {
    if (
      value === null ||
      typeof value === 'string' ||
      (typeof value === 'number' && Number.isFinite(value))
    )
      return value
    if (typeof value === 'boolean') return value ? 1 : 0
    throw new EngineError(
      'INVALID_INPUT',
      `Expected query argument ${where} to be a string, finite number, boolean or null, got \`${String(value)}\` (${typeof value})`,
    )
  }
  if (Array.isArray(args)) return args.map((value, i) => check(value, `#${i}`))
  if (typeof args !== 'object' || args === null) {
    throw new EngineError(
      'INVALID_INPUT',
      `Expected query \`args\` to be an array or an object, got \`${String(args)}\` (${typeof args})`,
    )
  }
  return Object.fromEntries(
    Object.entries(args).map(([key, value]) => [key, check(value, `\`${key}\``)]),
  )
}

function toJsonRow(row: Record<string, unknown>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {}
  for (const [key, value] of Object.entries(row)) {
    if (typeof value === 'bigint') {
      out[key] = Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
    } else if (value instanceof Uint8Array) {
      out[key] = Buffer.from(value).toString('base64')
    } else {
      out[key] = value as JsonValue
    }
  }
  return out
}
