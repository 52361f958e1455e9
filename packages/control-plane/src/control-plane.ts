import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { serve, type ServerType } from '@hono/node-server'
import {
  CommitConfirmations,
  controlPlaneReplica,
  ensureBucket,
  replicate,
  type EmbeddedS3,
  type Replicator,
  type StorageConfig,
} from '@litecell/replica'
import { DashboardAssets } from '@litecell/dashboard'
import {
  DEFAULT_REPLICATION_ACK_TIMEOUT_MS,
  hashSecret,
  newSecret,
} from '@litecell/protocol'
import pino, { type Logger } from 'pino'
import { ControlPlaneError } from './control-plane-error.js'
import { AppCatalog } from './app-catalog.js'
import {
  DEFAULT_REGISTRY_SYNC_INTERVAL_MS,
  type ControlPlaneConfig,
} from './control-plane-config.js'
import { createControlPlaneApp } from './control-plane-app.js'
import type { Fleet } from './fleet/fleet.js'
import type { Launcher } from './launcher.js'
import { LocalLauncher } from './local-launcher.js'
import { startLocalS3 } from './local-s3.js'
import type { Registry } from './registry.js'
import { openRegistry } from './registry-restore.js'
import { WakeScheduler } from './wake-scheduler.js'

/** The registry's file name in the data directory. */
export const REGISTRY_FILE = 'registry.db'
/** Where a generated admin token is kept for local tools (mode 0600). */
export const ADMIN_TOKEN_FILE = 'admin-token'
const ADMIN_HASH_SETTING = 'admin_token_hash'

/**
 * The control plane: registry (restored from S3 if the local file is gone, and replicated
 * back), the embedded S3 server when no storage is configured, the fleet of workers, the wake
 * scheduler and the HTTP API.
 */
export class ControlPlane {
  /** The API's base URL, e.g. `http://127.0.0.1:8787`. */
  readonly url: string
  /** The admin token, when this start generated it (print it once). */
  readonly generatedAdminToken: string | undefined
  readonly storage: StorageConfig
  readonly fleet: Fleet
  readonly registry: Registry
  readonly #server: ServerType
  readonly #scheduler: WakeScheduler
  readonly #registryReplicator: Replicator
  readonly #embeddedS3: EmbeddedS3 | undefined
  readonly #log: Logger

  private constructor(parts: {
    url: string
    generatedAdminToken: string | undefined
    storage: StorageConfig
    fleet: Fleet
    registry: Registry
    server: ServerType
    scheduler: WakeScheduler
    registryReplicator: Replicator
    embeddedS3: EmbeddedS3 | undefined
    log: Logger
  }) {
    this.url = parts.url
    this.generatedAdminToken = parts.generatedAdminToken
    this.storage = parts.storage
    this.fleet = parts.fleet
    this.registry = parts.registry
    this.#server = parts.server
    this.#scheduler = parts.scheduler
    this.#registryReplicator = parts.registryReplicator
    this.#embeddedS3 = parts.embeddedS3
    this.#log = parts.log
  }

