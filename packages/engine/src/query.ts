import type { Database, Statement } from './connection.js'
import { EngineError } from './engine-error.js'
import type { JsonValue } from './json.js'
import { sqlTextFacts } from './sql-text.js'
import { SqlSandbox } from './sql-sandbox.js'

/** Rows a query returns unless `maxRows` says otherwise. */
export const DEFAULT_MAX_ROWS = 1_000
/** Longest a query may run, enforced inside SQLite (`SQLITE_INTERRUPT`). */
export const DEFAULT_QUERY_TIMEOUT_MS = 5_000
/**
 * Most a query's rows may weigh as JSON (about: blobs as base64, strings by length). The result
 * is copied from the query thread to the worker and serialized there, under the worker's heap
 * cap: a single `SELECT zeroblob(400000000)` used to take the worker down. Past it the rows are
 * cut (`truncated`), or `QUERY_TOO_LARGE` if the first row alone is over it.
 */
export const MAX_RESULT_BYTES = 16 * 1024 * 1024

/** The answer of `Engine.query`. */
export interface QueryResult {
  columns: string[]
  rows: Record<string, JsonValue>[]
  /** True if rows were cut at `maxRows` (or at {@link MAX_RESULT_BYTES}). */
  truncated: boolean
}

/** Options of `Engine.query`. */
export interface QueryOptions {
  /** @default 1000 */
  readonly maxRows?: number
}

/** Positional or named query arguments. */
export type QueryArgs = readonly JsonValue[] | Readonly<Record<string, JsonValue>>

/** A validated query, as sent to the query thread (structured-clone safe). */
export interface QueryRequest {
  readonly sql: string
  readonly args: unknown[] | Record<string, unknown> | undefined
  readonly maxRows: number
}

/**
 * Checks a query's arguments where they arrive, before anything reaches SQLite.
 *
 * @throws {EngineError} `INVALID_INPUT` quoting the bad value, or for more than one statement
 *   (the driver would prepare the first and silently drop the rest).
 */
export function validateQuery(
  sql: string,
  args: QueryArgs | undefined,
  options: QueryOptions | undefined,
): QueryRequest {
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
  const facts = sqlTextFacts(sql)
  if (facts.hasTrailingStatements) {
    throw new EngineError(
      'INVALID_INPUT',
      'query: send one statement at a time (found more after the first `;`)',
    )
  }
  // libsql aborts the process (a Rust panic) when named arguments meet a plain `?`.
  if (bound !== undefined && !Array.isArray(bound) && facts.hasNamelessParameter) {
    throw new EngineError(
      'INVALID_INPUT',
      'query: named `args` (an object) need named parameters (:name, @name, $name); this SQL has a plain `?`: pass `args` as an array',
    )
  }
  return { sql, args: bound, maxRows }
}

/**
 * Runs tenant SQL on a connection of its own that SQLite keeps read-only and sandboxed: it is
 * opened `mode=ro` with `query_only=ON`, a {@link SqlSandbox} authorizer confines it to
 * SQLite's built-in functions over the tenant's own tables, only statements that return rows
 * run, and `timeoutMs` interrupts a statement inside SQLite. Runs on the query thread, so a
 * long statement blocks no event loop that heartbeats or runs depend on.
 */
export class ReadOnlyQuery {
  readonly #db: Database
  readonly #timeoutMs: number
  readonly #sandbox: SqlSandbox

  constructor(db: Database, timeoutMs = DEFAULT_QUERY_TIMEOUT_MS) {
    this.#db = db
    this.#timeoutMs = timeoutMs
    this.#sandbox = new SqlSandbox(db)
  }

