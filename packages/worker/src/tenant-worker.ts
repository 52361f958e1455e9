import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { serve, type ServerType } from '@hono/node-server'
import { Engine, type AppDefinition, type EngineOptions } from '@litecell/engine'
import {
  APP_REFUSAL_CODES,
  TENANT_DB_FILE,
  TENANT_ID_ATTRIBUTE,
  type AppRefusalCode,
  type SyncPoint,
  type WorkerEnvironment,
} from '@litecell/protocol'
import {
  keepHibernatedCopy,
  replicate,
  restore,
  restorePoints,
  takeHibernatedCopy,
  tenantReplica,
  type Replicator,
} from '@litecell/replica'
import type { Logger } from 'pino'
import { loadApp } from './app-loader.js'
import { appVersionOf } from './app-version.js'
import { ControlClient, type WorkerStatus } from './control-client.js'
import { HAND_OVER_QUIET_MS, IdleMonitor, isEngineIdle } from './idle-monitor.js'
import { Lease, transactionBudgetMs } from './lease.js'
import { RunStatusStream } from './run-stream.js'
import { Shutdown, type StopReason } from './shutdown.js'
import { createTenantApi } from './tenant-api.js'
import { TenantReplication } from './tenant-replication.js'
import { claimTenantDir, sweepTombstones } from './tenant-dir.js'
import { WorkerError } from './worker-error.js'
import { WorkerMetrics } from './worker-metrics.js'

export type { StopReason } from './shutdown.js'

/**
 * Folder (inside the tenant's folder, beside its incarnation mark) of the file this machine
 * hibernated last: the next wake here uses it instead of a download once the replica is shown
 * unchanged since (issue 12).
 */
export const HIBERNATED_COPY_DIR = 'hibernated'

/**
 * One tenant brought to life: its file restored (or kept from a crash on this machine),
 * replicated by a supervised Litestream, its workflows run by an engine, its API served on
 * loopback, its lease renewed. It ends by hibernating (verified final sync, local files
 * removed, exit 0) or by fencing itself (lease lost: stop writing, best-effort sync, exit 75).
 */
export class TenantWorker {
  readonly #config: WorkerEnvironment
  readonly #log: Logger
  readonly #client: ControlClient
  #engine!: Engine
  /**
   * Litestream's start, which the first request does not wait for (issue 12): every commit
   * stays in the WAL (nothing checkpoints but Litestream), which Litestream uploads from its
   * start. Whatever needs the replica (hibernate, a sync point, fencing, acknowledgements)
   * awaits it.
   */
  #replicator!: Promise<Replicator>
  #server!: ServerType
  #lease: Lease | undefined
  #idle: IdleMonitor | undefined
  #shutdown!: Shutdown
  readonly #metrics = new WorkerMetrics()
  readonly #runStream: RunStatusStream
  #replication!: TenantReplication
  #inflightRequests = 0
  #lastActivityMs = Date.now()
  #lastStatus: WorkerStatus = { activeRuns: 0, nextWakeAt: null }
  /** Where it serves, once listening (heartbeats carry it, for a restarted control plane). */
  #url: string | undefined

