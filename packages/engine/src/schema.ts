import type { Database } from './connection.js'
import { EngineError } from './engine-error.js'

/**
 * The engine's data model, as one SQL text.
 *
 * Everything the engine owns lives in the tenant's own SQLite file next to the app's tables,
 * under the `lc_` prefix (apps must not create `lc_` tables). Five tables:
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
 *   Flow control: `priority` (lower runs first; admission orders a queue's ready runs by
 *   `(priority, id)`, see queue-admission.ts), `partition_key` (per-partition concurrency of
 *   its queue), `deduplication_id` (unique among unfinished runs), `debounce_key` (a run still
 *   `sleeping` before its first execution collects the starts of its key, see debounce.ts),
 *   `tags` (the run's attributes as a JSON object, indexed in `lc_run_tags`), `timeout_ms` and
 *   `deadline_at` (the run is cancelled at its deadline, see run-deadline.ts) and `detached`
 *   (1: a child run that its parent's cancellation does not reach).
 * - `lc_run_tags`: one row per tag of a run, keyed `(key, value, run_id)` with `run_id` the
 *   run's `lc_runs.id`, so `tag.k=v` filters walk one index range newest first.
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
  crash_count     INTEGER NOT NULL DEFAULT 0,
  priority        INTEGER NOT NULL DEFAULT 0,
  partition_key   TEXT,
  deduplication_id TEXT,
  debounce_key    TEXT,
  tags            TEXT,
  timeout_ms      INTEGER,
  deadline_at     INTEGER,
  detached        INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS lc_runs_idempotency ON lc_runs (idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS lc_runs_status ON lc_runs (status, id);
CREATE INDEX IF NOT EXISTS lc_runs_workflow ON lc_runs (workflow, id);
CREATE INDEX IF NOT EXISTS lc_runs_parent ON lc_runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS lc_runs_wake ON lc_runs (wake_at)
  WHERE status IN ('sleeping','waiting') AND wake_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS lc_run_tags (
  key    TEXT    NOT NULL,
  value  TEXT    NOT NULL,
  run_id INTEGER NOT NULL,
  PRIMARY KEY (key, value, run_id)
) WITHOUT ROWID;

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
 * The indexes over the flow-control columns of `lc_runs` (added by {@link upgradeSchema} to
 * files written before them, hence created after it). Each is partial, so runs that do not
 * use a feature cost no index entry and their status changes no index work:
 *
 * - `lc_runs_dedup`: a `deduplication_id` is unique among unfinished runs only; a finished
 *   run leaves the index, which frees its id.
 * - `lc_runs_debounce`: the sleeping runs of a debounce key, where a debounced start finds the
 *   run still collecting its burst.
 * - `lc_runs_deadline`: the deadlines of unfinished runs, for the earliest one and the due ones.
 * - `lc_runs_finished` (see retention.ts): finished runs by status and age, only while the
 *   app has a retention policy (each finished run costs an index entry, ≈ 10 µs).
 * - `lc_events_run`: every event of a run (consumed ones too), for retention.
 */
export const FLOW_INDEXES_SQL = `
CREATE UNIQUE INDEX IF NOT EXISTS lc_runs_dedup ON lc_runs (deduplication_id)
  WHERE deduplication_id IS NOT NULL AND status NOT IN ('succeeded','failed','cancelled');
CREATE INDEX IF NOT EXISTS lc_runs_debounce ON lc_runs (workflow, debounce_key)
  WHERE debounce_key IS NOT NULL AND status = 'sleeping';
CREATE INDEX IF NOT EXISTS lc_runs_deadline ON lc_runs (deadline_at)
  WHERE deadline_at IS NOT NULL AND status NOT IN ('succeeded','failed','cancelled');
CREATE INDEX IF NOT EXISTS lc_events_run ON lc_events (run_id);
`

/** Columns of `lc_runs` added after its first version, with their definitions. */
const ADDED_RUN_COLUMNS: readonly (readonly [string, string])[] = [
  ['crash_count', 'INTEGER NOT NULL DEFAULT 0'],
  ['priority', 'INTEGER NOT NULL DEFAULT 0'],
  ['partition_key', 'TEXT'],
  ['deduplication_id', 'TEXT'],
  ['debounce_key', 'TEXT'],
  ['tags', 'TEXT'],
  ['timeout_ms', 'INTEGER'],
  ['deadline_at', 'INTEGER'],
  ['detached', 'INTEGER NOT NULL DEFAULT 0'],
]

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
  db.exec(`BEGIN IMMEDIATE;${FLOW_INDEXES_SQL}COMMIT;`)
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
  const missing = ADDED_RUN_COLUMNS.filter(([name]) => !columns.some((c) => c.name === name))
  if (missing.length === 0) return
  db.exec(
    `BEGIN IMMEDIATE;${missing.map(([name, type]) => `ALTER TABLE lc_runs ADD COLUMN ${name} ${type};`).join('')}COMMIT;`,
  )
}
