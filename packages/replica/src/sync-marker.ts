import { randomUUID } from 'node:crypto'
import { openSqlite } from './sqlite-connection.js'
import { type WalCommit, readLastCommit } from './wal-commit.js'

/** The table that holds the marker row; one row, rewritten by every verified stop. */
export const SYNC_MARKER_TABLE = '_litecell_sync_marker'

/**
 * Commit a fresh random marker into the database and return it with the position of its
 * commit. Whatever was committed before this call is in the replica once the marker is.
 */
export function writeSyncMarker(dbPath: string): { marker: string; commit: WalCommit } {
  const marker = randomUUID()
  let commit: WalCommit
  const db = openSqlite(dbPath)
  try {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${SYNC_MARKER_TABLE} (
        slot INTEGER PRIMARY KEY CHECK (slot = 1),
        marker TEXT NOT NULL,
        written_at_ms INTEGER NOT NULL
      )`,
    )
    db.prepare(
      `INSERT OR REPLACE INTO ${SYNC_MARKER_TABLE} (slot, marker, written_at_ms) VALUES (1, ?, ?)`,
    ).run(marker, Date.now())
    // Before close: closing the last connection may checkpoint and delete the WAL.
    commit = readLastCommit(dbPath)
  } finally {
    db.close()
  }
  return { marker, commit }
}

/** The marker stored in a database file, or null if it has none. */
export function readSyncMarker(dbPath: string): string | null {
  const db = openSqlite(dbPath)
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