  /** Starts everything and listens; resolves once the API answers. */
  static async start(
    config: ControlPlaneConfig,
    options: {
      log?: Logger
      /** Launches the workers; absent: pods (`config.kubernetes`) or local processes. */
      launcher?: Launcher
      /** How to run a local worker (`WORKER_NODE_ARGS` of @litecell/worker). */
      workerNodeArgs?: readonly string[]
      /** Start with an empty registry even if storage holds one (see `openRegistry`). */
      newRegistry?: boolean
    } = {},
  ): Promise<ControlPlane> {
    const log = options.log ?? pino({ base: { component: 'control-plane' } })
    // Names every app module up front: an app without an absolute path fails the start.
    new AppCatalog({ ...config.apps })
    // Pods: fail before anything starts if the API, the namespace or RBAC is not right.
    let launcher = options.launcher
    if (!launcher && config.kubernetes) {
      // Loaded only for pods: the Kubernetes client is the largest part of the control plane's
      // code (≈ 27 MB of RSS at rest in a process that runs local workers).
      const { KubernetesLauncher } = await import('./kubernetes/kubernetes-launcher.js')
      const kubernetes = new KubernetesLauncher(config.kubernetes)
      await kubernetes.preflight()
      log.info({ namespace: kubernetes.namespace }, 'workers run as Kubernetes pods')
      launcher = kubernetes
    }
    if (!launcher && !options.workerNodeArgs) {
      throw new TypeError('Expected `workerNodeArgs` (how to run a local worker) or a `launcher`')
    }
    await mkdir(join(config.dataDir, 'logs'), { recursive: true })

    let embeddedS3: EmbeddedS3 | undefined
    let storage = config.storage
    if (storage === null) {
      embeddedS3 = await startLocalS3(config.dataDir, config.embeddedS3Port, log)
      storage = embeddedS3.storage()
      log.info({ endpoint: embeddedS3.endpoint }, 'embedded S3 started')
    }
    await ensureBucket(storage)

    const registryPath = join(config.dataDir, REGISTRY_FILE)
    const registry = await openRegistry({
      storage,
      path: registryPath,
      newRegistry: options.newRegistry === true,
      log,
    })
    const recovered = registry.recoverAfterRestart(Date.now())
    if (recovered > 0) log.warn({ tenants: recovered }, 'tenants left active by a previous run will be recovered')
    const registrySyncIntervalMs = config.registrySyncIntervalMs ?? DEFAULT_REGISTRY_SYNC_INTERVAL_MS
    const registryReplicator = await replicate(registryPath, controlPlaneReplica(storage), {
      syncIntervalMs: registrySyncIntervalMs,
      monitorIntervalMs: Math.max(10, Math.floor(registrySyncIntervalMs / 2)),
    })
    // Registry changes that answer only once in S3 (issue 11) share one confirmation per turn.
    const registryConfirmations = new CommitConfirmations(registryReplicator)
    const ackTimeoutMs = config.replicationAckTimeoutMs ?? DEFAULT_REPLICATION_ACK_TIMEOUT_MS

    const generatedAdminToken = await adminToken(config, registry)
    const adminTokenHash = config.adminToken ? hashSecret(config.adminToken) : registry.getSetting(ADMIN_HASH_SETTING)
    if (!adminTokenHash) throw new Error('no admin token hash')

    let url = ''
    const { api, fleet, tenants } = createControlPlaneApp({
      registry,
      launcher:
        launcher ??
        new LocalLauncher({
          workerNodeArgs: options.workerNodeArgs!,
          tenantsDir: join(config.dataDir, 'tenants'),
          logsDir: join(config.dataDir, 'logs'),
          maxOldSpaceMb: config.workerMaxOldSpaceMb,
          standbyWorkers: config.standbyWorkers,
          preloadApps: Object.values(config.apps),
        }),
      storage,
      apps: config.apps,
      adminTokenHash,
      log,
      dataDir: config.dataDir,
      maxWorkers: config.maxWorkers,
      wakeWaitMs: config.wakeWaitMs,
      maxStarting: config.maxStarting,
      idleMs: config.idleMs,
      leaseTtlMs: config.leaseTtlMs,
      syncIntervalMs: config.syncIntervalMs,
      stopTimeoutMs: config.stopTimeoutMs,
      syncTimeoutMs: config.syncTimeoutMs,
      concurrency: config.concurrency,
      queryTimeoutMs: config.queryTimeoutMs,
      replicationAckTimeoutMs: config.replicationAckTimeoutMs,
      defaultDurability: config.durability,
      confirmRegistry: async () => {
        await registryConfirmations.confirmCommitted({ timeoutMs: ackTimeoutMs })
      },
      controlUrl: () => config.advertiseUrl ?? url,
      dashboard: DashboardAssets.load(),
    })
    let server!: ServerType
    const address = await new Promise<AddressInfo>((resolve) => {
      server = serve({ fetch: api.fetch, hostname: config.host, port: config.port }, resolve)
    })
    url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${address.port}`
    const scheduler = new WakeScheduler({ registry, fleet, log, maxWakes: config.maxWorkers })
    scheduler.start()
    // A delete a crash interrupted goes on from where it was (the tenant stays unreachable).
    void tenants.resumeDeletes().then(
      (ids) => ids.length > 0 && log.warn({ tenants: ids }, 'finished deletes a previous run left unfinished'),
      (err: unknown) => log.error({ err }, 'could not finish an interrupted delete; retried at the next start'),
    )
    return new ControlPlane({
      url,
      generatedAdminToken,
      storage,
      fleet,
      registry,
      server,
      scheduler,
      registryReplicator,
      embeddedS3,
      log,
    })
  }

  /**
   * Stops cleanly: hibernates every tenant (verified), stops serving, then stops the
   * registry's replication with a verified final sync, and the embedded S3 server last.
   */
  async stop(): Promise<void> {
    this.#scheduler.stop()
    // Workers still call back (heartbeats, "hibernated") while they stop: serve until then.
    const failed = await this.fleet.close()
    const server = this.#server as import('node:http').Server
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    // Clients on keep-alive connections would otherwise hold the server open indefinitely.
    server.closeAllConnections()
    await closed
    this.registry.close()
    await this.#registryReplicator.stopVerified()
    await this.#embeddedS3?.stop()
    if (failed.length > 0) {
      this.#log.error({ tenants: failed }, 'control plane stopped; some tenants kept local files')
      throw new ControlPlaneError(
        'WORKER_UNAVAILABLE',
        `stop: tenants ${failed.join(', ')} could not verify their replica; their local files are kept and recover on the next start`,
      )
    }
    this.#log.info('control plane stopped')
  }
}

/** Reuses or generates the admin token; returns it only when generated now. */
async function adminToken(config: ControlPlaneConfig, registry: Registry): Promise<string | undefined> {
  if (config.adminToken) return undefined
  const file = join(config.dataDir, ADMIN_TOKEN_FILE)
  if (registry.getSetting(ADMIN_HASH_SETTING)) {
    return undefined
  }
  const token = existsSync(file) ? (await readFile(file, 'utf8')).trim() : newSecret('lca_')
  registry.setSetting(ADMIN_HASH_SETTING, hashSecret(token))
  await writeFile(file, `${token}\n`, { mode: 0o600 })
  await chmod(file, 0o600)
  return token
}
