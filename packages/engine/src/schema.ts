import type { Database } from './connection.js'
import { EngineError } from './engine-error.js'

/**
 * The engine's data model, as one SQL text.
 *
 * Everything the engine owns lives in the tenant's own SQLite file next to the app's tables,
 * under the `lc_` prefix (apps must not create `lc_` tables). Four tables:
 *
 * - `lc_runs`: one row per workflow run. `id` is the insertion order (list cursors and
 *   "newest first"); `run_id` is the public id. `status` is the API's run status. `input`,
 *   `output` and `error` are JSON text (`NULL` = absent). `idempotency_key` is unique (a partial
 *   index: runs without a key cost no index entry), so a retried submission finds the first
 *   run. `parent_run_id` / `parent_seq` link a child run to
 *   the `ctx.startChild` call that created it. `wake_at` (epoch ms) is the run's durable timer:
 *   the end of a `ctx.sleep`, a `waitForEvent` timeout or a step's retry backoff. Timers are
 *   only meaningful while `status` is `sleeping` or `waiting`, and a partial index keeps
 *   "earliest timer" a single index probe. `status = 'running'` means an execution of the run
 *   is in progress (or was, when the process died): a clean close puts the runs it stopped
 *   back to `pending`, so every `running` row found at open was executing at an abnormal end.
 *   `crash_count` counts such ends in a row without durable progress of the run in between;
 *   at 3 the run is quarantined (`failed`, code `RUN_QUARANTINED`), see recovery.ts.
 * - `lc_steps`: the journal. One row per `ctx` call of a run, keyed by `(run_id, seq)`; `seq`
 *   counts ctx calls from 1 in program order. `kind` says which call (step, transaction, sleep,
 *   event, child, result, now, random, uuid). A replay walks the journal: a row with `status`
 *   `succeeded` or `failed` is returned (or rethrown) without running the call again; a
 *   `running`, `retrying`, `sleeping` or `waiting` row marks a call still in progress.
 * - `lc_events`: events sent to a run. `consumed_seq` is `NULL` until a `ctx.waitForEvent`
 *   takes the event, so an event may arrive before the wait does.
 * - `lc_migrations`: which of the app's migrations ran (by position), so each runs once.
 *
 * All timestamps are integer epoch milliseconds from the engine's clock.
 */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS lc_runs (
  id              INTEGER PRIMARY KEY,
  run_id          TEXT    NOT NULL UNIQUE,
  workflow        TEXT    NOT NULL,
  status          TEXT    NOT NULL CHECK (status IN
                    ('pending','running','sleeping','waiting','succeeded','failed','cancelled')),
  queue           TEXT,
  input           TEXT,
  output          TEXT,
  error           TEXT,
  idempotency_key TEXT,
  parent_run_id   TEXT,
  parent_seq      INTEGER,
  wake_at         INTEGER,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  crash_count     INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS lc_runs_idempotency ON lc_runs (idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS lc_runs_status ON lc_runs (status, id);
CREATE INDEX IF NOT EXISTS lc_runs_workflow ON lc_runs (workflow, id);
CREATE INDEX IF NOT EXISTS lc_runs_parent ON lc_runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS lc_runs_wake ON lc_runs (wake_at)
  WHERE status IN ('sleeping','waiting') AND wake_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS lc_steps (
  run_id     TEXT    NOT NULL,
  seq        INTEGER NOT NULL,
  name       TEXT    NOT NULL,
  kind       TEXT    NOT NULL,
  status     TEXT    NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  output     TEXT,
  error      TEXT,
  started_at INTEGER NOT NULL,
  ended_at   INTEGER,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS lc_events (
  id           INTEGER PRIMARY KEY,
  run_id       TEXT    NOT NULL,
  name         TEXT    NOT NULL,
  payload      TEXT,
  created_at   INTEGER NOT NULL,
  consumed_seq INTEGER
);
CREATE INDEX IF NOT EXISTS lc_events_pending ON lc_events (run_id, name, id)
  WHERE consumed_seq IS NULL;

CREATE TABLE IF NOT EXISTS lc_migrations (
  position   INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
);
`

/**
 * Creates the `lc_` tables if missing, then applies the app's `migrations` that have not run
 * yet, each in its own transaction together with its `lc_migrations` row.
 *
 * @throws {EngineError} `MIGRATION_FAILED` naming the migration's position; earlier migrations
 *   stay applied, the failing one is rolled back.
 */
export function applySchema(db: Database, migrations: readonly string[], nowMs: number): void {
  db.exec(`BEGIN IMMEDIATE;${SCHEMA_SQL}COMMIT;`)
  upgradeSchema(db)
  const applied = new Set(
    (db.prepare('SELECT position FROM lc_migrations').all() as { position: number }[]).map(
      (row) => row.position,
    ),
  )
  const record = db.prepare('INSERT INTO lc_migrations (position, applied_at) VALUES (?, ?)')
  migrations.forEach((sql, position) => {
    if (applied.has(position)) return
    db.exec('BEGIN IMMEDIATE')
    try {
      db.exec(sql)
      record.run(position, nowMs)
      db.exec('COMMIT')
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK')
      throw new EngineError(
        'MIGRATION_FAILED',
        `apply migration #${position}: ${(error as Error).message}; earlier migrations stay applied, fix this one and reopen`,
        { cause: error },
      )
    }
  })
}

/**
 * Brings files written by older engines up to {@link SCHEMA_SQL}: `CREATE TABLE IF NOT EXISTS`
 * leaves an existing table as it was, so columns added since are added here.
 */
function upgradeSchema(db: Database): void {
  const columns = db.prepare("SELECT name FROM pragma_table_info('lc_runs')").all() as {
    name: string
  }[]
  if (!columns.some((column) => column.name === 'crash_count')) {
    db.exec('ALTER TABLE lc_runs ADD COLUMN crash_count INTEGER NOT NULL DEFAULT 0')
  }
}
