import { hashSecret, newSecret, type Durability } from '@litecell/protocol'
import { DEFAULT_APP_NAME, type AppCatalog } from './app-catalog.js'
import { ControlPlaneError } from './control-plane-error.js'
import type { Fleet } from './fleet/fleet.js'
import type { Registry } from './registry.js'
import { TenantDeletion } from './tenant-deletion.js'
import type { TenantRecord } from './tenant-record.js'
import { newTenantId } from './tenant-id.js'
import type { TenantReplicas } from './tenant-replicas.js'
import { encodeTenantCursor, type TenantListQuery } from './tenant-list-query.js'

/** A tenant as the API shows it. */
export interface TenantView {
  id: string
  app: string
  state: TenantRecord['state']
  labels: Record<string, string>
  /** When acknowledgements are sent: `local` (on the worker's disk) or `replicated` (in S3). */
  durability: Durability
  createdAt: string
  lastActiveAt: string | null
  nextWakeAt: string | null
  failureReason?: string
  worker?: { pid: number | null; epoch: number; startedAt: string | null; rssBytes: number | null }
}

/** A newly created tenant: its token is shown this once. */
export interface CreatedTenant {
  id: string
  token: string
  state: TenantRecord['state']
}

/**
 * The tenant operations of the API (create, list, show, hibernate, wake, fork, delete) over
 * the registry, the fleet and the replica store. The control plane never holds a tenant
 * database: tenants' workers restore, replicate and fork them.
 */
export class TenantService {
  readonly #registry: Registry
  readonly #fleet: Fleet
  readonly #apps: AppCatalog
  readonly #replicas: TenantReplicas
  readonly #defaultDurability: Durability
  readonly #confirmRegistry: () => Promise<void>
  readonly #deletion: TenantDeletion

  constructor(options: {
    registry: Registry
    fleet: Fleet
    apps: AppCatalog
    replicas: TenantReplicas
    /** A tenant created without `durability` gets this. @default 'local' */
    defaultDurability?: Durability
    /**
     * Resolves once the registry's changes so far are confirmed in S3: creating, forking,
     * changing and deleting a tenant answer only then (issue 11). Default: at once (no
     * replicated registry, e.g. in-process tests).
     */
    confirmRegistry?: () => Promise<void>
  }) {
    this.#registry = options.registry
    this.#fleet = options.fleet
    this.#apps = options.apps
    this.#replicas = options.replicas
    this.#defaultDurability = options.defaultDurability ?? 'local'
    this.#confirmRegistry = options.confirmRegistry ?? (() => Promise.resolve())
    this.#deletion = new TenantDeletion(options)
  }

