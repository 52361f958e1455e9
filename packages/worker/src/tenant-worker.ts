import { existsSync } from 'node:fs'
import { mkdir, readdir, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { serve, type ServerType } from '@hono/node-server'
import { Engine, type AppDefinition, type EngineOptions } from '@litecell/engine'
import {
  APP_REFUSAL_CODES,
  EXIT_FAILED,
  EXIT_HIBERNATED,
  EXIT_LEASE_LOST,
  EXIT_STORAGE_UNAVAILABLE,
  TENANT_DB_FILE,
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
import { IdleMonitor } from './idle-monitor.js'
import { Lease, transactionBudgetMs, type LeaseLossReason } from './lease.js'
import { RunStatusStream } from './run-stream.js'
import { createTenantApi } from './tenant-api.js'
import { WorkerError } from './worker-error.js'
import { WorkerMetrics } from './worker-metrics.js'

/** Budget of the verified final sync at hibernation (the lease is renewed meanwhile). */
export const STOP_VERIFIED_TIMEOUT_MS = 100_000

/**
 * Folder (inside the tenant's folder) of the file this machine hibernated last: the next wake
 * here uses it instead of a download once the replica is shown unchanged since (issue 12).
 */
export const HIBERNATED_COPY_DIR = 'hibernated'

/** When fencing, the engine must be closed this long before the lease ends (for the sync). */
const FENCE_SYNC_RESERVE_MS = 1_500
/** When fencing, Litestream must be gone this long before the lease ends. */
const FENCE_EXIT_RESERVE_MS = 250

/** Why a worker stopped. */
export type StopReason = 'idle' | 'requested' | 'signal' | LeaseLossReason

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
   * start. Whatever needs the replica (hibernate, a sync point, fencing) awaits it.
   */
  #replication!: Promise<Replicator>
  #server!: ServerType
  #lease!: Lease
  #idle!: IdleMonitor
  readonly #metrics = new WorkerMetrics()
  readonly #runStream: RunStatusStream
  #inflightRequests = 0
  #lastActivityMs = Date.now()
  #lastStatus: WorkerStatus = { activeRuns: 0, nextWakeAt: null }
  #stopping: Promise<number> | null = null
  #exitCode!: (code: number) => void
  /** Resolves with the process exit code once the worker has stopped. */
  readonly exited: Promise<number>

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
    this.exited = new Promise((resolve) => (this.#exitCode = resolve))
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
    const replica = tenantReplica(this.#config.storage, tenantId)
    await mkdir(tenantDir, { recursive: true })
    const timings: Record<string, number> = {}
    const lap = (name: string, sinceMs: number) => (timings[name] = Date.now() - sinceMs)
    // The app first: a module that does not load fails the wake before any restore, and is
    // reported as the app's error (APP_LOAD_FAILED), not as a crash of the tenant.
    const app = await this.#loadApp()
    let phaseMs = Date.now()
    const source = existsSync(dbPath) ? 'local file' : await this.#restore(dbPath)
    lap('restoreMs', phaseMs)
    phaseMs = Date.now()
    this.#engine = await this.#openEngine({
      path: dbPath,
      app,
      ...(this.#config.appName === undefined ? {} : { appName: this.#config.appName }),
      appVersion: await appVersionOf(app, this.#config.appPath),
      ...(this.#config.appUpgradeFrom === undefined ? {} : { upgradeFrom: this.#config.appUpgradeFrom }),
      concurrency: this.#config.concurrency,
      queryTimeoutMs: this.#config.queryTimeoutMs,
      transactionTimeoutMs: transactionBudgetMs(this.#config.leaseTtlMs, this.#config.fenceMarginMs),
      observer: {
        ...this.#metrics.observer,
        onRunStatus: (runId, workflow, status) => {
          this.#lastActivityMs = Date.now()
          this.#metrics.observer.onRunStatus?.(runId, workflow, status)
          this.#runStream.publish(runId, workflow, status)
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
    this.#replication = replicate(dbPath, replica, {
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
    void this.#replication.then(
      () => lap('replicateMs', phaseMs),
      (err: unknown) => void this.#replicationFailed(err),
    )
    const api = createTenantApi({
      tenantId,
      engine: this.#engine,
      workerSecret: this.#config.workerSecret,
      scratchDir: tenantDir,
      isStopping: () => this.#stopping !== null,
      onRequest: (delta) => {
        this.#inflightRequests += delta
        this.#lastActivityMs = Date.now()
      },
      hibernate: () => this.hibernate('requested'),
      syncPoint: () => this.syncPoint(),
      runStream: this.#runStream,
    })
    const address = await new Promise<AddressInfo>((resolve) => {
      this.#server = serve({ fetch: api.fetch, hostname: this.#config.host, port: this.#config.port }, resolve)
    })
    const url = `http://${this.#config.advertiseHost}:${address.port}`
    const grantedAtMs = Date.now()
    await this.#client.ready(url, process.pid, this.#engine.recovery.quarantined.length)
    this.#lease = new Lease(
      {
        client: this.#client,
        ttlMs: this.#config.leaseTtlMs,
        fenceMarginMs: this.#config.fenceMarginMs,
        status: () => this.#statusNow(),
        onRenewFailed: (status) => status.metrics && this.#metrics.restore(status.metrics),
        onLost: (reason, validUntilMs) => void this.#fence(reason, validUntilMs),
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
    void this.#replication.then(() => this.#log.info({ ...timings }, 'replicating'), () => undefined)
  }

  /**
   * Litestream did not start after the worker went live: nothing committed is lost (it is in
   * the local file, which is kept), but nothing may be acknowledged as durable either. Stop
   * like a crash: the control plane restarts the tenant from its local file.
   */
  async #replicationFailed(err: unknown): Promise<void> {
    if (this.#stopping) return
    let resolve!: (code: number) => void
    this.#stopping = new Promise((r) => (resolve = r))
    this.#log.error({ err }, 'replication did not start; stopping with the local files kept')
    this.#idle?.stop()
    this.#runStream.close()
    await this.#engine.close().catch(() => undefined)
    this.#lease?.stop()
    this.#exitCode(EXIT_FAILED)
    resolve(EXIT_FAILED)
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
    const { storage, tenantId, restoreFrom, tenantDir } = this.#config
    const replica = tenantReplica(storage, tenantId)
    const copy = await takeHibernatedCopy(join(tenantDir, HIBERNATED_COPY_DIR), replica, dbPath)
    if (copy === 'taken') return 'hibernated copy'
    if ((await restore(replica, dbPath)).restored) return copy === 'stale' ? 'replica (local copy was stale)' : 'replica'
    if (!restoreFrom) return 'new tenant'
    const { tenantId: source, at } = restoreFrom
    if (!(await restore(tenantReplica(storage, source), dbPath, { at })).restored) {
      throw new WorkerError('NO_RESTORE_POINT', `fork tenant ${source} as ${tenantId}: nothing to restore at ${at}`)
    }
    return `fork of ${source} at ${at}`
  }

  /**
   * After a verified stop: keeps the file for this machine's next wake of the tenant, and
   * removes everything else (Litestream's folder, locks). Keeping is an optimisation: if it
   * fails the files go as they always did, and the next wake downloads.
   */
  async #keepCopy(): Promise<void> {
    const { tenantDir, storage, tenantId } = this.#config
    const copyDir = join(tenantDir, HIBERNATED_COPY_DIR)
    const kept = await keepHibernatedCopy(join(tenantDir, TENANT_DB_FILE), copyDir, tenantReplica(storage, tenantId)).catch(
      (err: unknown) => {
        this.#log.warn({ err }, 'could not keep the hibernated file; the next wake downloads it')
        return false
      },
    )
    if (!kept) {
      await rm(tenantDir, { recursive: true, force: true })
      return
    }
    for (const name of await readdir(tenantDir)) {
      if (name !== HIBERNATED_COPY_DIR) await rm(join(tenantDir, name), { recursive: true, force: true })
    }
  }

  /**
   * Makes the replica current without stopping (a fork "now" of this tenant): proves by a
   * restore that it holds everything committed so far, and names the time to restore to.
   */
  async syncPoint(): Promise<SyncPoint> {
    const replica = tenantReplica(this.#config.storage, this.#config.tenantId)
    await (await this.#replication).syncVerified({ timeoutMs: STOP_VERIFIED_TIMEOUT_MS })
    const { latestAt } = await restorePoints(replica)
    if (latestAt === null) throw new WorkerError('NO_RESTORE_POINT', `sync tenant ${this.#config.tenantId}: the replica lists nothing`)
    return { at: latestAt }
  }

  async #statusNow(): Promise<WorkerStatus> {
    // While stopping, heartbeats go on (the lease must outlive the final sync) but the
    // engine may be closed already: report what it said last.
    if (this.#stopping === null) {
      this.#lastStatus = { activeRuns: this.#engine.activeRuns(), nextWakeAt: await this.#engine.nextWakeAt() }
    }
    return { ...this.#lastStatus, metrics: this.#metrics.take(), rssBytes: process.memoryUsage.rss() }
  }

  /**
   * Hibernates: refuse new requests, let runs in flight stop at their next durable point,
   * stop Litestream with a *verified* final sync, and only then delete the local files.
   * If the replica cannot be verified the files stay and the worker exits non-zero, so the
   * control plane restarts it from them: nothing unreplicated is ever deleted.
   */
  hibernate(reason: StopReason): Promise<number> {
    this.#stopping ??= this.#hibernate(reason)
    return this.#stopping
  }

  async #hibernate(reason: StopReason): Promise<number> {
    const startedAtMs = Date.now()
    this.#idle.stop()
    this.#runStream.close()
    let code = EXIT_HIBERNATED
    let nextWakeAt: number | null = null
    try {
      nextWakeAt = await this.#engine.nextWakeAt()
      await this.#engine.close()
      // The proof restores the whole replica: give big tenants on a busy machine the time.
      await (await this.#replication).stopVerified({ timeoutMs: STOP_VERIFIED_TIMEOUT_MS })
      await this.#keepCopy()
      await this.#client.hibernated(nextWakeAt, this.#metrics.take()).catch((err: unknown) => {
        // The files are safely in S3 already; the control plane also learns from our exit.
        this.#log.warn({ err }, 'could not report hibernation')
      })
      this.#log.info({ reason, nextWakeAt, ms: Date.now() - startedAtMs }, 'hibernated')
    } catch (err) {
      const errorCode = (err as { code?: unknown }).code
      const isStorage =
        typeof errorCode === 'string' && (errorCode === 'REPLICA_NOT_VERIFIED' || errorCode.startsWith('STORAGE_'))
      code = isStorage ? EXIT_STORAGE_UNAVAILABLE : EXIT_FAILED
      this.#log.error({ err, reason }, 'hibernate failed; local files kept')
      await this.#replication.then((replicator) => replicator.stop()).catch(() => undefined)
    }
    this.#lease.stop()
    this.#exitCode(code)
    return code
  }

  /**
   * Lease lost or about to expire: stop writing at once, give Litestream a final sync that
   * must end before the lease does (it is SIGKILLed at that deadline, so no upload can land
   * once a successor may start), keep the local files, exit.
   */
  async #fence(reason: LeaseLossReason, validUntilMs: number): Promise<void> {
    if (this.#stopping) return
    let resolve!: (code: number) => void
    this.#stopping = new Promise((r) => (resolve = r))
    this.#log.warn({ reason, validUntilMs }, 'lease lost: fencing')
    this.#idle.stop()
    this.#runStream.close()
    const msLeft = (marginMs: number) => Math.max(0, validUntilMs - Date.now() - marginMs)
    try {
      await this.#engine.close({ timeoutMs: msLeft(FENCE_SYNC_RESERVE_MS) })
      const replicator = await Promise.race([this.#replication, expiresIn(msLeft(FENCE_EXIT_RESERVE_MS))])
      await replicator.stop({ timeoutMs: msLeft(FENCE_EXIT_RESERVE_MS) })
    } catch (err) {
      this.#log.warn({ err }, 'fence: final sync incomplete; local files kept')
      // Even one that starts only now: no upload may land once a successor may have started.
      void this.#replication.then((replicator) => replicator.kill(), () => undefined)
    }
    this.#exitCode(EXIT_LEASE_LOST)
    resolve(EXIT_LEASE_LOST)
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

/** Rejects after `ms`: a bound on waiting for something that may never come. */
function expiresIn(ms: number): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`not ready within ${ms} ms`)), ms).unref())
}
