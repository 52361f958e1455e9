import Libsql from 'libsql'
import type { Database, Statement } from './connection.js'

const { Action, Authorization } = Libsql

type AuthRule = Libsql.AuthRule

/**
 * The SQL functions a tenant query may call: SQLite's own core scalar, aggregate, window,
 * date/time, JSON and math functions, and the FTS query functions that read an app's own
 * full-text tables. Everything else the libsql build registers is refused, notably the
 * file and process functions (`readfile`, `writefile`, `edit`, `lsmode`, `load_extension`,
 * `sqlite3mc_*`, `sha3_query`, `fts3_tokenizer`, `sqlite_log`; issue 9) and the non-core
 * extras (`regexp`, `uuid*`, `sha3*`, `vector*`, geopoly, rtree debug functions, the
 * extension-functions string and statistics helpers). Names are matched exactly: SQLite
 * reports a function by its registered (lowercase) name whatever case the query used.
 */
export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set([
  // Core scalar functions (sqlite.org/lang_corefunc.html) but load_extension.
  ...['abs', 'changes', 'char', 'coalesce', 'concat', 'concat_ws', 'format', 'glob', 'hex'],
  ...['if', 'ifnull', 'iif', 'instr', 'last_insert_rowid', 'length', 'like', 'likelihood'],
  ...['likely', 'lower', 'ltrim', 'max', 'min', 'nullif', 'octet_length', 'printf', 'quote'],
  ...['random', 'randomblob', 'replace', 'round', 'rtrim', 'sign', 'soundex'],
  ...['sqlite_compileoption_get', 'sqlite_compileoption_used', 'sqlite_offset'],
  ...['sqlite_source_id', 'sqlite_version', 'substr', 'substring', 'total_changes', 'trim'],
  ...['typeof', 'unhex', 'unicode', 'unistr', 'unlikely', 'upper', 'zeroblob'],
  // Aggregates (lang_aggfunc.html).
  ...['avg', 'count', 'group_concat', 'string_agg', 'sum', 'total'],
  // Window functions (windowfunctions.html#builtins).
  ...['row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead'],
  ...['first_value', 'last_value', 'nth_value'],
  // Date and time (lang_datefunc.html).
  ...['date', 'time', 'datetime', 'julianday', 'unixepoch', 'strftime', 'timediff'],
  ...['current_date', 'current_time', 'current_timestamp'],
  // JSON (json1.html), with the -> and ->> operators.
  ...['->', '->>', 'json', 'jsonb', 'json_array', 'jsonb_array', 'json_array_length'],
  ...['json_error_position', 'json_extract', 'jsonb_extract', 'json_insert', 'jsonb_insert'],
  ...['json_object', 'jsonb_object', 'json_patch', 'jsonb_patch', 'json_pretty', 'json_quote'],
  ...['json_remove', 'jsonb_remove', 'json_replace', 'jsonb_replace', 'json_set', 'jsonb_set'],
  ...['json_type', 'json_valid', 'json_group_array', 'jsonb_group_array', 'json_group_object'],
  ...['jsonb_group_object'],
  // Math (lang_mathfunc.html).
  ...['acos', 'acosh', 'asin', 'asinh', 'atan', 'atan2', 'atanh', 'ceil', 'ceiling', 'cos'],
  ...['cosh', 'degrees', 'exp', 'floor', 'ln', 'log', 'log10', 'log2', 'mod', 'pi', 'pow'],
  ...['power', 'radians', 'sin', 'sinh', 'sqrt', 'tan', 'tanh', 'trunc'],
  // Full-text search over the app's own FTS tables (MATCH and its auxiliary functions).
  ...['match', 'bm25', 'highlight', 'snippet', 'offsets', 'matchinfo'],
])

/**
 * PRAGMAs a query may run (and read as `pragma_<name>` table-valued functions): they only
 * report on the tenant's own database. Not here: those that act even on a read-only
 * connection (`wal_checkpoint`: Litestream owns checkpoints; `optimize`), those that change
 * the connection (`query_only`, `journal_mode=…`: the authorizer sees the name, not the
 * value), and `database_list`, which shows the host path of the tenant file. `data_version`
 * is here because FTS5 runs it to read its own tables.
 */
export const ALLOWED_PRAGMAS: ReadonlySet<string> = new Set([
  ...['application_id', 'collation_list', 'compile_options', 'encoding', 'foreign_key_check'],
  ...['foreign_key_list', 'freelist_count', 'function_list', 'index_info', 'index_list'],
  ...['index_xinfo', 'integrity_check', 'module_list', 'page_count', 'page_size'],
  ...['pragma_list', 'quick_check', 'schema_version', 'table_info', 'table_list'],
  ...['table_xinfo', 'user_version', 'data_version'],
])

/** Table-valued functions besides `pragma_*` that read only their arguments. */
export const ALLOWED_TABLE_FUNCTIONS: ReadonlySet<string> = new Set(['json_each', 'json_tree'])

