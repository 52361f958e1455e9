import Libsql from 'libsql'

/** A connection of the sync `libsql` driver (better-sqlite3 API over the libSQL engine). */
export type Database = Libsql
/** A prepared statement of the sync `libsql` driver. */
export type Statement = Libsql.Statement

/** How long a connection waits for another connection's write lock before `SQLITE_BUSY`. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000

/** Options every engine connection is opened with. */
export interface ConnectionOptions {
  readonly synchronous: 'NORMAL' | 'FULL'
  readonly readOnly?: boolean
}

/**
 * Opens one connection with the storage rules applied to it: WAL, `synchronous`, a busy
 * timeout and `wal_autocheckpoint=0`, because Litestream owns checkpoints and the app must
 * never checkpoint. We own each connection explicitly instead of going through
 * `@libsql/client`'s pool, where a PRAGMA reaches only one of up to 20 pooled connections.
 *
 * Read-only connections are opened through a `file:…?mode=ro` URI (libsql 0.5 ignores the
 * `readonly` option) and with `query_only=ON`, so SQLite itself refuses writes, and such a
 * connection cannot checkpoint either, not even when it is the last one closed.
 */
export function openConnection(path: string, options: ConnectionOptions): Database {
  const readOnly = options.readOnly === true
  const db = new Libsql(readOnly ? readOnlyUri(path) : path, { timeout: DEFAULT_BUSY_TIMEOUT_MS })
  try {
    if (!readOnly) db.exec('PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON')
    db.exec(`PRAGMA busy_timeout=${DEFAULT_BUSY_TIMEOUT_MS}`)
    db.exec(`PRAGMA synchronous=${options.synchronous}`)
    db.exec('PRAGMA wal_autocheckpoint=0')
    if (readOnly) db.exec('PRAGMA query_only=ON')
  } catch (error) {
    db.close()
    throw error
  }
  return db
}

/** A `file:` URI opening `path` read-only; `?`, `#` and `%` in the path are escaped. */
export function readOnlyUri(path: string): string {
  return `file:${encodeURI(path).replace(/\?/g, '%3F').replace(/#/g, '%23')}?mode=ro`
}
