import { randomUUID } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { ReplicaError } from './replica-error.js'
import { openSqlite, openSqliteReadOnly } from './sqlite-connection.js'
import { type WalCommit, readLastCommit } from './wal-commit.js'

/** The table that holds the marker row; one row, rewritten by every verified stop. */
export const SYNC_MARKER_TABLE = '_litecell_sync_marker'
/** Longest the marker waits for the write lock (tried again every few ms, never blocking). */
export const MARKER_LOCK_WAIT_MS = 10_000
/** Pause between two tries for the write lock. */
const MARKER_RETRY_MS = 5

/**
 * Commit a fresh random marker into the database and return it with the position of its
 * commit. Whatever was committed before this call is in the replica once the marker is. Runs
 * through `exec` only (the marker is our own UUID and the time a number, so they go into the
 * text as literals): with no prepared statement alive, `close()` closes for real, at once,
 * while Litestream (which this runs beside) still holds the file, so it cannot checkpoint.
 *
 * It never waits for the write lock inside SQLite (a busy timeout blocks the thread): while
 * the lock is taken it tries again every few ms, so the event loop (heartbeats, and an engine
 * batch of this very process that holds the lock until its commit turn) keeps going, for at
 * most {@link MARKER_LOCK_WAIT_MS} (issue 9, item 15).
 */
export async function writeSyncMarker(
  dbPath: string,
  lockWaitMs = MARKER_LOCK_WAIT_MS,
): Promise<{ marker: string; commit: WalCommit }> {
  const deadline = Date.now() + lockWaitMs
  for (;;) {
    try {
      return writeMarkerNow(dbPath)
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY') throw err
      if (Date.now() >= deadline) {
        throw new ReplicaError(
          'REPLICA_NOT_VERIFIED',
          `write sync marker into ${dbPath}: the database stayed locked for ${lockWaitMs} ms`,
          { cause: err },
        )
      }
      await delay(MARKER_RETRY_MS)
    }
  }
}

function writeMarkerNow(dbPath: string): { marker: string; commit: WalCommit } {
  const marker = randomUUID()
  let commit: WalCommit
  const db = openSqlite(dbPath, { busyTimeoutMs: 0 })
  try {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${SYNC_MARKER_TABLE} (
        slot INTEGER PRIMARY KEY CHECK (slot = 1),
        marker TEXT NOT NULL,
        written_at_ms INTEGER NOT NULL
      );
      INSERT OR REPLACE INTO ${SYNC_MARKER_TABLE} (slot, marker, written_at_ms)
        VALUES (1, '${marker}', ${Date.now()})`,
    )
    // Right after the commit, on this thread: the position of the marker (or later).
    commit = readLastCommit(dbPath)
  } finally {
    db.close()
  }
  return { marker, commit }
}

/** The marker stored in a database file, or null if it has none. Opens it read-only. */
export function readSyncMarker(dbPath: string): string | null {
  const db = openSqliteReadOnly(dbPath)
  try {
    const table = db
      .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`)
      .get(SYNC_MARKER_TABLE)
    if (!table) return null
    const row = db.prepare(`SELECT marker FROM ${SYNC_MARKER_TABLE} WHERE slot = 1`).get() as
      { marker: string } | undefined
    return row?.marker ?? null
  } finally {
    db.close()
  }
}