/** The schema tables under all their names. */
const SCHEMA_TABLES = ['sqlite_schema', 'sqlite_master', 'sqlite_temp_schema', 'sqlite_temp_master']

/** Everything that writes or changes the schema. */
const WRITE_ACTIONS = [
  ...[Action.INSERT, Action.UPDATE, Action.DELETE, Action.CREATE_INDEX, Action.CREATE_TABLE],
  ...[Action.CREATE_TEMP_INDEX, Action.CREATE_TEMP_TABLE, Action.CREATE_TEMP_TRIGGER],
  ...[Action.CREATE_TEMP_VIEW, Action.CREATE_TRIGGER, Action.CREATE_VIEW, Action.DROP_INDEX],
  ...[Action.DROP_TABLE, Action.DROP_TEMP_INDEX, Action.DROP_TEMP_TABLE, Action.DROP_TEMP_TRIGGER],
  ...[Action.DROP_TEMP_VIEW, Action.DROP_TRIGGER, Action.DROP_VIEW, Action.ALTER_TABLE],
  ...[Action.REINDEX, Action.ANALYZE, Action.CREATE_VTABLE, Action.DROP_VTABLE],
]

/** What a refusal is about, found by {@link SqlSandbox.explain}. */
export interface SandboxRefusal {
  /** `read-only` for writes, transaction control, ATTACH and PRAGMAs; `not-allowed` else. */
  readonly kind: 'read-only' | 'not-allowed'
  readonly message: string
}

/**
 * Confines one read-only connection to the tenant's own database with SQLite's authorizer
 * (libsql's rule-based one, so every check runs inside SQLite, at prepare time, for views'
 * bodies too): SELECT and recursive CTEs; the functions of {@link ALLOWED_FUNCTIONS}; the
 * PRAGMAs of {@link ALLOWED_PRAGMAS}; reads of the tenant's own tables and views, the schema
 * table, `json_each`/`json_tree` and allowed `pragma_*`. Denied: every other table-valued
 * function and eponymous virtual table (`fsdir`, `sqlite_dbpage`, `dbstat`, `sqlite_stmt`,
 * `generate_series`, …), ATTACH, DETACH, transactions, savepoints, writes and DDL.
 *
 * READ is checked against the schema, re-read whenever `schema_version` moves. SQLite also
 * reports a FROM item none of whose columns is used (`SELECT count(*) FROM x`) as a READ of
 * `x` with an empty column, under the name as written: for a CTE, or a table named in
 * another case. Those are allowed unless the name is a module (any case) or `pragma_*`,
 * because nothing else can resolve to a virtual table outside the schema.
 */
export class SqlSandbox {
  readonly #db: Database
  readonly #modules: readonly string[]
  #schemaVersion = -1
  #schemaVersionQuery: Statement | undefined
  #rules: AuthRule[] = []
  /** Lowercased names the sandbox lets a query read. */
  #readable: ReadonlySet<string> = new Set()

