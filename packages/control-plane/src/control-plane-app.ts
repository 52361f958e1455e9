import type { DashboardAssets } from '@litecell/dashboard'
import {
  DEFAULT_STOP_TIMEOUT_MS,
  DEFAULT_SYNC_TIMEOUT_MS,
  type Durability,
} from '@litecell/protocol'
import type { StorageConfig } from '@litecell/replica'
import type { Hono } from 'hono'
import type { Logger } from 'pino'
import { createApi } from './api.js'
import { AppCatalog } from './app-catalog.js'
import { Auth } from './auth.js'
import { Fleet } from './fleet/fleet.js'
import { stopDeadlineMs } from './fleet/live-worker.js'
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
  /** Longest a wake waits for a worker slot before 429 (default 60 s). */
  readonly wakeWaitMs?: number | undefined
  /** Most workers starting at once (default two per core). */
  readonly maxStarting?: number | undefined
  readonly idleMs: number
  readonly leaseTtlMs: number
  readonly syncIntervalMs: number
  /** @default DEFAULT_STOP_TIMEOUT_MS of @litecell/protocol */
  readonly stopTimeoutMs?: number | undefined
  /** @default DEFAULT_SYNC_TIMEOUT_MS of @litecell/protocol */
  readonly syncTimeoutMs?: number | undefined
  readonly concurrency?: number | undefined
  readonly queryTimeoutMs?: number | undefined
  /** Longest a worker's replicated acknowledgement waits for S3 (LITECELL_REPLICATION_ACK_TIMEOUT_MS). */
  readonly replicationAckTimeoutMs?: number | undefined
  /**
   * Durability of tenants created without one (LITECELL_DURABILITY). @default `replicated`
   * with a launcher of remote workers (pods), else `local`
   */
  readonly defaultDurability?: Durability | undefined
  /**
   * Resolves once the registry's changes so far are in S3 (its replicator's confirmations):
   * tenant create, fork, change and delete, and the lease epochs of remote workers, answer
   * only then. Absent: at once (no replicated registry, e.g. in-process tests).
   */
  readonly confirmRegistry?: () => Promise<void>
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
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS
  const syncTimeoutMs = options.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS
  let fleet!: Fleet
  const metrics = new FleetMetrics({ registry, activeWorkers: () => fleet.size })
  const defaultDurability =
    options.defaultDurability ?? (options.launcher.remoteWorkers ? 'replicated' : 'local')
  fleet = new Fleet({
    metrics,
    registry,
    launcher: options.launcher,
    log,
    dataDir: options.dataDir,
    maxWorkers: options.maxWorkers,
    wakeWaitMs: options.wakeWaitMs,
    maxStarting: options.maxStarting,
    leaseTtlMs: options.leaseTtlMs,
    stopDeadlineMs: stopDeadlineMs(stopTimeoutMs, syncTimeoutMs),
    ...(options.workerFetch ? { workerFetch: options.workerFetch } : {}),
    ...(options.confirmRegistry ? { confirmRegistry: options.confirmRegistry } : {}),
    workerSettings: (tenantId, app) => ({
      tenantId,
      controlUrl: options.controlUrl(),
      appPath: apps.pathOf(app),
      storage,
      idleMs: options.idleMs,
      leaseTtlMs: options.leaseTtlMs,
      syncIntervalMs: options.syncIntervalMs,
      stopTimeoutMs,
      syncTimeoutMs,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.queryTimeoutMs !== undefined ? { queryTimeoutMs: options.queryTimeoutMs } : {}),
      ...(options.replicationAckTimeoutMs !== undefined
        ? { replicationAckTimeoutMs: options.replicationAckTimeoutMs }
        : {}),
    }),
  })
  const tenants = new TenantService({
    registry,
    fleet,
    apps,
    replicas: options.replicas ?? storedReplicas(storage),
    defaultDurability,
    ...(options.confirmRegistry ? { confirmRegistry: options.confirmRegistry } : {}),
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
