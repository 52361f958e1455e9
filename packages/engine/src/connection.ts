import { existsSync, statSync } from 'node:fs'
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
 * Read-only connections are opened through a `file:…?mode=ro` URI (the driver ignores the
 * `readonly` option) and with `query_only=ON`, so SQLite itself refuses writes, and such a
 * connection cannot checkpoint either, not even when it is the last one closed. Before a
 * writable connection opens, the file is pinned (see {@link pinDatabase}), so that closing
 * it, however late that really happens, never checkpoints either.
 */
export function openConnection(path: string, options: ConnectionOptions): Database {
  const readOnly = options.readOnly === true
  if (!readOnly) pinDatabase(path)
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

/**
 * Read-only connections held for the life of the process, one per database file (device and
 * inode), never closed: see {@link pinDatabase}. Process-wide on purpose, the one exception
 * to "no singletons": a pin must outlive every connection object to its file, including the
 * ones of engines already closed whose objects the garbage collector has not freed yet.
 */
const pins = new Map<string, Database>()

/**
 * Makes sure this process holds a read-only connection to `path` that was opened before the
 * writable connection about to open, so that the writer's real close never checkpoints
 * (issue 9, item 13). Why it takes this:
 *
 * - libsql's `close()` only drops the connection object's reference; every prepared statement
 *   holds another, so SQLite's `sqlite3_close` runs when the last of them is freed: at some
 *   garbage collection, or at process exit, where a natural exit runs the native finalizers.
 *   libsql 0.6 has no way to finalize a statement.
 * - The connection that closes last checkpoints the WAL into the database and deletes it,
 *   unless it cannot take an EXCLUSIVE lock on the database file. In WAL mode every
 *   connection that has read keeps a SHARED lock on the file until it closes, and a
 *   read-only connection cannot checkpoint even when it closes last.
 * - At exit, Node finalizes native objects newest first. A pin opened before the writer is
 *   therefore freed after the writer and all its statements, and it is never freed before,
 *   because this module holds it. So the writer always closes beside it, whenever that is.
 *
 * A missing file is created first in WAL mode by a connection that runs no prepared
 * statement, so it really closes at once (a checkpoint of an empty WAL, before any
 * replicator can watch the file). Pins of files that were since deleted or replaced are kept
 * too: an old writer still waiting for its finalizer would otherwise checkpoint its deleted
 * file and then delete the `-wal` path, which may belong to a new file by then.
 */
export function pinDatabase(path: string): void {
  if (!existsSync(path)) {
    const creator = new Libsql(path, { timeout: DEFAULT_BUSY_TIMEOUT_MS })
    try {
      creator.exec('PRAGMA journal_mode=WAL')
    } finally {
      creator.close()
    }
  }
  const { dev, ino } = statSync(path)
  const key = `${dev}:${ino}`
  if (pins.has(key)) return
  const pin = new Libsql(readOnlyUri(path), { timeout: DEFAULT_BUSY_TIMEOUT_MS })
  // A read takes the SHARED lock that WAL mode then keeps; exec prepares no statement object.
  pin.exec('SELECT count(*) FROM sqlite_schema')
  pins.set(key, pin)
}

/** A `file:` URI opening `path` read-only; `?`, `#` and `%` in the path are escaped. */
export function readOnlyUri(path: string): string {
  return `file:${encodeURI(path).replace(/\?/g, '%3F').replace(/#/g, '%23')}?mode=ro`
}
