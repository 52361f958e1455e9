import { createHash } from 'node:crypto'
import type { Database } from './connection.js'
import { EngineError } from './engine-error.js'

/** A named app migration: `defineApp({ migrations: [{ name: 'add-orders', sql: '…' }] })`. */
export interface MigrationDefinition {
  /** Its identity: at most 128 characters, unique in the app's list. */
  readonly name: string
  /** One or more SQL statements, applied in one transaction. */
  readonly sql: string
}

/** An app migration: a plain SQL string (identified by its hash) or a named one. */
export type Migration = string | MigrationDefinition

/** One migration of the app's list, with its identity. */
interface Entry {
  readonly index: number
  readonly name: string | null
  readonly hash: string
  readonly sql: string
}

/** One row of `lc_migrations`. `hash` is `NULL` only in rows of older engines, by position. */
interface AppliedRow {
  position: number
  name: string | null
  hash: string | null
  app: string | null
}

/** The content hash of a migration's SQL, as recorded: `sha256:` and 64 hex digits. */
export function migrationHash(sql: string): string {
  return `sha256:${createHash('sha256').update(sql).digest('hex')}`
}

function toEntry(migration: Migration, index: number): Entry {
  const named = typeof migration !== 'string'
  const sql = named ? migration.sql : migration
  return { index, name: named ? migration.name : null, hash: migrationHash(sql), sql }
}

function label(entry: { name: string | null; hash: string | null }, index: number): string {
  if (entry.name !== null) return `#${index} \`${entry.name}\``
  return `#${index} (${entry.hash === null ? 'recorded by position' : shortHash(entry.hash)})`
}

function shortHash(hash: string): string {
  return hash.slice(0, 'sha256:'.length + 12)
}

const HINT =
  'Applied migrations must stay as they are, in order: restore the earlier list and add changes as new migrations at its end. If this tenant should run another app, switch it on purpose: `litecell tenants upgrade <tenant> --app <name>`'

function mismatch(message: string): EngineError {
  return new EngineError('MIGRATION_MISMATCH', `check app migrations: ${message}. ${HINT}`)
}

/**
 * Applies the app's migrations that have not run on this database yet, each in its own
 * transaction with its `lc_migrations` row, after checking those that have.
 *
 * Identity: a migration is its SQL's hash (and its name, if it has one). The migrations this
 * database applied for app `appName` must be the first ones of the app's list, in the same
 * order and unchanged (a named migration may not change its SQL; a plain string that gains a
 * name keeps its identity). An app's migration whose SQL was already applied for another app
 * (before an explicit app switch) is adopted, not run again. Rows of older engines, which
 * recorded migrations by position only, take the identity of the app's migration at that
 * position (the only history there is), in the same transaction as the check.
 *
 * @throws {EngineError} `MIGRATION_MISMATCH` naming the first migration that differs (nothing
 *   is written then); `MIGRATION_FAILED` naming the migration whose SQL failed (earlier ones
 *   stay applied, it is rolled back).
 */
export function applyMigrations(
  db: Database,
  migrations: readonly Migration[],
  appName: string,
  nowMs: number,
): void {
  const entries = migrations.map(toEntry)
  const rows = db
    .prepare('SELECT position, name, hash, app FROM lc_migrations ORDER BY position')
    .all() as AppliedRow[]
  // A file whose log is in order costs one read at open; fixes to the log (converting an older
  // engine's rows, a name gained) are written in one transaction, or not at all on a mismatch.
  const fixes: (() => void)[] = []
  const pending = plan(db, rows, entries, appName, fixes)
  if (fixes.length > 0) {
    db.exec('BEGIN IMMEDIATE')
    try {
      for (const fix of fixes) fix()
      db.exec('COMMIT')
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK')
      throw error
    }
  }
  if (pending.length === 0) return
  const record = db.prepare(
    'INSERT INTO lc_migrations (position, applied_at, name, hash, app) VALUES ((SELECT coalesce(max(position), -1) + 1 FROM lc_migrations), ?, ?, ?, ?)',
  )
  for (const { entry, adopt } of pending) {
    db.exec('BEGIN IMMEDIATE')
    try {
      if (!adopt) db.exec(entry.sql)
      record.run(nowMs, entry.name, entry.hash, appName)
      db.exec('COMMIT')
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK')
      throw new EngineError(
        'MIGRATION_FAILED',
        `apply migration ${label(entry, entry.index)}: ${(error as Error).message}; earlier migrations stay applied, fix this one and reopen`,
        { cause: error },
      )
    }
  }
}

/**
 * Checks the applied migrations (`rows`, converting an older engine's in memory) and returns
 * what is left to do; the writes that fix the log up go to `fixes`.
 */
function plan(
  db: Database,
  rows: AppliedRow[],
  entries: readonly Entry[],
  appName: string,
  fixes: (() => void)[],
): { entry: Entry; adopt: boolean }[] {
  for (const row of rows) {
    if (row.hash !== null) continue
    // An older engine's row: its position was the index in the app's list.
    const entry = entries[row.position]
    if (entry === undefined) {
      throw mismatch(
        `this tenant applied migration #${row.position} (recorded by position by an older litecell), but the app lists only ${entries.length} migration(s)`,
      )
    }
    const { position } = row
    fixes.push(() =>
      db
        .prepare('UPDATE lc_migrations SET name = ?, hash = ?, app = ? WHERE position = ?')
        .run(entry.name, entry.hash, appName, position),
    )
    Object.assign(row, { name: entry.name, hash: entry.hash, app: appName })
  }
  const own = rows.filter((row) => row.app === appName)
  if (own.length > entries.length) {
    const first = own[entries.length] as AppliedRow
    throw mismatch(
      `this tenant applied ${own.length} migrations of app \`${appName}\`, but the app lists only ${entries.length}: migration ${label(first, entries.length)} is missing from it`,
    )
  }
  own.forEach((row, index) => {
    const entry = entries[index] as Entry
    if (row.hash === entry.hash) {
      const { name } = entry
      if (row.name !== name && name !== null) {
        fixes.push(() =>
          db
            .prepare('UPDATE lc_migrations SET name = ? WHERE position = ?')
            .run(name, row.position),
        )
      }
      return
    }
    if (row.name !== null && row.name === entry.name) {
      throw mismatch(
        `migration ${label(entry, index)} changed since this tenant applied it (its SQL now hashes to ${shortHash(entry.hash)}, applied: ${shortHash(row.hash as string)})`,
      )
    }
    throw mismatch(
      `migration ${label(entry, index)} of the app differs from migration ${label(row, index)} that this tenant applied at that place: an earlier migration was changed, removed or reordered`,
    )
  })
  const appliedElsewhere = new Set(rows.filter((row) => row.app !== appName).map((row) => row.hash))
  return entries
    .slice(own.length)
    .map((entry) => ({ entry, adopt: appliedElsewhere.has(entry.hash) }))
}
