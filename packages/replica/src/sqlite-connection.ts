import { existsSync, statSync } from 'node:fs'
import Database from 'libsql'

/** Busy timeout of every connection this package opens. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000

/** A libSQL (better-sqlite3-style) connection. */
export type SqliteConnection = InstanceType<typeof Database>

/**
 * Open a SQLite file the way litecell does everywhere: WAL, `synchronous=NORMAL`, a busy
 * timeout, and `wal_autocheckpoint=0` because Litestream owns checkpoints (a checkpoint
 * it did not make can force a new generation). The file is pinned first (see
 * {@link pinDatabase}), and the settings go through `exec`, which leaves no prepared
 * statement behind: a caller that prepares none closes the connection for real at `close()`.
 * The busy timeout blocks the calling thread while another connection writes: a caller on an
 * event loop that must stay responsive passes `busyTimeoutMs: 0` and handles `SQLITE_BUSY`.
 */
export function openSqlite(
  path: string,
  options: { readonly busyTimeoutMs?: number } = {},
): SqliteConnection {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS
  pinDatabase(path)
  const db = new Database(path, { timeout: busyTimeoutMs })
  try {
    db.exec(
      `PRAGMA busy_timeout = ${busyTimeoutMs}; PRAGMA journal_mode = WAL; ` +
        'PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0',
    )
  } catch (err) {
    db.close()
    throw err
  }
  return db
}

/** Open a SQLite file read-only (`mode=ro`): such a connection can never checkpoint. */
export function openSqliteReadOnly(path: string): SqliteConnection {
  const uri = `file:${encodeURI(path).replace(/\?/g, '%3F').replace(/#/g, '%23')}?mode=ro`
  return new Database(uri, { timeout: DEFAULT_BUSY_TIMEOUT_MS })
}

/**
 * Read-only connections held for the life of the process, one per database file (device and
 * inode), never closed. Process-wide on purpose: a pin must outlive every connection object
 * to its file, including closed ones the garbage collector has not freed yet.
 */
const pins = new Map<string, SqliteConnection>()

/**
 * Make sure this process holds a read-only connection to `path`, opened before the writable
 * connection about to open, so that no connection of this process checkpoints the file when
 * it really closes (issue 9, item 13). libsql's `close()` defers SQLite's close while prepared
 * statements live (a natural exit then runs it in the native finalizers, newest object
 * first); the connection that closes last checkpoints and deletes the WAL unless another
 * holds the file's SHARED lock, which every WAL connection that has read keeps; a read-only
 * one never checkpoints. The engine pins its tenant file the same way (its connection.ts:
 * the engine and this package do not import each other).
 */
export function pinDatabase(path: string): void {
  if (!existsSync(path)) {
    // No prepared statement: this connection closes for real, at once, before anyone watches.
    const creator = new Database(path, { timeout: DEFAULT_BUSY_TIMEOUT_MS })
    try {
      creator.exec('PRAGMA journal_mode = WAL')
    } finally {
      creator.close()
    }
  }
  const { dev, ino } = statSync(path)
  const key = `${dev}:${ino}`
  if (pins.has(key)) return
  const pin = openSqliteReadOnly(path)
  pin.exec('SELECT count(*) FROM sqlite_schema')
  pins.set(key, pin)
}
