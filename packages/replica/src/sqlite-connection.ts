import Database from 'libsql'

/** Busy timeout of every connection this package opens. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000

/** A libSQL (better-sqlite3-style) connection. */
export type SqliteConnection = InstanceType<typeof Database>

/**
 * Open a SQLite file the way litecell does everywhere: WAL, `synchronous=NORMAL`, a busy
 * timeout, and `wal_autocheckpoint=0` because Litestream owns checkpoints (a checkpoint
 * it did not make can force a new generation).
 */
export function openSqlite(path: string): SqliteConnection {
  const db = new Database(path)
  try {
    db.pragma(`busy_timeout = ${DEFAULT_BUSY_TIMEOUT_MS}`)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('wal_autocheckpoint = 0')
  } catch (err) {
    db.close()
    throw err
  }
  return db
}
