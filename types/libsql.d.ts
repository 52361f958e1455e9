/**
 * Types for the sync `libsql` driver (0.6), whose generated `compat.d.ts` is too loose to use
 * (every `exec` needs two arguments, rows are `any`). Only the parts litecell calls.
 */
declare module 'libsql' {
  namespace Database {
    /** Per-statement limits; `queryTimeout` interrupts the statement inside SQLite. */
    interface QueryOptions {
      readonly queryTimeout?: number
    }
    interface Options {
      /** Busy timeout in ms. */
      readonly timeout?: number
      /** Interrupts any statement running longer than this (ms). */
      readonly defaultQueryTimeout?: number
      /** Ignored by the driver (open `file:…?mode=ro` instead); accepted for old callers. */
      readonly readonly?: boolean
    }
    interface RunResult {
      readonly changes: number
      readonly lastInsertRowid: number | bigint
    }
    interface ColumnInfo {
      readonly name: string
      readonly column: string | null
      readonly table: string | null
      readonly database: string | null
      readonly type: string | null
    }
    type BindParameters = readonly unknown[] | Readonly<Record<string, unknown>>
    interface Statement {
      /** True if the statement returns rows (it has result columns). */
      readonly reader: boolean
      run(...params: unknown[]): RunResult
      get(...params: unknown[]): unknown
      all(...params: unknown[]): unknown[]
      iterate(...params: unknown[]): IterableIterator<unknown>
      columns(): ColumnInfo[]
      raw(raw?: boolean): this
      pluck(pluck?: boolean): this
      safeIntegers(toggle?: boolean): this
      interrupt(): this
    }
    /** An authorizer rule (first match wins). */
    interface AuthRule {
      readonly action?: number | readonly number[]
      readonly table?: string | { readonly glob: string }
      readonly column?: string | { readonly glob: string }
      readonly entity?: string | { readonly glob: string }
      readonly accessor?: string | { readonly glob: string }
      readonly policy: number
    }
    interface AuthorizerConfig {
      readonly rules: readonly AuthRule[]
      readonly defaultPolicy?: number
    }
    /** Authorization outcomes. */
    const Authorization: { readonly ALLOW: 0; readonly DENY: 1; readonly IGNORE: 2 }
    /** SQLite authorizer action codes (`SQLITE_CREATE_INDEX` = 1 … `SQLITE_RECURSIVE` = 33). */
    const Action: Readonly<Record<
      | 'CREATE_INDEX' | 'CREATE_TABLE' | 'CREATE_TEMP_INDEX' | 'CREATE_TEMP_TABLE'
      | 'CREATE_TEMP_TRIGGER' | 'CREATE_TEMP_VIEW' | 'CREATE_TRIGGER' | 'CREATE_VIEW' | 'DELETE'
      | 'DROP_INDEX' | 'DROP_TABLE' | 'DROP_TEMP_INDEX' | 'DROP_TEMP_TABLE' | 'DROP_TEMP_TRIGGER'
      | 'DROP_TEMP_VIEW' | 'DROP_TRIGGER' | 'DROP_VIEW' | 'INSERT' | 'PRAGMA' | 'READ' | 'SELECT'
      | 'TRANSACTION' | 'UPDATE' | 'ATTACH' | 'DETACH' | 'ALTER_TABLE' | 'REINDEX' | 'ANALYZE'
      | 'CREATE_VTABLE' | 'DROP_VTABLE' | 'FUNCTION' | 'SAVEPOINT' | 'RECURSIVE',
      number
    >>
    /** The error the driver throws for SQLite failures. */
    class SqliteError extends Error {
      readonly code: string
      readonly rawCode: number
    }
  }
  class Database {
    constructor(path: string, options?: Database.Options)
    readonly inTransaction: boolean
    readonly memory: boolean
    prepare(sql: string): Database.Statement
    exec(sql: string, queryOptions?: Database.QueryOptions): void
    pragma(source: string, options?: { simple?: boolean }): unknown
    /** Replaces the connection's authorizer; `null` removes it. */
    authorizer(config: Database.AuthorizerConfig | Readonly<Record<string, number>> | null): this
    /** Wraps `fn` in BEGIN/COMMIT (ROLLBACK if it throws). */
    transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R
    interrupt(): void
    close(): void
    defaultSafeIntegers(toggle?: boolean): this
  }
  export = Database
}
