import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import {
  EXIT_APP_REFUSED,
  EXIT_LEASE_LOST,
  EXIT_STORAGE_UNAVAILABLE,
  TENANT_DB_FILE,
  WORKER_SECRET_HEADER,
  hashSecret,
  matchesHash,
  newSecret,
  type MetricsDelta,
} from '@litecell/worker'
import { ControlPlaneError } from './control-plane-error.js'
import { CRASH_LIMIT, CRASH_WINDOW_MS, crashBackoffMs } from './crash-policy.js'
import type { Launcher, WorkerExit, WorkerProcess } from './launcher.js'
import type { LiveWorker } from './live-worker.js'
import type { FleetMetrics } from './fleet-metrics.js'
import type { Registry } from './registry.js'

/** Longest a worker may take from launch to ready. */
export const DEFAULT_START_TIMEOUT_MS = 30_000
/** Longest a wake waits for a free worker slot before answering 429. */
export const DEFAULT_SLOT_WAIT_MS = 15_000
/** Longest a hibernate waits for the worker's verified final sync. */
export const HIBERNATE_TIMEOUT_MS = 120_000
/** A worker whose hibernation failed on storage is restarted (from its files) after this. */
export const STORAGE_RETRY_MS = 5_000

/** Settings of a {@link Fleet}. */
export interface FleetOptions {
  readonly registry: Registry
  readonly launcher: Launcher
  readonly log: Logger
  /** Folder holding `tenants/<id>/` and `logs/`. */
  readonly dataDir: string
  readonly maxWorkers: number
  readonly leaseTtlMs: number
  readonly startTimeoutMs?: number
  readonly slotWaitMs?: number
  /** Environment for a worker of this tenant and epoch (storage, app, control URL…). */
  readonly workerEnv: (tenantId: string, app: string) => Record<string, string>
  readonly clock?: () => number
  /** Prometheus metrics to feed, if any. */
  readonly metrics?: FleetMetrics
}

/**
 * The fleet of workers: starts a worker when a tenant must be active (sharing concurrent
 * wakes), holds at most `maxWorkers` (evicting the least recently used idle one), hibernates
 * them, and reacts to their exits: a clean exit is a hibernation, anything else is a crash,
 * restarted with backoff by the wake scheduler until the tenant crash-loops into `failed`.
 *
 * One writer per tenant: a new worker is launched only once the previous one has exited or
 * its lease has expired, and each launch takes a new lease epoch.
 */
export class Fleet {
  readonly #options: FleetOptions
  readonly #clock: () => number
  readonly #workers = new Map<string, LiveWorker>()
  readonly #wakes = new Map<string, Promise<LiveWorker>>()
  #slotWaiters: (() => void)[] = []
  #reservedSlots = 0
  #closed = false

  constructor(options: FleetOptions) {
    if (!Number.isInteger(options.maxWorkers) || options.maxWorkers < 1) {
      throw new TypeError(`Expected \`maxWorkers\` to be an integer from 1 and up, got \`${options.maxWorkers}\``)
    }
    this.#options = options
    this.#clock = options.clock ?? Date.now
  }

  /** The worker of an active tenant, if any. */
  live(tenantId: string): LiveWorker | undefined {
    return this.#workers.get(tenantId)
  }

  /** How many workers exist (starting, active or stopping). */
  get size(): number {
    return this.#workers.size
  }

