import type { DashboardAssets } from '@litecell/dashboard'
import type { StorageConfig } from '@litecell/replica'
import type { Hono } from 'hono'
import type { Logger } from 'pino'
import { createApi } from './api.js'
import { AppCatalog } from './app-catalog.js'
import { Auth } from './auth.js'
import { Fleet } from './fleet/fleet.js'
import type { WorkerFetch } from './fleet/worker-client.js'
import { FleetMetrics } from './fleet-metrics.js'
import { fleetSummary } from './fleet-summary.js'
import type { Launcher } from './launcher.js'
import type { Registry } from './registry.js'
import { storedReplicas, type TenantReplicas } from './tenant-replicas.js'
import { TenantService } from './tenant-service.js'

/** What the control plane's API is made of, apart from how it is served. */
export interface ControlPlaneAppOptions {
  readonly registry: Registry
  readonly launcher: Launcher
  readonly storage: StorageConfig
  /** Apps by name (`default` required): absolute module paths. */
  readonly apps: Readonly<Record<string, string>>
  /** SHA-256 of the admin token. */
  readonly adminTokenHash: string
  readonly log: Logger
  /** Folder holding `logs/`. */
  readonly dataDir: string
  readonly maxWorkers: number
  readonly idleMs: number
  readonly leaseTtlMs: number
  readonly syncIntervalMs: number
  readonly concurrency?: number | undefined
  readonly queryTimeoutMs?: number | undefined
  /** Where workers call back (the API's URL as they reach it), asked at each launch. */
  readonly controlUrl: () => string
  /** How requests reach workers; default: HTTP (in-process tests route them to worker apps). */
  readonly workerFetch?: WorkerFetch
  /** The tenants' replicas; default: in `storage` (in-process tests keep stand-ins). */
  readonly replicas?: TenantReplicas
  /** The web dashboard's assets, served at `/`. */
  readonly dashboard?: Promise<DashboardAssets>
}

/** The control plane's parts: its HTTP API (a Hono app), the fleet and the tenant operations. */
export interface ControlPlaneApp {
  readonly api: Hono
  readonly fleet: Fleet
  readonly tenants: TenantService
}

/**
 * Builds the control plane from a registry and a launcher: the fleet, the tenant operations,
 * auth, metrics and the API. `ControlPlane.start` serves it over HTTP with the embedded S3,
 * the registry's replication and the wake scheduler around it; in-process tests call
 * `api.request()` directly (STYLE.md rule 18).
 */
export function createControlPlaneApp(options: ControlPlaneAppOptions): ControlPlaneApp {
  const { registry, storage, log } = options
  const apps = new AppCatalog({ ...options.apps })
  let fleet!: Fleet
  const metrics = new FleetMetrics({ registry, activeWorkers: () => fleet.size })
  fleet = new Fleet({
    metrics,
    registry,
    launcher: options.launcher,
    log,
    dataDir: options.dataDir,
    maxWorkers: options.maxWorkers,
    leaseTtlMs: options.leaseTtlMs,
    ...(options.workerFetch ? { workerFetch: options.workerFetch } : {}),
    workerSettings: (tenantId, app) => ({
      tenantId,
      controlUrl: options.controlUrl(),
      appPath: apps.pathOf(app),
      storage,
      idleMs: options.idleMs,
      leaseTtlMs: options.leaseTtlMs,
      syncIntervalMs: options.syncIntervalMs,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.queryTimeoutMs !== undefined ? { queryTimeoutMs: options.queryTimeoutMs } : {}),
    }),
  })
  const tenants = new TenantService({
    registry,
    fleet,
    apps,
    replicas: options.replicas ?? storedReplicas(storage),
  })
  const api = createApi({
    auth: new Auth({ adminTokenHash: options.adminTokenHash, registry }),
    fleet,
    tenants,
    log,
    launcher: options.launcher,
    metrics: () => metrics.text(),
    ...(options.dashboard ? { dashboard: options.dashboard } : {}),
    fleetSummary: () =>
      fleetSummary({
        registry,
        metrics,
        activeWorkers: fleet.size,
        maxWorkers: options.maxWorkers,
      }),
  })
  return { api, fleet, tenants }
}