  /**
   * @throws {EngineError} `QUERY_NOT_READ_ONLY` for statements that write or change the
   *   connection; `QUERY_NOT_ALLOWED` for functions and tables outside the sandbox;
   *   `QUERY_TIMEOUT` past the time limit; `QUERY_TOO_LARGE` for a first row over
   *   {@link MAX_RESULT_BYTES}; `QUERY_FAILED` for other SQL errors.
   */
  run({ sql, args, maxRows }: QueryRequest): QueryResult {
    let statement: Statement
    try {
      this.#sandbox.refresh()
      statement = this.#db.prepare(sql)
    } catch (error) {
      throw this.#queryError(error, sql)
    }
    if (!statement.reader) {
      throw new EngineError(
        'QUERY_NOT_READ_ONLY',
        'query: only statements that return rows may run here (writes, BEGIN, ATTACH and PRAGMA assignments are refused)',
      )
    }
    const rows: Record<string, JsonValue>[] = []
    let bytes = 0
    let truncated = false
    let iterator: Iterator<Record<string, unknown>> | undefined
    try {
      const columns = statement.columns().map((column) => column.name)
      // The time limit covers the whole iteration: libsql keeps its timer until the
      // iterator is closed, and interrupts the statement from its own thread.
      const limit = { queryTimeout: this.#timeoutMs }
      iterator = statement.iterate(args ?? [], limit) as Iterator<Record<string, unknown>>
      for (let next = iterator.next(); next.done !== true; next = iterator.next()) {
        if (rows.length >= maxRows) {
          truncated = true
          break
        }
        // Weighed before converting: a huge blob is never turned into base64.
        bytes += jsonWeight(next.value)
        if (bytes > MAX_RESULT_BYTES) {
          if (rows.length === 0) {
            throw new EngineError(
              'QUERY_TOO_LARGE',
              `query: its first row alone is over the ${MAX_RESULT_BYTES / 1024 / 1024} MiB a result may hold; select less of it (substr(), length(), fewer columns)`,
            )
          }
          truncated = true
          break
        }
        rows.push(toJsonRow(next.value))
      }
      return { columns, rows, truncated }
    } catch (error) {
      if (error instanceof EngineError) throw error
      throw this.#queryError(error, sql)
    } finally {
      iterator?.return?.()
      // A cut-short iterator leaves the statement's read transaction open; end it so this
      // connection keeps seeing new commits.
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK')
    }
  }

  #queryError(error: unknown, sql: string): EngineError {
    const { code, message } = sqliteFailure(error)
    const refused = /not authorized to use function: (\S+)|unsafe use of (?:virtual table )?"?([^"\s(]+)/.exec(
      message,
    )
    if (code === 'SQLITE_AUTH') {
      const refusal = this.#sandbox.explain(sql)
      return new EngineError(
        refusal.kind === 'read-only' ? 'QUERY_NOT_READ_ONLY' : 'QUERY_NOT_ALLOWED',
        `query: ${refusal.message}`,
        { cause: error },
      )
    }
    if (refused !== null) {
      return new EngineError(
        'QUERY_NOT_ALLOWED',
        `query: ${refused[1] ?? refused[2]} is not allowed here: queries may call SQLite's built-in scalar, aggregate, window, date/time, JSON and math functions only`,
        { cause: error },
      )
    }
    if (code === 'SQLITE_INTERRUPT') {
      return new EngineError(
        'QUERY_TIMEOUT',
        `query: stopped after the ${this.#timeoutMs} ms time limit; narrow the query or add a LIMIT`,
        { cause: error },
      )
    }
    if (code === 'SQLITE_READONLY' || /readonly|read-only|query_only/i.test(message)) {
      return new EngineError(
        'QUERY_NOT_READ_ONLY',
        `query: the database refused a write: ${message}`,
        { cause: error },
      )
    }
    return new EngineError('QUERY_FAILED', `query: ${message}`, { cause: error })
  }
}

/**
 * The SQLite code and message of a driver error. Errors from a row iterator's `next()` skip
 * the driver's conversion and carry them as JSON in the message.
 */
function sqliteFailure(error: unknown): { code: string | undefined; message: string } {
  const message = error instanceof Error ? error.message : String(error)
  if (message.startsWith('{')) {
    try {
      const parsed = JSON.parse(message) as { code?: unknown; message?: unknown }
      if (typeof parsed.code === 'string' && typeof parsed.message === 'string')
        return { code: parsed.code, message: parsed.message }
    } catch {
      // Not JSON after all: a plain message.
    }
  }
  const code = (error as { code?: unknown }).code
  return { code: typeof code === 'string' ? code : undefined, message }
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

/** About how many bytes `row` takes as JSON (as {@link toJsonRow} converts it). */
function jsonWeight(row: Record<string, unknown>): number {
  let weight = 2
  for (const [key, value] of Object.entries(row)) {
    weight += key.length + 4
    if (typeof value === 'string') weight += value.length + 2
    else if (value instanceof Uint8Array) weight += Math.ceil(value.byteLength / 3) * 4 + 2
    else weight += 24
  }
  return weight
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