  constructor(db: Database) {
    this.#db = db
    db.authorizer(null)
    this.#modules = (db.prepare('PRAGMA module_list').pluck().all() as string[]).filter(
      (name) => !ALLOWED_TABLE_FUNCTIONS.has(name),
    )
    this.refresh()
  }

  /** Re-reads the schema's tables and views if the schema changed since the last call. */
  refresh(): void {
    this.#schemaVersionQuery ??= this.#db.prepare('PRAGMA schema_version').pluck()
    const version = this.#schemaVersionQuery.get() as number
    if (version === this.#schemaVersion) return
    this.#db.authorizer(null)
    const tables = this.#db
      .prepare("SELECT name, type FROM pragma_table_list WHERE schema = 'main'")
      .all() as { name: string; type: string }[]
    const readable = readableTables(tables.map(({ name }) => name))
    const shadows = tables.filter(({ type }) => type === 'shadow').map(({ name }) => name)
    this.#rules = sandboxRules(readable, shadows, this.#modules)
    this.#readable = new Set(readable.map((name) => name.toLowerCase()))
    this.#db.authorizer({ rules: this.#rules, defaultPolicy: Authorization.DENY })
    this.#schemaVersion = version
  }

  /**
   * Says what the sandbox refused in `sql`, whose prepare failed with `SQLITE_AUTH` (libsql
   * replaces SQLite's message with a generic one). It prepares `sql` again under probing
   * authorizers that deny one kind of action each; nothing is ever stepped, so nothing runs.
   */
  explain(sql: string): SandboxRefusal {
    try {
      if (this.#refuses(sql, [{ action: WRITE_ACTIONS, policy: Authorization.DENY }]))
        return readOnly('writes and schema changes are refused on this read-only route')
      if (this.#refuses(sql, [{ action: [Action.TRANSACTION, Action.SAVEPOINT], policy: Authorization.DENY }]))
        return readOnly('BEGIN, COMMIT, ROLLBACK and SAVEPOINT are refused: each query is its own read')
      if (this.#refuses(sql, [{ action: [Action.ATTACH, Action.DETACH], policy: Authorization.DENY }]))
        return readOnly('ATTACH and DETACH are refused: a query reads the tenant database only')
      const pragma = this.#culprit(sql, Action.PRAGMA, 'entity', ALLOWED_PRAGMAS)
      if (pragma !== undefined)
        return readOnly(
          `PRAGMA ${pragma} is not allowed here; allowed: ${[...ALLOWED_PRAGMAS].join(', ')}`,
        )
      const table = this.#culprit(sql, Action.READ, 'table', this.#readable)
      if (table !== undefined)
        return {
          kind: 'not-allowed',
          message: `reading ${table} is not allowed: it is not a table or view of the tenant database (table-valued functions allowed: ${[...ALLOWED_TABLE_FUNCTIONS].join(', ')}, pragma_<allowed pragma>)`,
        }
    } finally {
      this.#db.authorizer({ rules: this.#rules, defaultPolicy: Authorization.DENY })
    }
    return { kind: 'not-allowed', message: 'the statement does something the query sandbox refuses' }
  }

  /** True if preparing `sql` fails when only what `deny` matches is denied. */
  #refuses(sql: string, deny: AuthRule[]): boolean {
    this.#db.authorizer({ rules: deny, defaultPolicy: Authorization.ALLOW })
    try {
      this.#db.prepare(sql)
      return false
    } catch (error) {
      return (error as { code?: unknown }).code === 'SQLITE_AUTH'
    }
  }

  /**
   * If `sql` uses `action` at all, the first name (from the SQL text, then the module list,
   * for views) that it uses that way and that `allowed` (lowercased) lacks. The name only
   * makes the message: the refusal itself was SQLite's.
   */
  #culprit(
    sql: string,
    action: number,
    field: 'entity' | 'table',
    allowed: ReadonlySet<string>,
  ): string | undefined {
    if (!this.#refuses(sql, [{ action, policy: Authorization.DENY }])) return undefined
    const words = new Set(sql.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [])
    for (const name of [...words, ...this.#modules]) {
      if (allowed.has(name.toLowerCase())) continue
      const deny = { action, [field]: { glob: anyCase(name) }, policy: Authorization.DENY }
      if (this.#refuses(sql, [deny])) return name
    }
    return action === Action.PRAGMA ? '(unnamed)' : 'a virtual table'
  }
}

/** What a query may read in a schema whose tables and views are `names`. */
function readableTables(names: readonly string[]): string[] {
  return [
    ...names,
    ...SCHEMA_TABLES,
    ...ALLOWED_TABLE_FUNCTIONS,
    ...[...ALLOWED_PRAGMAS].map((name) => `pragma_${name}`),
  ]
}

/**
 * The authorizer rules letting a query read `readable` and no module of `modules`. Writes to
 * `shadows` (the shadow tables of the app's own virtual tables) pass the authorizer because
 * R*Tree prepares its write statements when it connects, even for a read; they never run, and
 * could not: the connection is `mode=ro` with `query_only=ON`, and only statements that
 * return rows are stepped.
 */
function sandboxRules(
  readable: readonly string[],
  shadows: readonly string[],
  modules: readonly string[],
): AuthRule[] {
  return [
    { action: [Action.SELECT, Action.RECURSIVE], policy: Authorization.ALLOW },
    ...shadows.map((table) => ({
      action: [Action.INSERT, Action.UPDATE, Action.DELETE],
      table,
      policy: Authorization.ALLOW,
    })),
    ...[...ALLOWED_FUNCTIONS].map((entity) => ({
      action: Action.FUNCTION,
      entity,
      policy: Authorization.ALLOW,
    })),
    // PRAGMA names come as written: `PRAGMA TABLE_INFO(t)` is table_info.
    ...[...ALLOWED_PRAGMAS].map((name) => ({
      action: Action.PRAGMA,
      entity: { glob: anyCase(name) },
      policy: Authorization.ALLOW,
    })),
    ...readable.map((table) => ({ action: Action.READ, table, policy: Authorization.ALLOW })),
    ...modules.map((name) => ({
      action: Action.READ,
      table: { glob: anyCase(name) },
      policy: Authorization.DENY,
    })),
    { action: Action.READ, table: { glob: `${anyCase('pragma_')}*` }, policy: Authorization.DENY },
    { action: Action.READ, column: '', policy: Authorization.ALLOW },
  ]
}

function readOnly(message: string): SandboxRefusal {
  return { kind: 'read-only', message }
}

/** A glob matching `name` in any letter case (`fsdir` → `[fF][sS][dD][iI][rR]`). */
function anyCase(name: string): string {
  return name.replace(/[A-Za-z]/g, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`)
}