  /**
   * Returns the tenant's ready worker, waking the tenant if needed. Concurrent calls share
   * one start. `force` (an admin's explicit wake) also revives a `failed` tenant.
   */
  async ensureActive(tenantId: string, options: { force?: boolean } = {}): Promise<LiveWorker> {
    for (;;) {
      if (this.#closed) throw new ControlPlaneError('WORKER_UNAVAILABLE', 'the control plane is shutting down')
      const live = this.#workers.get(tenantId)
      if (live?.url && !live.stopping) return live
      if (live?.stopping) {
        await live.stopping.catch(() => undefined)
        await live.process.exited
        continue
      }
      if (live) {
        await Promise.race([live.ready, live.process.exited])
        if (live.url) return live
        continue
      }
      let wake = this.#wakes.get(tenantId)
      if (!wake) {
        const timer = this.#options.metrics?.wakes.startTimer()
        wake = this.#wake(tenantId, options.force === true)
        void wake.then(
          () => timer?.({ outcome: 'ok' }),
          () => timer?.({ outcome: 'error' }),
        )
        this.#wakes.set(tenantId, wake)
        void wake.finally(() => this.#wakes.delete(tenantId)).catch(() => undefined)
      }
      return await wake
    }
  }

  async #wake(tenantId: string, force: boolean): Promise<LiveWorker> {
    const { registry, log } = this.#options
    let tenant = registry.require(tenantId)
    if (tenant.state === 'starting') {
      // No worker of ours, yet starting: the tenant is being created by a fork.
      throw new ControlPlaneError('TENANT_STATE_CONFLICT', `tenant ${tenantId} is being created; retry shortly`)
    }
    if (tenant.state === 'failed') {
      if (!force) {
        throw new ControlPlaneError('TENANT_FAILED', `tenant ${tenantId} failed: ${tenant.failureReason ?? 'unknown'}; an admin wake retries it`)
      }
      registry.clearCrashes(tenantId)
    }
    // A lease left by a worker this process does not know (a previous control plane) must
    // run out before anyone else may write: that worker fences itself before it does.
    const leaseLeftMs = (tenant.leaseExpiresAt ?? 0) - this.#clock()
    if (leaseLeftMs > 0) await delay(leaseLeftMs + 250)
    await this.#acquireSlot(tenantId)
    let process: WorkerProcess
    let epoch: number
    let secret: string
    let startedAtMs: number
    try {
      tenant = registry.require(tenantId)
      startedAtMs = this.#clock()
      epoch = registry.beginLease(tenantId, this.#options.leaseTtlMs, startedAtMs)
      secret = newSecret()
      process = this.#options.launcher.launch({
        tenantId,
        epoch,
        env: {
          ...this.#options.workerEnv(tenantId, tenant.app),
          LITECELL_EPOCH: String(epoch),
          LITECELL_WORKER_SECRET: secret,
          LITECELL_APP_NAME: tenant.app,
          ...(tenant.appUpgradeFrom === null ? {} : { LITECELL_APP_UPGRADE_FROM: tenant.appUpgradeFrom }),
        },
        logPath: join(this.#options.dataDir, 'logs', `${tenantId}.log`),
      })
    } finally {
      // The reserved slot becomes the worker's entry below (or is given back on failure).
      this.#reservedSlots -= 1
    }
    let markReady!: () => void
    const live: LiveWorker = {
      tenantId,
      epoch,
      secret,
      secretHash: hashSecret(secret),
      process,
      startedAtMs,
      app: tenant.app,
      url: null,
      leaseExpiresAt: null,
      activeRuns: 0,
      inflight: 0,
      lastUsedMs: startedAtMs,
      reportedNextWakeAt: undefined,
      stopping: null,
      deleted: false,
      ready: new Promise<void>((resolve) => (markReady = resolve)),
      markReady: () => markReady(),
    }
    this.#workers.set(tenantId, live)
    void process.exited.then((exit) => this.#onExit(live, exit))
    const startTimeoutMs = this.#options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS
    let timer: NodeJS.Timeout | undefined
    const outcome = await Promise.race([
      live.ready.then(() => 'ready' as const),
      process.exited.then(() => 'exited' as const),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), startTimeoutMs))),
    ])
    clearTimeout(timer)
    if (outcome !== 'ready') {
      if (outcome === 'timeout') process.kill('SIGKILL')
      const exit = await process.exited
      // The engine refused the file: say why (which app or migration, and what to do).
      if (exit.code === EXIT_APP_REFUSED && live.refusal) {
        throw new ControlPlaneError(live.refusal.code, live.refusal.message)
      }
      throw new ControlPlaneError(
        'WORKER_START_FAILED',
        `wake tenant ${tenantId}: worker ${outcome === 'timeout' ? `not ready within ${startTimeoutMs} ms` : 'exited during start'}; see logs/${tenantId}.log`,
      )
    }
    log.info({ tenantId, epoch, pid: process.pid, ms: this.#clock() - startedAtMs }, 'tenant active')
    return live
  }

  /** Waits for a free worker slot, evicting the least recently used idle worker if full. */
  async #acquireSlot(tenantId: string): Promise<void> {
    const deadline = this.#clock() + (this.#options.slotWaitMs ?? DEFAULT_SLOT_WAIT_MS)
    let victim: LiveWorker | undefined
    // Reserved slots count as taken: a wake between its check and its launch holds one, so
    // waiters woken together cannot all squeeze through the same freed slot.
    while (this.#workers.size + this.#reservedSlots >= this.#options.maxWorkers) {
      // One eviction per waiter at a time: a second victim only once ours has exited.
      if (!victim || this.#workers.get(victim.tenantId) !== victim) {
        victim = this.#evictionCandidate(tenantId)
        if (victim) void this.hibernate(victim.tenantId).catch(() => undefined)
      }
      const leftMs = deadline - this.#clock()
      if (leftMs <= 0) {
        throw new ControlPlaneError(
          'OVER_CAPACITY',
          `wake tenant ${tenantId}: all ${this.#options.maxWorkers} worker slots are busy; retry later`,
        )
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(leftMs, 1_000))
        this.#slotWaiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    this.#reservedSlots += 1
  }

  #evictionCandidate(exceptTenantId: string): LiveWorker | undefined {
    let best: LiveWorker | undefined
    for (const live of this.#workers.values()) {
      if (live.tenantId === exceptTenantId || live.stopping || !live.url) continue
      if (live.inflight > 0 || live.activeRuns > 0) continue
      if (!best || live.lastUsedMs < best.lastUsedMs) best = live
    }
    return best
  }

  /**
   * Hibernates a tenant: its worker stops at the next durable point, syncs, verifies the
   * replica and deletes its local files. Resolves once the worker has exited; rejects if it
   * could not verify its replica (its files are then kept and it is restarted).
   */
  async hibernate(tenantId: string): Promise<void> {
    const wake = this.#wakes.get(tenantId)
    if (wake) await wake.catch(() => undefined)
    let live = this.#workers.get(tenantId)
    if (!live) {
      // A crash or a failed hibernation left local files that S3 may lack: finish the job.
      if (this.#closed || !existsSync(join(this.#options.dataDir, 'tenants', tenantId, TENANT_DB_FILE))) return
      live = await this.ensureActive(tenantId)
    }
    if (!live.stopping) {
      const timer = this.#options.metrics?.hibernations.startTimer()
      live.stopping = this.#stop(live)
      live.stopping.then(
        () => timer?.({ outcome: 'ok' }),
        () => timer?.({ outcome: 'error' }),
      )
    }
    await live.stopping
  }

  async #stop(live: LiveWorker): Promise<void> {
    this.#options.registry.setState(live.tenantId, 'stopping')
    if (live.url) {
      await fetch(`${live.url}/internal/hibernate`, {
        method: 'POST',
        headers: { [WORKER_SECRET_HEADER]: live.secret },
        signal: AbortSignal.timeout(HIBERNATE_TIMEOUT_MS),
      }).catch(() => undefined)
    }
    live.process.kill('SIGTERM')
    await hibernationOf(live)
  }

  /** The worker died, hibernated or fenced itself: free its slot and settle the tenant's state. */
  #onExit(live: LiveWorker, exit: WorkerExit): void {
    const { registry, log } = this.#options
    if (this.#workers.get(live.tenantId) === live) this.#workers.delete(live.tenantId)
    for (const wake of this.#slotWaiters.splice(0)) wake()
    if (live.deleted || !registry.get(live.tenantId)) return
    registry.endLease(live.tenantId, live.epoch)
    const nowMs = this.#clock()
    if (exit.code === 0) {
      // A clean exit is a verified hibernation. If the worker could not report its next wake
      // time, wake it soon: it will find out and hibernate again.
      const nextWakeAt = live.reportedNextWakeAt === undefined ? nowMs : live.reportedNextWakeAt
      registry.setState(live.tenantId, 'hibernated', { nextWakeAt, clearWorker: true })
      log.info({ tenantId: live.tenantId, epoch: live.epoch, nextWakeAt }, 'tenant hibernated')
      return
    }
    if (exit.code === EXIT_STORAGE_UNAVAILABLE) {
      // Storage trouble is not the tenant's fault: keep its local files, retry later, and
      // never count it toward `failed`.
      registry.setState(live.tenantId, 'hibernated', { nextWakeAt: nowMs + STORAGE_RETRY_MS, clearWorker: true })
      log.warn({ tenantId: live.tenantId, epoch: live.epoch }, 'hibernate could not verify the replica; retrying later')
      return
    }
    if (exit.code === EXIT_APP_REFUSED) {
      // Not a crash: the tenant's file does not match its app, and no retry changes that.
      // It stays failed, with the reason, until an upgrade or an admin wake.
      const reason =
        live.refusal?.message ??
        `its worker refused the tenant's file (another app, or a changed migration); see logs/${live.tenantId}.log`
      registry.setState(live.tenantId, 'failed', { failureReason: reason, nextWakeAt: null, clearWorker: true })
      log.error({ tenantId: live.tenantId, reason }, 'tenant refused by its app')
      return
    }
    if (exit.code === EXIT_LEASE_LOST || this.#closed) {
      registry.setState(live.tenantId, 'hibernated', { nextWakeAt: nowMs, clearWorker: true })
      log.warn({ tenantId: live.tenantId, epoch: live.epoch, exit }, 'worker stopped without hibernating')
      return
    }
    this.#options.metrics?.workerCrashed()
    const detail = `worker exited with ${exit.code !== null ? `code ${exit.code}` : `signal ${exit.signal}`}`
    const crashes = registry.recordCrash(live.tenantId, {
      exitCode: exit.code,
      detail,
      nowMs,
      sinceMs: nowMs - CRASH_WINDOW_MS,
    })
    if (crashes >= CRASH_LIMIT) {
      const reason = `${detail}; ${crashes} crashes within ${CRASH_WINDOW_MS / 60_000} minutes; see logs/${live.tenantId}.log`
      registry.setState(live.tenantId, 'failed', { failureReason: reason, nextWakeAt: null, clearWorker: true })
      log.error({ tenantId: live.tenantId, reason }, 'tenant failed')
      return
    }
    // Restart through the wake scheduler, after a backoff: the local files it kept hold work.
    registry.setState(live.tenantId, 'hibernated', { nextWakeAt: nowMs + crashBackoffMs(crashes), clearWorker: true })
    log.warn({ tenantId: live.tenantId, crashes, detail }, 'worker crashed; restarting with backoff')
  }

  /** Finds the live worker a callback comes from; `LEASE_LOST` for a stale or unknown one. */
  #caller(tenantId: string, epoch: number, secret: string | undefined): LiveWorker {
    const live = this.#workers.get(tenantId)
    if (!live || live.epoch !== epoch || !matchesHash(secret, live.secretHash)) {
      throw new ControlPlaneError('TENANT_STATE_CONFLICT', `lease epoch ${epoch} of tenant ${tenantId} is not current`)
    }
    return live
  }

  /**
   * A worker reports it serves at `url`. If its engine quarantined runs on opening, the
   * recent crashes were theirs (a run that keeps killing its worker), not the tenant's: they
   * no longer count toward marking the tenant `failed`.
   */
  workerReady(
    tenantId: string,
    epoch: number,
    secret: string | undefined,
    url: string,
    quarantinedRuns = 0,
  ): { leaseExpiresAt: number } {
    const live = this.#caller(tenantId, epoch, secret)
    if (quarantinedRuns > 0) {
      this.#options.registry.clearCrashes(tenantId)
      this.#options.log.warn({ tenantId, quarantinedRuns }, 'runs quarantined; their crashes no longer count against the tenant')
    }
    const leaseExpiresAt = this.#renew(live)
    // Its engine opened the file with the tenant's app: an app switch is complete (unless the
    // app changed again since this worker was launched).
    if (this.#options.registry.require(tenantId).app === live.app) this.#options.registry.confirmApp(tenantId)
    this.#options.registry.setWorker(tenantId, epoch, { url, pid: live.process.pid ?? 0, startedAtMs: live.startedAtMs })
    live.url = url
    live.markReady()
    return { leaseExpiresAt }
  }

  /** A worker renews its lease and reports its load. */
  workerHeartbeat(
    tenantId: string,
    epoch: number,
    secret: string | undefined,
    status: { activeRuns: number; metrics?: MetricsDelta; rssBytes?: number },
  ): { leaseExpiresAt: number } {
    const live = this.#caller(tenantId, epoch, secret)
    this.#options.metrics?.record(status.metrics)
    if (status.rssBytes !== undefined) live.rssBytes = status.rssBytes
    if (status.activeRuns > 0) live.lastUsedMs = this.#clock()
    live.activeRuns = status.activeRuns
    return { leaseExpiresAt: this.#renew(live) }
  }

  /** Extends the live worker's lease in the registry (and in memory, for the reaper). */
  #renew(live: LiveWorker): number {
    const { registry, leaseTtlMs } = this.#options
    const leaseExpiresAt = registry.renewLease(live.tenantId, live.epoch, leaseTtlMs, this.#clock(), live.lastUsedMs)
    if (leaseExpiresAt === null) {
      throw new ControlPlaneError('TENANT_STATE_CONFLICT', `lease of tenant ${live.tenantId} is gone`)
    }
    live.leaseExpiresAt = leaseExpiresAt
    return leaseExpiresAt
  }

  /**
   * Kills workers whose lease ran out without renewal (hung, frozen or partitioned). By
   * then a healthy worker has fenced itself; the kill makes sure, and its exit (a crash)
   * lets a replacement start.
   */
  reapExpiredLeases(nowMs = this.#clock()): void {
    for (const live of this.#workers.values()) {
      if (live.leaseExpiresAt !== null && live.leaseExpiresAt < nowMs) {
        this.#options.log.warn({ tenantId: live.tenantId, epoch: live.epoch }, 'lease expired; killing worker')
        live.leaseExpiresAt = null
        live.process.kill('SIGKILL')
      }
    }
  }

  /** An idle worker asks to hibernate; refused while requests are being proxied to it. */
  workerIdle(tenantId: string, epoch: number, secret: string | undefined): { hibernate: boolean } {
    const live = this.#caller(tenantId, epoch, secret)
    if (live.inflight > 0 || live.stopping) return { hibernate: false }
    this.#options.registry.setState(tenantId, 'stopping')
    // Idle hibernations are timed too (they are most of them), from approval to exit.
    const timer = this.#options.metrics?.hibernations.startTimer()
    live.stopping = hibernationOf(live)
    live.stopping.then(
      () => timer?.({ outcome: 'ok' }),
      () => timer?.({ outcome: 'error' }),
    ) // an error is reported to whoever awaits it; the exit handler restarts the worker
    return { hibernate: true }
  }

  /** A worker's engine refused the tenant's file; it exits next (see EXIT_APP_REFUSED). */
  workerRefused(
    tenantId: string,
    epoch: number,
    secret: string | undefined,
    refusal: NonNullable<LiveWorker['refusal']>,
  ): void {
    this.#caller(tenantId, epoch, secret).refusal = refusal
  }

  /** A worker finished a verified hibernation; it exits next. */
  workerHibernated(
    tenantId: string,
    epoch: number,
    secret: string | undefined,
    nextWakeAt: number | null,
    metrics?: MetricsDelta,
  ): void {
    const live = this.#caller(tenantId, epoch, secret)
    this.#options.metrics?.record(metrics)
    live.reportedNextWakeAt = nextWakeAt
  }

  /** Counts a request proxied to the tenant's worker (idle workers are not stopped under it). */
  beginRequest(live: LiveWorker): void {
    live.inflight += 1
    live.lastUsedMs = this.#clock()
  }

  endRequest(live: LiveWorker): void {
    live.inflight -= 1
    live.lastUsedMs = this.#clock()
  }

  /** Replaces the launcher's standby workers (an app's code changed: see `Launcher.refresh`). */
  refreshLauncher(): void {
    this.#options.launcher.refresh?.()
  }

  /** Kills the tenant's worker at once (the tenant is being deleted) and waits for its exit. */
  async kill(tenantId: string): Promise<void> {
    const wake = this.#wakes.get(tenantId)
    if (wake) await wake.catch(() => undefined)
    const live = this.#workers.get(tenantId)
    if (!live) return
    live.deleted = true
    live.process.kill('SIGKILL')
    await live.process.exited
  }

  /**
   * Hibernates every worker (control plane shutdown); no new wakes start. Resolves with the
   * tenants whose hibernation failed: their local files are kept for the next start.
   */
  async close(): Promise<string[]> {
    this.#closed = true
    await Promise.allSettled([...this.#wakes.values()])
    const ids = [...this.#workers.keys()]
    const results = await Promise.allSettled(ids.map((id) => this.hibernate(id)))
    this.#options.launcher.close?.()
    return ids.filter((_, index) => results[index]!.status === 'rejected')
  }
}

/** Resolves when the worker exits after a verified hibernation; rejects on any other exit. */
async function hibernationOf(live: LiveWorker): Promise<void> {
  const exit = await live.process.exited
  if (exit.code === 0) return
  throw new ControlPlaneError(
    'WORKER_UNAVAILABLE',
    `hibernate tenant ${live.tenantId}: the worker could not verify its replica (exit ${exit.code ?? exit.signal}); its local files are kept and it will be restarted; see logs/${live.tenantId}.log`,
  )
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
