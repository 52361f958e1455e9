/**
 * The control plane's registry: its own SQLite file (never a tenant's), replicated by
 * Litestream to `<prefix>/control-plane` and restored from there when the local file is gone.
 *
 * - `cp_tenants`: one row per tenant. `state` is the API's state; `epoch` counts leases:
 *   every worker start takes the next epoch, and only the worker holding the current epoch
 *   may renew (`lease_expires_at`). `token_hash` is the SHA-256 of the tenant token (the
 *   token itself is shown once, at creation). `next_wake_at` is the earliest durable timer a
 *   hibernated tenant reported, read by the wake scheduler. `restore_from` (JSON
 *   `{tenantId, at}`) is set on a fork: its workers start from that replica while the fork's
 *   own is empty; cleared at its first verified hibernation. `app_upgrade_from` is set by an
 *   explicit app switch (`POST /v1/tenants/:id/upgrade`) to the app the tenant's file may
 *   still record, until a worker of the new app opened it. `durability` (`local` or
 *   `replicated`, issue 11) says when the tenant's acknowledgements are sent; NULL (a tenant
 *   from before the setting) follows the server's default.
 *   `incarnation` is fixed at creation
 *   (see `@litecell/protocol`'s `newIncarnation`): the tenant's replica path and the mark of
 *   its local folder; null for tenants created before incarnations. `worker_secret_hash` is
 *   the SHA-256 of the secret of the worker holding `epoch`: a control plane restarted on this
 *   file checks a surviving worker's heartbeat against it before adopting that worker. State `deleting` is set
 *   first by a delete (or at a start, on a fork reserved and never answered: `starting` at
 *   epoch 0) and never changed by anything else: the row goes once its worker, files
 *   and replica are gone (a start resumes a delete a crash interrupted). Times are epoch
 *   milliseconds.
 * - `cp_tenant_labels`: one row per label of a tenant (a copy of `cp_tenants.labels`), so a
 *   label filter of the tenant list is an index look-up. Every list filter and the wake
 *   scheduler's due query have an index (`cp_tenants_state`, `cp_tenant_labels`,
 *   `cp_tenants_due_at`): the registry answers at 10,000 tenants without a scan.
 * - `cp_crashes`: worker exits that were not a clean hibernation, for crash-loop detection.
 * - `cp_settings`: key/value settings, e.g. the admin token's hash.
 */
export const REGISTRY_SCHEMA = `
CREATE TABLE IF NOT EXISTS cp_tenants (
  id                TEXT PRIMARY KEY,
  app               TEXT NOT NULL,
  labels            TEXT NOT NULL DEFAULT '{}',
  token_hash        TEXT NOT NULL,
  state             TEXT NOT NULL,
  created_at        INTEGER NOT NULL,
  last_active_at    INTEGER,
  next_wake_at      INTEGER,
  epoch             INTEGER NOT NULL DEFAULT 0,
  lease_expires_at  INTEGER,
  worker_url        TEXT,
  worker_pid        INTEGER,
  worker_started_at INTEGER,
  failure_reason    TEXT,
  restore_from      TEXT,
  app_upgrade_from  TEXT,
  durability        TEXT,
  incarnation       TEXT,
  worker_secret_hash TEXT
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS cp_tenants_token ON cp_tenants (token_hash);
CREATE INDEX IF NOT EXISTS cp_tenants_created ON cp_tenants (created_at, id);
CREATE INDEX IF NOT EXISTS cp_tenants_state ON cp_tenants (state, created_at, id);
DROP INDEX IF EXISTS cp_tenants_due;
CREATE INDEX IF NOT EXISTS cp_tenants_due_at ON cp_tenants (next_wake_at, id) WHERE state = 'hibernated';
CREATE TABLE IF NOT EXISTS cp_tenant_labels (
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  tenant_id  TEXT NOT NULL,
  PRIMARY KEY (key, value, tenant_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cp_tenant_labels_tenant ON cp_tenant_labels (tenant_id);
CREATE TABLE IF NOT EXISTS cp_crashes (
  tenant_id  TEXT NOT NULL,
  at         INTEGER NOT NULL,
  exit_code  INTEGER,
  detail     TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS cp_crashes_tenant ON cp_crashes (tenant_id, at);
CREATE TABLE IF NOT EXISTS cp_settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
`

/** Columns added since the first release, for registries created before them. */
export const REGISTRY_COLUMNS_ADDED: readonly { column: string; definition: string }[] = [
  { column: 'restore_from', definition: 'TEXT' },
  { column: 'app_upgrade_from', definition: 'TEXT' },
  { column: 'durability', definition: 'TEXT' },
  { column: 'incarnation', definition: 'TEXT' },
  { column: 'worker_secret_hash', definition: 'TEXT' },
]

/** Fills `cp_tenant_labels` from `cp_tenants.labels` (a registry created before the table). */
export const REGISTRY_LABELS_BACKFILL = `
INSERT OR IGNORE INTO cp_tenant_labels (key, value, tenant_id)
  SELECT labels.key, labels.value, cp_tenants.id FROM cp_tenants, json_each(cp_tenants.labels) AS labels
  WHERE labels.type = 'text'
`