  private constructor(config: WorkerEnvironment, log: Logger) {
    this.#config = config
    this.#log = log
    this.#client = new ControlClient({
      baseUrl: config.controlUrl,
      tenantId: config.tenantId,
      epoch: config.epoch,
      secret: config.workerSecret,
    })
    this.#runStream = new RunStatusStream(config.tenantId)
  }

  /** Resolves with the process exit code once the worker has stopped. */
  get exited(): Promise<number> {
    return this.#shutdown.exited
  }

  /** Restores, replicates, opens the engine, serves, and announces itself ready. */
  static async start(config: WorkerEnvironment, log: Logger): Promise<TenantWorker> {
    const worker = new TenantWorker(config, log)
    await worker.#start()
    return worker
  }

  async #start(): Promise<void> {
    const { tenantId, tenantDir } = this.#config
    const startedAtMs = Date.now()
    const dbPath = join(tenantDir, TENANT_DB_FILE)
    const replica = tenantReplica(this.#config.storage, tenantId, this.#config.incarnation)
    // A teardown a crash interrupted left a tombstone: never state, only to be swept.
    const swept = await sweepTombstones(tenantDir)
    if (swept > 0) this.#log.warn({ tombstones: swept }, 'removed what an interrupted teardown left')
    if (await claimTenantDir(tenantDir, this.#config.incarnation)) {
      this.#log.warn({ incarnation: this.#config.incarnation }, "refused (removed) a local folder of an older incarnation of this tenant id")
    }
    const timings: Record<string, number> = {}
    const lap = (name: string, sinceMs: number) => (timings[name] = Date.now() - sinceMs)
    // The app first: a module that does not load fails the wake before any restore, and is
    // reported as the app's error (APP_LOAD_FAILED), not as a crash of the tenant.
    let phaseMs = Date.now()
    const app = await this.#loadApp()
    lap('appMs', phaseMs)
    phaseMs = Date.now()
    const source = existsSync(dbPath) ? 'local file' : await this.#restore(dbPath)
    lap('restoreMs', phaseMs)
    phaseMs = Date.now()
    // Replicated acknowledgements and the output gate (issue 11). A file a crash left here
    // may hold commits S3 lacks: no final status shows as replicated before it is confirmed.
    this.#replication = new TenantReplication({
      runStream: this.#runStream,
      startedFromLocalFile: source === 'local file',
      ...(this.#config.replicationAckTimeoutMs !== undefined
        ? { ackTimeoutMs: this.#config.replicationAckTimeoutMs }
        : {}),
    })
    this.#engine = await this.#openEngine({
      path: dbPath,
      app,
      ...(this.#config.appName === undefined ? {} : { appName: this.#config.appName }),
      appVersion: await appVersionOf(app, this.#config.appPath),
      ...(this.#config.appUpgradeFrom === undefined ? {} : { upgradeFrom: this.#config.appUpgradeFrom }),
      concurrency: this.#config.concurrency,
      queryTimeoutMs: this.#config.queryTimeoutMs,
      transactionTimeoutMs: transactionBudgetMs(this.#config.leaseTtlMs, this.#config.fenceMarginMs),
      confirmDurable: this.#replication.confirmDurable,
      traceAttributes: { [TENANT_ID_ATTRIBUTE]: this.#config.tenantId },
      observer: {
        ...this.#metrics.observer,
        onRunStatus: (runId, workflow, status) => {
          this.#lastActivityMs = Date.now()
          this.#metrics.observer.onRunStatus?.(runId, workflow, status)
          this.#runStream.publish(runId, workflow, status)
          this.#replication.observe(runId, workflow, status)
        },
      },
    })
    lap('openMs', phaseMs)
    for (const run of this.#engine.recovery.quarantined) {
      this.#log.warn({ runId: run.runId, workflow: run.workflow }, 'run quarantined: it was executing during 3 worker deaths in a row')
    }
    phaseMs = Date.now()
    // Started now (its locks are taken at once: a second replicator is refused here), awaited
    // by what needs it, not by the first request.
    this.#replicator = replicate(dbPath, replica, {
      // The restore above already checked the storage, or there is a local file to serve
      // from while the storage is down: Litestream catches up when it is back.
      checkStorage: false,
      syncIntervalMs: this.#config.syncIntervalMs,
      onLog: (line) => this.#log.debug({ litestream: line }, 'litestream'),
      onRestart: (err) => {
        this.#metrics.replicationRestarted()
        this.#log.warn({ err }, 'litestream restarted')
      },
    })
    void this.#replicator.then((replicator) => this.#replication.attach(replicator), () => undefined)
    this.#shutdown = new Shutdown({
      tenantId,
      tenantDir,
      incarnation: this.#config.incarnation,
      keepCopy: (retiredDir) => this.#keepCopy(retiredDir),
      stopTimeoutMs: this.#config.stopTimeoutMs,
      syncTimeoutMs: this.#config.syncTimeoutMs,
      engine: this.#engine,
      replicator: this.#replicator,
      client: this.#client,
      metrics: this.#metrics,
      log: this.#log,
      quiesce: () => {
        this.#idle?.stop()
        this.#runStream.close()
        this.#replication.close()
      },
      releaseLease: () => this.#lease?.stop(),
    })
    void this.#replicator.then(
      () => lap('replicateMs', phaseMs),
      (err: unknown) => void this.#shutdown.replicationFailed(err),
    )
    const serveFromMs = Date.now()
    const api = createTenantApi({
      tenantId,
      engine: this.#engine,
      workerSecret: this.#config.workerSecret,
      scratchDir: tenantDir,
      isStopping: () => this.#shutdown.isStopping,
      onRequest: (delta) => {
        this.#inflightRequests += delta
        this.#lastActivityMs = Date.now()
      },
      hibernate: () => this.hibernate('requested'),
      // Quiet for a moment too: a client that just got its runs' results usually reads once
      // more, and handing over between the two would wake the tenant again at once.
      isIdle: async () =>
        this.#inflightRequests === 0 &&
        Date.now() - this.#lastActivityMs >= HAND_OVER_QUIET_MS &&
        (await isEngineIdle(this.#engine)),
      syncPoint: () => this.syncPoint(),
      runStream: this.#runStream,
      replication: this.#replication.replication,
    })
    const address = await new Promise<AddressInfo>((resolve) => {
      this.#server = serve({ fetch: api.fetch, hostname: this.#config.host, port: this.#config.port }, resolve)
    })
    const url = `http://${this.#config.advertiseHost}:${address.port}`
    this.#url = url
    const grantedAtMs = Date.now()
    lap('serveMs', serveFromMs)
    await this.#client.ready(url, process.pid, this.#engine.recovery.quarantined.length)
    lap('readyCallMs', grantedAtMs)
    // The request that woke the tenant comes next: a start that took long is no quiet time.
    this.#lastActivityMs = Date.now()
    this.#lease = new Lease(
      {
        client: this.#client,
        ttlMs: this.#config.leaseTtlMs,
        fenceMarginMs: this.#config.fenceMarginMs,
        status: () => this.#statusNow(),
        onRenewFailed: (status) => status.metrics && this.#metrics.restore(status.metrics),
        onLost: (reason, validUntilMs) => this.#shutdown.fence(reason, validUntilMs),
      },
      grantedAtMs,
    )
    this.#lease.start()
    this.#idle = new IdleMonitor({
      idleMs: this.#config.idleMs,
      probe: {
        busyCount: () => this.#engine.activeRuns() + this.#inflightRequests,
        lastActivityMs: () => this.#lastActivityMs,
        nextWakeAt: () => this.#engine.nextWakeAt(),
      },
      onIdle: async () => {
        if (!(await this.#client.requestIdleStop().catch(() => false))) return false
        await this.hibernate('idle')
        return true
      },
    })
    this.#idle.start()
    this.#log.info({ tenantId, source, url, ...timings, ms: Date.now() - startedAtMs }, 'worker ready')
    // The replication's start time, for the wake's profile (it ends before or after ready).
    void this.#replicator.then(() => this.#log.info({ ...timings }, 'replicating'), () => undefined)
  }

  /** Loads the app module; if it does not load, tells the control plane why, then throws. */
  async #loadApp(): Promise<AppDefinition> {
    try {
      return await loadApp(this.#config.appPath)
    } catch (err) {
      const { code, message } = err as { code?: unknown; message?: unknown }
      if (code === 'APP_LOAD_FAILED') {
        await this.#client.refused(code, String(message)).catch((reportErr: unknown) => {
          this.#log.warn({ err: reportErr }, 'could not report the app load failure')
        })
      }
      throw err
    }
  }

  /**
   * Opens the engine; a refusal of the file is reported to the control plane (with its
   * message, which names the app or migration and what to do) before it is rethrown.
   */
  async #openEngine(options: EngineOptions): Promise<Engine> {
    try {
      return await Engine.open(options)
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (typeof code === 'string' && (APP_REFUSAL_CODES as readonly string[]).includes(code)) {
        const message = `wake tenant ${this.#config.tenantId}: ${(err as Error).message.replaceAll('<tenant>', this.#config.tenantId)}`
        await this.#client.refused(code as AppRefusalCode, message).catch((reportErr: unknown) => {
          this.#log.warn({ err: reportErr }, 'could not report the refusal')
        })
        throw Object.assign(new Error(message, { cause: err }), { code })
      }
      throw err
    }
  }

  /**
   * The tenant's own replica; if it holds nothing yet and the tenant is a fork, its source's
   * replica as of the pinned time (`NO_RESTORE_POINT` if that holds nothing either). Says
   * where the file came from.
   */
  async #restore(dbPath: string): Promise<string> {
    const { storage, tenantId, incarnation, restoreFrom, tenantDir } = this.#config
    const replica = tenantReplica(storage, tenantId, incarnation)
    // The copy is this incarnation's (the folder's mark was checked above) and is used only if
    // this incarnation's replica lists exactly what it did when the copy was kept.
    const copy = await takeHibernatedCopy(join(tenantDir, HIBERNATED_COPY_DIR), replica, dbPath)
    if (copy === 'taken') return 'hibernated copy'
    if ((await restore(replica, dbPath)).restored) return copy === 'stale' ? 'replica (local copy was stale)' : 'replica'
    if (!restoreFrom) return 'new tenant'
    const { tenantId: source, at } = restoreFrom
    const sourceReplica = tenantReplica(storage, source, restoreFrom.incarnation)
    if (!(await restore(sourceReplica, dbPath, { at })).restored) {
      throw new WorkerError('NO_RESTORE_POINT', `fork tenant ${source} as ${tenantId}: nothing to restore at ${at}`)
    }
    return `fork of ${source} at ${at}`
  }

  /**
   * At a hibernation, after the verified stop: keeps the file (moved out of the retired folder
   * `retiredDir`) for this machine's next wake of the tenant, in this incarnation's folder.
   * Keeping is an optimisation: if it fails nothing is kept, and the next wake downloads.
   */
  async #keepCopy(retiredDir: string): Promise<boolean> {
    const { tenantDir, storage, tenantId, incarnation } = this.#config
    return keepHibernatedCopy(
      join(retiredDir, TENANT_DB_FILE),
      join(tenantDir, HIBERNATED_COPY_DIR),
      tenantReplica(storage, tenantId, incarnation),
    ).catch((err: unknown) => {
      this.#log.warn({ err }, 'could not keep the hibernated file; the next wake downloads it')
      return false
    })
  }

  /**
   * Makes the replica current without stopping (a fork "now" of this tenant): proves by a
   * restore that it holds everything committed so far, and names the time to restore to.
   */
  async syncPoint(): Promise<SyncPoint> {
    const replica = tenantReplica(this.#config.storage, this.#config.tenantId, this.#config.incarnation)
    await (await this.#replicator).syncVerified({ timeoutMs: this.#config.syncTimeoutMs })
    const { latestAt } = await restorePoints(replica)
    if (latestAt === null) throw new WorkerError('NO_RESTORE_POINT', `sync tenant ${this.#config.tenantId}: the replica lists nothing`)
    return { at: latestAt }
  }

  async #statusNow(): Promise<WorkerStatus> {
    // While stopping, heartbeats go on (the lease must outlive the final sync) but the
    // engine may be closed already: report what it said last.
    if (!this.#shutdown.isStopping) {
      this.#lastStatus = { activeRuns: this.#engine.activeRuns(), nextWakeAt: await this.#engine.nextWakeAt() }
    }
    const { incarnation } = this.#config
    return {
      ...this.#lastStatus,
      metrics: this.#metrics.take(),
      rssBytes: process.memoryUsage.rss(),
      // A control plane restarted meanwhile adopts this worker from these (issue 9, item 10).
      ...(this.#url ? { url: this.#url } : {}),
      pid: process.pid,
      ...(incarnation === undefined ? {} : { incarnation }),
      ...(this.#shutdown.isStopping ? { stopping: true } : {}),
    }
  }

  /**
   * Hibernates: refuse new requests, let runs in flight stop at their next durable point (for
   * at most the stop timeout), stop Litestream with a *verified* final sync, and only then
   * remove the local files (see {@link Shutdown}). If the replica cannot be verified the files
   * stay and the worker exits non-zero, so the control plane restarts it from them: nothing
   * unreplicated is ever deleted.
   */
  hibernate(reason: StopReason): Promise<number> {
    return this.#shutdown.hibernate(reason)
  }

  /** Stops serving; waits at most `timeoutMs` for responses in flight (e.g. the hibernate call). */
  async closeServer(timeoutMs: number): Promise<void> {
    const server = this.#server as import('node:http').Server
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    // Keep-alive connections from the control plane would hold close() open: drop each one
    // as soon as it is idle (after its response went out).
    const dropIdle = setInterval(() => server.closeIdleConnections(), 10)
    server.closeIdleConnections()
    await Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())])
    clearInterval(dropIdle)
  }
}
