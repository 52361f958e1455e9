import type { Database } from './connection.js'

/**
 * The engine's data model, as one SQL text.
 *
 * Everything the engine owns lives in the tenant's own SQLite file next to the app's tables,
 * under the `lc_` prefix (apps must not create `lc_` tables):
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
 * - `lc_migrations`: the log of the app migrations applied, in order (`position`), each by
 *   `name` (`NULL` for a plain SQL string) and `hash` (SHA-256 of its SQL) and the `app` it
 *   was applied for, so each runs once and a changed or reordered one is noticed (see
 *   migration.ts).
 * - `lc_app`: one row, the app this file runs (`name`, the `version` that opened it last,
 *   `recorded_at` when either changed),
 *   so a file opened by another app is refused unless the switch is explicit (app-identity.ts).
 * - `lc_schedules`: cron schedules (see scheduler.ts). `next_fire_at` is the earliest fire
 *   time not handled yet (the cursor: a fire is handled when its run is started, or it is
 *   skipped, in the same commit as the cursor moves); `last_run_id` is the run of the latest
 *   fire, for `overlap`. A run started for a fire has the idempotency key
 *   `schedule:<id>:<fire time ISO>`, so a fire never starts two runs.
 *
 * `lc_runs.app_version` is the app version a run started under (shown in its view and in a
 * replay's `NON_DETERMINISM` error).
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
  app_version     TEXT,
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
  applied_at INTEGER NOT NULL,
  name       TEXT,
  hash       TEXT,
  app        TEXT
);

CREATE TABLE IF NOT EXISTS lc_app (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  name        TEXT    NOT NULL,
  version     TEXT    NOT NULL,
  recorded_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS lc_schedules (
  id           TEXT    PRIMARY KEY,
  source       TEXT    NOT NULL CHECK (source IN ('app','api')),
  cron         TEXT    NOT NULL,
  timezone     TEXT    NOT NULL,
  workflow     TEXT    NOT NULL,
  input        TEXT    NOT NULL,
  overlap      TEXT    NOT NULL CHECK (overlap IN ('skip','allow','queue')),
  catch_up     TEXT    NOT NULL CHECK (catch_up IN ('latest','all','none')),
  paused       INTEGER NOT NULL DEFAULT 0,
  next_fire_at INTEGER,
  last_fire_at INTEGER,
  last_run_id  TEXT,
  last_error   TEXT,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
) WITHOUT ROWID;
`

/**
 * The indexes over the flow-control columns of `lc_runs` (created after {@link ADDED_COLUMNS}
 * gave files written before them their columns). Each is partial, so runs that do not use a
 * feature cost no index entry and their status changes no index work:
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

/** The tables and indexes {@link SCHEMA_SQL} and {@link FLOW_INDEXES_SQL} create. */
const SCHEMA_OBJECTS = [
  ...`${SCHEMA_SQL}${FLOW_INDEXES_SQL}`.matchAll(/CREATE (?:UNIQUE )?(?:TABLE|INDEX) IF NOT EXISTS (\w+)/g),
].map((match) => match[1] as string)

/**
 * Columns added since the first release, by table: files of older engines get them here
 * (`CREATE TABLE IF NOT EXISTS` leaves an existing table as it was).
 */
const ADDED_COLUMNS: readonly (readonly [table: string, column: string, definition: string])[] = [
  ['lc_runs', 'crash_count', 'INTEGER NOT NULL DEFAULT 0'],
  ['lc_runs', 'app_version', 'TEXT'],
  ['lc_runs', 'priority', 'INTEGER NOT NULL DEFAULT 0'],
  ['lc_runs', 'partition_key', 'TEXT'],
  ['lc_runs', 'deduplication_id', 'TEXT'],
  ['lc_runs', 'debounce_key', 'TEXT'],
  ['lc_runs', 'tags', 'TEXT'],
  ['lc_runs', 'timeout_ms', 'INTEGER'],
  ['lc_runs', 'deadline_at', 'INTEGER'],
  ['lc_runs', 'detached', 'INTEGER NOT NULL DEFAULT 0'],
  // Migrations recorded by position only get their identity in migration.ts, which knows the app.
  ['lc_migrations', 'name', 'TEXT'],
  ['lc_migrations', 'hash', 'TEXT'],
  ['lc_migrations', 'app', 'TEXT'],
]

/**
 * Creates the `lc_` tables if missing, adds the columns files of older engines lack, then the
 * indexes over those columns. The app's migrations are applied afterwards (migration.ts).
 *
 * An up-to-date file costs one read of `sqlite_schema` (its tables' CREATE text, which SQLite
 * keeps current through ALTER TABLE, shows their columns): running the whole schema text and
 * asking `pragma_table_info` per table took three times as long, on every open.
 */
export function applySchema(db: Database): void {
  const list = db.prepare("SELECT name, sql FROM sqlite_schema WHERE name LIKE 'lc\\_%' ESCAPE '\\'")
  const read = () => new Map((list.all() as { name: string; sql: string | null }[]).map((row) => [row.name, row.sql ?? '']))
  let objects = read()
  const complete = SCHEMA_OBJECTS.every((name) => objects.has(name))
  if (!complete) {
    db.exec(`BEGIN IMMEDIATE;${SCHEMA_SQL}COMMIT;`)
    objects = read()
  }
  for (const [table, column, definition] of ADDED_COLUMNS) {
    if (!new RegExp(`[(,]\\s*"?${column}"?\\s`).test(objects.get(table) ?? '')) {
      db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`)
    }
  }
  if (!complete) db.exec(`BEGIN IMMEDIATE;${FLOW_INDEXES_SQL}COMMIT;`)
}
