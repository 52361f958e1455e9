import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { join } from 'node:path'
import {
  deleteReplica,
  restore,
  restorePoints,
  tenantReplica,
  type StorageConfig,
} from '@litecell/replica'
import { TENANT_DB_FILE, WORKER_SECRET_HEADER, hashSecret, newSecret } from '@litecell/worker'
import type { AppCatalog } from './app-catalog.js'
import { ControlPlaneError } from './control-plane-error.js'
import type { Fleet } from './fleet.js'
import type { Registry, TenantRecord } from './registry.js'
import { newTenantId } from './tenant-id.js'
import { encodeTenantCursor, type TenantListQuery } from './tenant-list-query.js'

/** A tenant as the API shows it. */
export interface TenantView {
  id: string
  app: string
  state: TenantRecord['state']
  labels: Record<string, string>
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
 * the registry, the fleet and the replica store. The control plane never opens a tenant
 * database itself: files move only through restore, the worker, and Litestream.
 */
export class TenantService {
  readonly #registry: Registry
  readonly #fleet: Fleet
  readonly #apps: AppCatalog
  readonly #storage: StorageConfig
  readonly #tenantsDir: string

  constructor(options: {
    registry: Registry
    fleet: Fleet
    apps: AppCatalog
    storage: StorageConfig
    dataDir: string
  }) {
    this.#registry = options.registry
    this.#fleet = options.fleet
    this.#apps = options.apps
    this.#storage = options.storage
    this.#tenantsDir = join(options.dataDir, 'tenants')
  }

  /** Creates a hibernated tenant (a new tenant starts empty on its first wake). */
  create(request: { id?: string; app?: string; labels?: Record<string, string> }): CreatedTenant {
    const app = request.app ?? 'default'
    this.#apps.pathOf(app)
    const token = newSecret('lct_')
    const tenant = this.#registry.createTenant({
      id: request.id ?? newTenantId(),
      app,
      labels: request.labels ?? {},
      tokenHash: hashSecret(token),
      state: 'hibernated',
      nowMs: Date.now(),
    })
    return { id: tenant.id, token, state: tenant.state }
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
    const view = this.#view(this.#registry.require(id))
    const replica = await restorePoints(tenantReplica(this.#storage, id)).catch((err: unknown) => ({
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
   */
  async upgrade(id: string, request: { app?: string }): Promise<TenantView> {
    const tenant = this.#registry.require(id)
    const app = request.app ?? tenant.app
    this.#apps.pathOf(app)
    if (tenant.state !== 'failed') await this.#fleet.hibernate(id)
    const current = this.#registry.require(id)
    // After an unfinished switch (its wake failed), the file still records the app before it.
    this.#registry.setApp(id, app, current.appUpgradeFrom ?? current.app)
    // A wake that slipped in before the switch launched the previous app: stop it too.
    while (this.#fleet.live(id)) await this.#fleet.hibernate(id)
    this.#fleet.refreshLauncher()
    await this.#fleet.ensureActive(id, { force: true })
    return this.#view(this.#registry.require(id))
  }

  /**
   * A new tenant from this tenant's state: now (a consistent snapshot from its worker if it
   * is active, else its replica), or as of ISO time `at` (point-in-time restore). The new
   * tenant then replicates to its own path.
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
    })
    const dir = join(this.#tenantsDir, request.id)
    try {
      await mkdir(dir, { recursive: true })
      const target = join(dir, TENANT_DB_FILE)
      let live = this.#fleet.live(sourceId)
      if (live?.stopping) {
        // Let a hibernation in progress finish: then the replica holds everything.
        await live.stopping.catch(() => undefined)
        live = undefined
      }
      if (request.at === undefined && live?.url && !live.stopping) {
        await this.#snapshotFromWorker(live.url, live.secret, sourceId, target)
      } else {
        const { restored } = await restore(tenantReplica(this.#storage, sourceId), target, { at: request.at })
        if (!restored) {
          throw new ControlPlaneError(
            'NO_RESTORE_POINT',
            `fork tenant ${sourceId}: no replica state${request.at ? ` at ${request.at.toISOString()}` : ''}; see GET /v1/tenants/${sourceId} for restore points`,
          )
        }
      }
      this.#registry.setState(request.id, 'hibernated', { nextWakeAt: null })
      await this.#fleet.ensureActive(request.id)
    } catch (err) {
      await this.#fleet.kill(request.id)
      await rm(dir, { recursive: true, force: true })
      this.#registry.delete(request.id)
      throw err
    }
    return { id: request.id, token, state: this.#registry.require(request.id).state }
  }

  async #snapshotFromWorker(url: string, secret: string, tenantId: string, target: string): Promise<void> {
    const response = await fetch(`${url}/v1/tenants/${tenantId}/snapshot`, {
      headers: { [WORKER_SECRET_HEADER]: secret },
    })
    if (!response.ok) {
      throw new ControlPlaneError('WORKER_UNAVAILABLE', `fork tenant ${tenantId}: snapshot failed with ${response.status}`)
    }
    const temporary = `${target}.partial`
    await pipeline(Readable.fromWeb(response.body as WebReadableStream), createWriteStream(temporary))
    await rename(temporary, target)
  }

  /** Stops the tenant's worker, deletes its local files and its replica, then forgets it. */
  async delete(id: string): Promise<void> {
    this.#registry.require(id)
    await this.#fleet.kill(id)
    await rm(join(this.#tenantsDir, id), { recursive: true, force: true })
    await deleteReplica(tenantReplica(this.#storage, id))
    this.#registry.delete(id)
  }

  #view(tenant: TenantRecord): TenantView {
    const view: TenantView = {
      id: tenant.id,
      app: tenant.app,
      state: tenant.state,
      labels: { ...tenant.labels },
      createdAt: new Date(tenant.createdAt).toISOString(),
      lastActiveAt: iso(tenant.lastActiveAt),
      nextWakeAt: iso(tenant.nextWakeAt),
    }
    if (tenant.failureReason) view.failureReason = tenant.failureReason
    const live = this.#fleet.live(tenant.id)
    if (live && tenant.state !== 'hibernated') {
      view.worker = {
        pid: live.process.pid ?? null,
        epoch: live.epoch,
        startedAt: iso(live.startedAtMs),
        rssBytes: live.rssBytes ?? null,
      }
    }
    return view
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}
