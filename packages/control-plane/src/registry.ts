import type Database from 'libsql'
import { newIncarnation, type Durability, type RestoreSource } from '@litecell/protocol'
import { openSqlite } from '@litecell/replica'
import { ControlPlaneError } from './control-plane-error.js'
import {
  REGISTRY_COLUMNS_ADDED,
  REGISTRY_LABELS_BACKFILL,
  REGISTRY_SCHEMA,
} from './registry-schema.js'
import { toRecord, type TenantRecord, type TenantRow, type TenantState } from './tenant-record.js'
import type { TenantListQuery } from './tenant-list-query.js'

/** Most prepared statements kept. */
const MAX_CACHED_STATEMENTS = 128

/**
 * The registry of tenants, leases and settings over the control plane's own SQLite file.
 * One synchronous connection: the registry sees a handful of small writes per tenant
 * lifecycle event, and a single connection makes every PRAGMA apply. Like the tenants'
 * files it never checkpoints by itself: Litestream owns checkpoints.
 */
export class Registry {
  readonly #db: Database
  /** Prepared statements by SQL text: every request reads the registry, so none is prepared twice. */
  readonly #statements = new Map<string, Database.Statement>()

  private constructor(db: Database) {
    this.#db = db
  }

  /**
   * Opens (creating if needed) the registry at `path`, pinned so that closing it never
   * checkpoints, even when libsql really closes it only at process exit (see the replica
   * package's `pinDatabase`).
   */
  static open(path: string): Registry {
    const db = openSqlite(path)
    const hadLabels = db
      .prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'cp_tenant_labels'`)
      .get()
    db.exec(REGISTRY_SCHEMA)
    const columns = db.prepare(`SELECT name FROM pragma_table_info('cp_tenants')`).all() as { name: string }[]
    for (const { column, definition } of REGISTRY_COLUMNS_ADDED) {
      if (!columns.some((known) => known.name === column)) {
        db.exec(`ALTER TABLE cp_tenants ADD COLUMN ${column} ${definition}`)
      }
    }
    if (!hadLabels) db.exec(REGISTRY_LABELS_BACKFILL)
    return new Registry(db)
  }

  /** Adds a tenant, as a new incarnation of its id; `TENANT_EXISTS` if the id is taken. */
  createTenant(tenant: {
    id: string
    app: string
    labels: Record<string, string>
    tokenHash: string
    state: TenantState
    nowMs: number
    durability?: Durability | null
  }): TenantRecord {
    try {
      this.#db.transaction(() => {
        this.#sql(
            `INSERT INTO cp_tenants (id, app, labels, token_hash, state, created_at, last_active_at, durability, incarnation)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(tenant.id, tenant.app, JSON.stringify(tenant.labels), tenant.tokenHash, tenant.state, tenant.nowMs, tenant.nowMs, tenant.durability ?? null, newIncarnation())
        const label = this.#sql('INSERT INTO cp_tenant_labels (key, value, tenant_id) VALUES (?, ?, ?)')
        for (const [key, value] of Object.entries(tenant.labels)) label.run(key, value, tenant.id)
      })()
    } catch (err) {
      if (String((err as Error).message).includes('UNIQUE')) {
        throw new ControlPlaneError('TENANT_EXISTS', `tenant ${tenant.id} already exists`)
      }
      throw err
    }
    return this.require(tenant.id)
  }

  /** The tenant, or null. */
  get(id: string): TenantRecord | null {
    const row = this.#sql('SELECT * FROM cp_tenants WHERE id = ?').get(id) as TenantRow | undefined
    return row ? toRecord(row) : null
  }

  /** The id of the tenant whose token has this hash, or null. */
  tenantIdByTokenHash(tokenHash: string): string | null {
    const row = this.#sql('SELECT id FROM cp_tenants WHERE token_hash = ?').get(tokenHash) as
      | { id: string }
      | undefined
    return row?.id ?? null
  }

  /**
   * The tenant, or `TENANT_NOT_FOUND` (also while it is being deleted: no route reaches a
   * `deleting` tenant, and nothing wakes it).
   */
  require(id: string): TenantRecord {
    const tenant = this.get(id)
    if (!tenant) throw new ControlPlaneError('TENANT_NOT_FOUND', `no tenant ${id}`)
    if (tenant.state === 'deleting') {
      throw new ControlPlaneError('TENANT_NOT_FOUND', `no tenant ${id}: it is being deleted`)
    }
    return tenant
  }

  /**
   * Marks the tenant `deleting` (the first step of a delete): from now on no lease is begun or
   * renewed, no worker becomes its server, no state change applies, and no timer wakes it.
   * False if there is no such tenant.
   */
  markDeleting(id: string): boolean {
    const result = this.#db
      .prepare(`UPDATE cp_tenants SET state = 'deleting', next_wake_at = NULL WHERE id = ?`)
      .run(id)
    return result.changes === 1
  }

  /** Tenants whose delete has begun and not finished (a crash interrupted it). */
  deletingTenants(): string[] {
    return (
      this.#db.prepare(`SELECT id FROM cp_tenants WHERE state = 'deleting' ORDER BY id`).all() as { id: string }[]
    ).map((row) => row.id)
  }

  /**
   * After a control plane restart no worker is known: tenants that were starting, active or
   * stopping become hibernated and due now, so the scheduler recovers their work. Their lease
   * (epoch, expiry, the worker's secret hash) is kept: until it runs out, a worker that still
   * holds it may be adopted ({@link adoptLease}), and a wake waits for that or the lease's end
   * before it starts a replacement. A row `starting` that never had a lease (epoch 0) is a fork
   * the previous run reserved and never answered (its restore point may not be set): it becomes
   * `deleting`, so the start's resumed deletes remove it instead of a wake making it an empty
   * tenant whose token nobody holds.
   */
  recoverAfterRestart(nowMs: number): number {
    return this.#db
      .prepare(
        `UPDATE cp_tenants SET
           state = CASE WHEN state = 'starting' AND epoch = 0 THEN 'deleting' ELSE 'hibernated' END,
           next_wake_at = CASE WHEN state = 'starting' AND epoch = 0 THEN NULL ELSE ? END,
           worker_url = NULL, worker_pid = NULL, worker_started_at = NULL
         WHERE state IN ('starting', 'active', 'stopping')`,
      )
      .run(nowMs).changes
  }

  /** Every tenant, oldest first. */
  list(): TenantRecord[] {
    return (this.#sql('SELECT * FROM cp_tenants ORDER BY created_at, id').all() as TenantRow[]).map(toRecord)
  }

  /**
   * Tenants matching `filter`, oldest first, from after `filter.after`; `limit` + 1 rows are
   * read, so the caller learns whether another page follows. `total` counts every match.
   */
  page(filter: TenantListQuery): { tenants: TenantRecord[]; hasMore: boolean; total: number } {
    const where: string[] = []
    const args: (string | number)[] = []
    if (filter.state) (where.push('state = ?'), args.push(filter.state))
    for (const [key, value] of Object.entries(filter.labels)) {
      where.push('id IN (SELECT tenant_id FROM cp_tenant_labels WHERE key = ? AND value = ?)')
      args.push(key, value)
    }
    const total = (
      this.#sql(`SELECT count(*) AS n FROM cp_tenants ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`).get(...args) as { n: number }
    ).n
    if (filter.after) {
      where.push('(created_at > ? OR (created_at = ? AND id > ?))')
      args.push(filter.after.createdAt, filter.after.createdAt, filter.after.id)
    }
    const limit = filter.limit ?? -1
    const rows = this.#db
      .prepare(`SELECT * FROM cp_tenants ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id LIMIT ?`)
      .all(...args, limit < 0 ? -1 : limit + 1) as TenantRow[]
    const hasMore = limit >= 0 && rows.length > limit
    return { tenants: (hasMore ? rows.slice(0, limit) : rows).map(toRecord), hasMore, total }
  }

  /** How many tenants are in each state. */
  countByState(): Partial<Record<TenantState, number>> {
    const rows = this.#sql('SELECT state, count(*) AS n FROM cp_tenants GROUP BY state').all() as { state: TenantState; n: number }[]
    return Object.fromEntries(rows.map((row) => [row.state, row.n]))
  }

  /** Sets the state (and optional columns) of a tenant; never of one being deleted. */
  setState(
    id: string,
    state: TenantState,
    extra: { nextWakeAt?: number | null; failureReason?: string | null; clearWorker?: boolean } = {},
  ): void {
    const sets = ['state = ?']
    const args: unknown[] = [state]
    if (extra.nextWakeAt !== undefined) {
      sets.push('next_wake_at = ?')
      args.push(extra.nextWakeAt)
    }
    if (extra.failureReason !== undefined) {
      sets.push('failure_reason = ?')
      args.push(extra.failureReason)
    }
    if (extra.clearWorker) sets.push('worker_url = NULL', 'worker_pid = NULL', 'worker_started_at = NULL')
    this.#sql(`UPDATE cp_tenants SET ${sets.join(', ')} WHERE id = ? AND state != 'deleting'`).run(...args, id)
  }

  /** Changes a tenant's settings (what is given); `TENANT_NOT_FOUND` if it is gone. */
  updateSettings(id: string, settings: { labels?: Record<string, string>; durability?: Durability }): TenantRecord {
    const sets: string[] = []
    const args: unknown[] = []
    if (settings.labels !== undefined) (sets.push('labels = ?'), args.push(JSON.stringify(settings.labels)))
    if (settings.durability !== undefined) (sets.push('durability = ?'), args.push(settings.durability))
    if (sets.length === 0) return this.require(id)
    this.#db.transaction(() => {
      this.#sql(`UPDATE cp_tenants SET ${sets.join(', ')} WHERE id = ?`).run(...args, id)
      if (settings.labels === undefined) return
      // The label index (cp_tenant_labels) follows the labels column.
      this.#sql('DELETE FROM cp_tenant_labels WHERE tenant_id = ?').run(id)
      const label = this.#sql('INSERT INTO cp_tenant_labels (key, value, tenant_id) VALUES (?, ?, ?)')
      for (const [key, value] of Object.entries(settings.labels)) label.run(key, value, id)
    })()
    return this.require(id)
  }

  /** Sets (or clears, with null) where a fork's workers restore from while its replica is empty. */
  setRestoreFrom(id: string, source: RestoreSource | null): void {
    this.#db
      .prepare('UPDATE cp_tenants SET restore_from = ? WHERE id = ?')
      .run(source === null ? null : JSON.stringify(source), id)
  }

  /**
   * Takes the next lease epoch for a new worker; the tenant becomes `starting`.
   * `TENANT_NOT_FOUND` if it is gone or being deleted.
   */
  beginLease(id: string, ttlMs: number, nowMs: number, secretHash: string | null = null): number {
    const row = this.#db
      .prepare(
        `UPDATE cp_tenants SET epoch = epoch + 1, lease_expires_at = ?, state = 'starting',
           failure_reason = NULL, worker_url = NULL, worker_pid = NULL, worker_started_at = NULL,
           worker_secret_hash = ?
         WHERE id = ? AND state != 'deleting' RETURNING epoch`,
      )
      .all(nowMs + ttlMs, secretHash, id)[0] as { epoch: number } | undefined
    if (!row) throw new ControlPlaneError('TENANT_NOT_FOUND', `no tenant ${id}`)
    return row.epoch
  }

  /** Renews the lease of `epoch`; null when that epoch is no longer the tenant's. */
  renewLease(id: string, epoch: number, ttlMs: number, nowMs: number, lastActiveAt?: number): number | null {
    const expiresAt = nowMs + ttlMs
    const result = this.#db
      .prepare(
        `UPDATE cp_tenants SET lease_expires_at = ?, last_active_at = max(coalesce(last_active_at, 0), ?)
         WHERE id = ? AND epoch = ? AND state IN ('starting', 'active', 'stopping')`,
      )
      .run(expiresAt, lastActiveAt ?? 0, id, epoch)
    return result.changes === 1 ? expiresAt : null
  }

  /**
   * Whether a worker proving `secretHash` may be adopted under `epoch` (a control plane
   * restart left it running): the tenant is in its recovered form (hibernated, by
   * {@link recoverAfterRestart}), still at that epoch, with that worker's secret hash, and the
   * lease has not run out. Anything else (a replacement began a newer epoch, the lease ended,
   * the tenant is being deleted) is not adoptable.
   */
  canAdopt(id: string, epoch: number, secretHash: string, nowMs: number): boolean {
    const row = this.#sql(
      `SELECT 1 FROM cp_tenants WHERE id = ? AND epoch = ? AND state = 'hibernated'
         AND worker_secret_hash = ? AND lease_expires_at > ?`,
    ).get(id, epoch, secretHash, nowMs)
    return row !== undefined
  }

  /**
   * Adopts the surviving worker holding `epoch` (see {@link canAdopt}): the tenant becomes
   * `active` with that worker, its lease renewed. Null if it is not adoptable.
   */
  adoptLease(
    id: string,
    epoch: number,
    secretHash: string,
    worker: { url: string; pid: number; startedAtMs: number },
    ttlMs: number,
    nowMs: number,
  ): number | null {
    const expiresAt = nowMs + ttlMs
    const result = this.#db
      .prepare(
        `UPDATE cp_tenants SET state = 'active', lease_expires_at = ?, worker_url = ?, worker_pid = ?,
           worker_started_at = ?, last_active_at = max(coalesce(last_active_at, 0), ?)
         WHERE id = ? AND epoch = ? AND state = 'hibernated' AND worker_secret_hash = ?
           AND lease_expires_at > ?`,
      )
      .run(expiresAt, worker.url, worker.pid, worker.startedAtMs, nowMs, id, epoch, secretHash, nowMs)
    return result.changes === 1 ? expiresAt : null
  }

  /** Records the worker that holds `epoch` as serving; the tenant becomes `active`. */
  setWorker(id: string, epoch: number, worker: { url: string; pid: number; startedAtMs: number }): boolean {
    const result = this.#db
      .prepare(
        `UPDATE cp_tenants SET state = 'active', worker_url = ?, worker_pid = ?, worker_started_at = ?,
           last_active_at = ? WHERE id = ? AND epoch = ? AND state != 'deleting'`,
      )
      .run(worker.url, worker.pid, worker.startedAtMs, worker.startedAtMs, id, epoch)
    return result.changes === 1
  }

  /** Ends the lease of `epoch` (its worker exited); true if it was current. */
  endLease(id: string, epoch: number): boolean {
    const result = this.#db
      .prepare('UPDATE cp_tenants SET lease_expires_at = NULL WHERE id = ? AND epoch = ?')
      .run(id, epoch)
    return result.changes === 1
  }

  /**
   * Hibernated tenants whose next wake time has come, earliest first, at most `limit` (read
   * through the partial index `cp_tenants_due`, never a scan of every tenant).
   */
  dueTenants(nowMs: number, limit = -1): string[] {
    return (
      this.#sql(
          // INDEXED BY: without statistics the planner may prefer the state index, which
          // reads every hibernated tenant to sort them.
          `SELECT id FROM cp_tenants INDEXED BY cp_tenants_due_at
           WHERE state = 'hibernated' AND next_wake_at <= ?
           ORDER BY next_wake_at, id LIMIT ?`,
        )
        .all(nowMs, limit) as { id: string }[]
    ).map((row) => row.id)
  }

  /** Records a crash and returns how many this tenant had since `sinceMs`. */
  recordCrash(id: string, crash: { exitCode: number | null; detail: string; nowMs: number; sinceMs: number }): number {
    this.#db
      .prepare('INSERT INTO cp_crashes (tenant_id, at, exit_code, detail) VALUES (?, ?, ?, ?)')
      .run(id, crash.nowMs, crash.exitCode, crash.detail)
    this.#sql('DELETE FROM cp_crashes WHERE tenant_id = ? AND at < ?').run(id, crash.sinceMs)
    const row = this.#db
      .prepare('SELECT count(*) AS n FROM cp_crashes WHERE tenant_id = ? AND at >= ?')
      .get(id, crash.sinceMs) as { n: number }
    return row.n
  }

  /** Forgets a tenant's crash history (an admin woke a failed tenant). */
  clearCrashes(id: string): void {
    this.#sql('DELETE FROM cp_crashes WHERE tenant_id = ?').run(id)
  }

  /**
   * Switches a tenant's app: `upgradeFrom` is the app its file may still record (its workers
   * are told, so the engine accepts the switch) until {@link confirmApp}.
   */
  setApp(id: string, app: string, upgradeFrom: string | null): void {
    this.#sql('UPDATE cp_tenants SET app = ?, app_upgrade_from = ? WHERE id = ?').run(app, upgradeFrom, id)
  }

  /** A worker of the tenant's app opened its file: the file records that app now. */
  confirmApp(id: string): void {
    this.#sql('UPDATE cp_tenants SET app_upgrade_from = NULL WHERE id = ? AND app_upgrade_from IS NOT NULL').run(id)
  }

  /** Removes a tenant and its crash history. */
  delete(id: string): void {
    this.#db.transaction(() => {
      this.#sql('DELETE FROM cp_crashes WHERE tenant_id = ?').run(id)
      this.#sql('DELETE FROM cp_tenant_labels WHERE tenant_id = ?').run(id)
      this.#sql('DELETE FROM cp_tenants WHERE id = ?').run(id)
    })()
  }

  /** A setting, or null. */
  getSetting(key: string): string | null {
    const row = this.#sql('SELECT value FROM cp_settings WHERE key = ?').get(key) as
      | { value: string }
      | undefined
    return row?.value ?? null
  }

  /** Stores a setting. */
  setSetting(key: string, value: string): void {
    this.#db
      .prepare('INSERT INTO cp_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(key, value)
  }

  #sql(text: string): Database.Statement {
    let statement = this.#statements.get(text)
    if (!statement) {
      // Filters make a handful of shapes; a bound keeps odd ones from piling up.
      if (this.#statements.size >= MAX_CACHED_STATEMENTS) this.#statements.clear()
      statement = this.#db.prepare(text)
      this.#statements.set(text, statement)
    }
    return statement
  }

  /** Closes the connection (never checkpoints: Litestream owns that). */
  close(): void {
    this.#db.close()
  }
}