  /**
   * Creates a hibernated tenant (a new tenant starts empty on its first wake); answers once
   * the registry holds it in S3. If S3 does not confirm it, the tenant is removed again and
   * the answer is `STORAGE_UNAVAILABLE` (nobody learned its token).
   */
  async create(request: {
    id?: string
    app?: string
    labels?: Record<string, string>
    durability?: Durability
  }): Promise<CreatedTenant> {
    const app = request.app ?? DEFAULT_APP_NAME
    this.#apps.pathOf(app)
    const token = newSecret('lct_')
    const tenant = this.#registry.createTenant({
      id: request.id ?? newTenantId(),
      app,
      labels: request.labels ?? {},
      tokenHash: hashSecret(token),
      state: 'hibernated',
      nowMs: Date.now(),
      durability: request.durability ?? this.#defaultDurability,
    })
    try {
      await this.#confirmed(`create tenant ${tenant.id}`)
    } catch (err) {
      this.#registry.delete(tenant.id)
      throw err
    }
    return { id: tenant.id, token, state: tenant.state }
  }

  /** Changes a tenant's labels or durability; answers once the registry holds it in S3. */
  async update(id: string, settings: { labels?: Record<string, string>; durability?: Durability }): Promise<TenantView> {
    this.#registry.require(id)
    const tenant = this.#registry.updateSettings(id, settings)
    await this.#confirmed(`change tenant ${id}`)
    return this.#view(tenant)
  }

  /** The durability of the tenant's acknowledgements (what its requests are forwarded with). */
  durabilityOf(tenant: TenantRecord): Durability {
    return tenant.durability ?? this.#defaultDurability
  }

  /** The tenant, or `TENANT_NOT_FOUND`. */
  get(id: string): TenantRecord {
    return this.#registry.require(id)
  }

  /** Throws `TENANT_NOT_FOUND` unless the tenant exists. */
  require(id: string): void {
    this.#registry.require(id)
  }

  /** Whether the tenant exists (an open run stream ends when it is deleted). */
  exists(id: string): boolean {
    return this.#registry.get(id) !== null
  }

  /** A page of tenants (every tenant without `limit`), with the cursor of the next page. */
  list(query: TenantListQuery = { labels: {} }): { tenants: TenantView[]; nextCursor: string | null; total: number } {
    const page = this.#registry.page(query)
    const last = page.tenants[page.tenants.length - 1]
    return {
      tenants: page.tenants.map((tenant) => this.#view(tenant)),
      nextCursor: page.hasMore && last ? encodeTenantCursor({ createdAt: last.createdAt, id: last.id }) : null,
      total: page.total,
    }
  }

  /** One tenant, with its restore points (null if storage could not be listed). */
  async show(id: string): Promise<TenantView & { replica: unknown }> {
    const tenant = this.#registry.require(id)
    const view = this.#view(tenant)
    const replica = await this.#replicas.restorePoints(id, tenant.incarnation).catch((err: unknown) => ({
      error: (err as Error).message,
    }))
    return { ...view, replica }
  }

  async hibernate(id: string): Promise<TenantView> {
    this.#registry.require(id)
    await this.#fleet.hibernate(id)
    return this.#view(this.#registry.require(id))
  }

  /** Starts the tenant's worker; an admin's wake also revives a `failed` tenant. */
  async wake(id: string): Promise<TenantView> {
    this.#registry.require(id)
    await this.#fleet.ensureActive(id, { force: true })
    return this.#view(this.#registry.require(id))
  }

  /**
   * Switches the tenant to app `app` (default: its own app, to run its changed code): stops
   * its worker at the next durable point (verified hibernation), records the new app and the
   * one its file still records (the worker is told, so its engine accepts the switch: the one
   * way to change a tenant's app), and wakes it with freshly loaded code. Runs in flight
   * continue under the new code, their `ctx.patched` calls telling old from new. If the new
   * app refuses the file (a changed migration), the wake answers `MIGRATION_MISMATCH` and the
   * tenant stays failed with the reason; upgrading back to its previous app undoes it.
   * The switch is confirmed in S3 before the wake (`STORAGE_UNAVAILABLE` otherwise: the tenant
   * stays hibernated, switched here, and the next request wakes it on the new app).
   */
  async upgrade(id: string, request: { app?: string }): Promise<TenantView> {
    const tenant = this.#registry.require(id)
    const app = request.app ?? tenant.app
    this.#apps.pathOf(app)
    if (tenant.state !== 'failed') await this.#fleet.hibernate(id)
    const current = this.#registry.require(id)
    // After an unfinished switch (its wake failed), the file still records the app before it.
    this.#registry.setApp(id, app, current.appUpgradeFrom ?? current.app)
    // Before the new app's worker can write the switch into the tenant's file: a registry
    // restored from S3 must never launch the old app against it (issue 11: acknowledged).
    await this.#confirmed(`upgrade tenant ${id} to app ${app}`)
    // A wake that slipped in before the switch launched the previous app: stop it too.
    while (this.#fleet.hasWorker(id)) await this.#fleet.hibernate(id)
    this.#fleet.refreshLauncher()
    await this.#fleet.ensureActive(id, { force: true })
    return this.#view(this.#registry.require(id))
  }

  /**
   * A new tenant from this tenant's state, now or as of ISO time `at`. The control plane holds
   * no file: the new tenant's first worker restores the source's replica as of a pinned time
   * (see {@link #currentPoint} for "now"), then replicates to its own path. The new id is
   * reserved (`starting`) until that time is known, so nothing wakes the fork empty (a
   * control plane that dies meanwhile deletes the reservation at its next start:
   * `Registry.recoverAfterRestart`).
   */
  async fork(sourceId: string, request: { id: string; at?: Date }): Promise<CreatedTenant> {
    const source = this.#registry.require(sourceId)
    const token = newSecret('lct_')
    this.#registry.createTenant({
      id: request.id,
      app: source.app,
      labels: { ...source.labels, 'forked-from': sourceId },
      tokenHash: hashSecret(token),
      state: 'starting',
      nowMs: Date.now(),
      durability: source.durability,
    })
    try {
      const at = request.at?.toISOString() ?? (await this.#currentPoint(source))
      this.#registry.setRestoreFrom(request.id, {
        tenantId: sourceId,
        at,
        ...(source.incarnation === null ? {} : { incarnation: source.incarnation }),
      })
      this.#registry.setState(request.id, 'hibernated', { nextWakeAt: null })
      // The fork's row and its pinned source are in S3 before its first worker writes
      // anything to its replica: a lost machine cannot leave that replica orphaned.
      await this.#confirmed(`fork tenant ${sourceId} as ${request.id}`)
      await this.#fleet.ensureActive(request.id)
    } catch (err) {
      await this.#fleet.discard(request.id)
      this.#registry.delete(request.id)
      if ((err as { code?: unknown }).code !== 'NO_RESTORE_POINT') throw err
      throw new ControlPlaneError(
        'NO_RESTORE_POINT',
        `fork tenant ${sourceId}: no replica state${request.at ? ` at ${request.at.toISOString()}` : ''}; list its restore points with \`litecell tenants show ${sourceId}\` (GET /v1/tenants/${sourceId})`,
        { cause: err },
      )
    }
    return { id: request.id, token, state: this.#registry.require(request.id).state }
  }

  /**
   * The time a fork "now" pins, such that the source's replica as of it holds every
   * transaction the source committed before the fork request. A source with a worker, or with
   * files a crash left (its worker is woken for this), makes its replica current and proves it
   * by a restore (the worker's verified sync point); otherwise its last hibernation was
   * verified, so the replica already holds everything and its newest upload is the time. A
   * worker that begins to hibernate or dies meanwhile is waited out and the question asked
   * again: its exit says where the state is now.
   */
  async #currentPoint(source: TenantRecord): Promise<string> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const synced =
          source.state === 'failed'
            ? undefined
            : await this.#fleet.withWorkerIfAwake(source.id, (worker) =>
                worker.client.syncPoint(source.id),
              )
        if (synced) return synced.at
        const { latestAt } = await this.#replicas.restorePoints(source.id, source.incarnation)
        if (latestAt === null) {
          throw new ControlPlaneError('NO_RESTORE_POINT', `tenant ${source.id} has no replica state`)
        }
        return latestAt
      } catch (err) {
        const code = (err as { code?: unknown }).code
        if (attempt >= 3 || (code !== 'WORKER_STOPPING' && code !== 'WORKER_UNAVAILABLE')) throw err
      }
    }
  }

  /**
   * Marks the tenant `deleting` (nothing reaches or wakes it from then on), stops its worker,
   * deletes its local files and every replica of its id, then forgets it (see
   * {@link TenantDeletion}); answers once the registry without it is in S3, so a control plane
   * restored from S3 never brings the tenant (and its token) back.
   */
  async delete(id: string): Promise<void> {
    await this.#deletion.delete(id)
    await this.#confirmed(`delete tenant ${id}`)
  }

  /** Finishes the deletes a crash interrupted (at start); resolves with their tenant ids. */
  resumeDeletes(): Promise<string[]> {
    return this.#deletion.resume()
  }

  /** The registry's changes so far are in S3, else `STORAGE_UNAVAILABLE` naming `doing`. */
  async #confirmed(doing: string): Promise<void> {
    try {
      await this.#confirmRegistry()
    } catch (err) {
      throw new ControlPlaneError(
        'STORAGE_UNAVAILABLE',
        `${doing}: the registry change is not confirmed in S3 (${(err as Error).message}); retry once storage is back`,
        { cause: err },
      )
    }
  }

  #view(tenant: TenantRecord): TenantView {
    const view: TenantView = {
      id: tenant.id,
      app: tenant.app,
      state: tenant.state,
      labels: { ...tenant.labels },
      durability: this.durabilityOf(tenant),
      createdAt: new Date(tenant.createdAt).toISOString(),
      lastActiveAt: iso(tenant.lastActiveAt),
      nextWakeAt: iso(tenant.nextWakeAt),
    }
    if (tenant.failureReason) view.failureReason = tenant.failureReason
    const worker = this.#fleet.workerView(tenant.id)
    if (worker && tenant.state !== 'hibernated') {
      view.worker = {
        pid: worker.pid ?? null,
        epoch: worker.epoch,
        startedAt: iso(worker.startedAtMs),
        rssBytes: worker.rssBytes,
      }
    }
    return view
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}
