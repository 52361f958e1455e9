import {
  EXIT_STORAGE_UNAVAILABLE,
  type CallbackCaller,
  type HeartbeatReport,
  type WorkerSettings,
} from '@litecell/protocol'
import type { Logger } from 'pino'
import { ControlPlaneError } from '../control-plane-error.js'
import type { FleetMetrics } from '../fleet-metrics.js'
import type { Launcher, WorkerExit } from '../launcher.js'
import type { Registry } from '../registry.js'
import { settleExit } from './exit-policy.js'
import { LeaseDesk } from './lease-desk.js'
import type { LiveWorker, WorkerView } from './live-worker.js'
import { StorageBackoff } from './storage-backoff.js'
import { DEFAULT_START_TIMEOUT_MS, launchWorker, untilReady } from './worker-launch.js'
import type { WorkerClient, WorkerFetch } from './worker-client.js'
import { HAND_OVER_RETRY_MS, WakeQueue } from './wake-queue.js'
import { adoptWorker } from './worker-adoption.js'

/** Settings of a {@link Fleet}. */
export interface FleetOptions {
  readonly registry: Registry
  readonly launcher: Launcher
  readonly log: Logger
  /** Folder holding `logs/` (and, for the local launcher, `tenants/`). */
  readonly dataDir: string
  readonly maxWorkers: number
  readonly leaseTtlMs: number
  /** How long a stopping worker may take before it is killed (`stopDeadlineMs()`). */
  readonly stopDeadlineMs: number
  readonly startTimeoutMs?: number
  /** Longest a wake waits for a slot before `OVER_CAPACITY` (LITECELL_WAKE_WAIT_MS). */
  readonly wakeWaitMs?: number | undefined
  /** Most workers starting at once (default: two per core). */
  readonly maxStarting?: number | undefined
  /** Settings of a worker for this tenant and app (storage, app path, control URL…). */
  readonly workerSettings: (
    tenantId: string,
    app: string,
  ) => Omit<WorkerSettings, 'epoch' | 'workerSecret'>
  /** How requests reach workers (in-process tests); default: HTTP. */
  readonly workerFetch?: WorkerFetch
  readonly clock?: () => number
  /** Prometheus metrics to feed, if any. */
  readonly metrics?: FleetMetrics
  /** Resolves once the registry's changes are confirmed in S3 (lease epochs of pods). */
  readonly confirmRegistry?: () => Promise<void>
}

/** A ready worker, for one request: its client and its exit. */
export interface WorkerHandle {
  readonly client: WorkerClient
  readonly exited: Promise<WorkerExit>
}

/**
 * The fleet of workers: starts a worker when a tenant must be active (concurrent wakes share
 * one start), holds at most `maxWorkers` behind a fair {@link WakeQueue}, hibernates them, and settles
 * their exits ({@link settleExit}); the {@link LeaseDesk} answers their callbacks. Only the
 * fleet's files hold live workers; the rest of the control plane sees a {@link WorkerView}
 * or borrows a {@link WorkerHandle} for one request.
 *
 * One writer per tenant: a new worker is launched only once the previous one has exited or
 * its lease has expired, and each launch takes a new lease epoch. A worker a previous control
 * plane launched is adopted when its heartbeat arrives before its lease ran out
 * ({@link adoptWorker}); a wake meanwhile waits for that or the lease's end, whichever comes
 * first, so the survivor and a replacement never write at once.
 */
export class Fleet {
  /** The workers' callbacks and the lease reaper. */
  readonly leases: LeaseDesk
  readonly #options: FleetOptions
  readonly #clock: () => number
  readonly #workers = new Map<string, LiveWorker>()
  readonly #wakes = new Map<string, Promise<LiveWorker>>()
  readonly #storage = new StorageBackoff()
  readonly #queue: WakeQueue
  /** Workers asked to hand their slot over, until they answer. */
  readonly #asked = new Set<LiveWorker>()
  /** When a worker last declined a hand-over (it was busy). */
  readonly #declinedAt = new WeakMap<LiveWorker, number>()
  /** Wakes waiting for a previous control plane's worker to be adopted, by tenant. */
  readonly #adoptionWaits = new Map<string, Set<() => void>>()
  #closed = false

  constructor(options: FleetOptions) {
    this.#options = options
    this.#clock = options.clock ?? Date.now
    this.#queue = new WakeQueue({
      maxWorkers: options.maxWorkers,
      maxStarting: options.maxStarting,
      waitMs: options.wakeWaitMs,
      clock: this.#clock,
      capacity: {
        used: () => this.#workers.size,
        starting: () => this.#count((live) => !live.client && !live.stopping),
        stopping: () => this.#count((live) => live.stopping !== null),
        handOver: (count) => this.#handOver(count),
      },
    })
    this.leases = new LeaseDesk({
      registry: options.registry,
      leaseTtlMs: options.leaseTtlMs,
      log: options.log,
      clock: this.#clock,
      metrics: options.metrics,
      stopDeadlineMs: options.stopDeadlineMs,
      find: (tenantId) => this.#workers.get(tenantId),
      all: () => this.#workers.values(),
      adopt: (caller, secret, report) => this.#adopt(caller, secret, report),
      changed: () => this.#queue.pump(),
    })
  }

  /** How many workers exist (starting, active or stopping). */
  get size(): number {
    return this.#workers.size
  }

  /** The tenant's worker, if it has one. */
  workerView(tenantId: string): WorkerView | undefined {
    return this.#workers.get(tenantId)?.view
  }

  /** Whether the tenant has a worker (starting, active or stopping). */
  hasWorker(tenantId: string): boolean {
    return this.#workers.has(tenantId)
  }

  /** Replaces the launcher's standby workers (an app's code changed: see `Launcher.refresh`). */
  refreshLauncher(): void {
    this.#options.launcher.refresh?.()
  }

  /** The client of the tenant's ready worker if it has one that is not stopping (never wakes). */
  servingWorker(tenantId: string): WorkerClient | undefined {
    const live = this.#workers.get(tenantId)
    return live?.client && !live.stopping ? live.client : undefined
  }

  /** Wakes the tenant (if needed) and resolves once its worker is ready. */
  async ensureActive(tenantId: string, options: { force?: boolean } = {}): Promise<void> {
    await this.#ensureActive(tenantId, options.force === true)
  }

  /**
   * Runs `use` with the tenant's ready worker (waking the tenant first), counted as a request
   * in flight so the worker is not hibernated as idle meanwhile.
   */
  async withWorker<T>(tenantId: string, use: (worker: WorkerHandle) => Promise<T>): Promise<T> {
    const live = await this.#ensureActive(tenantId, false)
    live.beginRequest(this.#clock())
    try {
      return await use({ client: live.client!, exited: live.process.exited })
    } finally {
      live.endRequest(this.#clock())
      // Its last request ended: if wakes wait, this worker may hand its slot over now.
      if (live.inflight === 0 && this.#queue.waiting > 0) this.#queue.pump()
    }
  }

  /**
   * Like {@link withWorker}, but only if the tenant has a worker or local state already (it is
   * not woken from its replica for this); a hibernation under way is waited out first.
   * Undefined when the tenant is hibernated with nothing local.
   */
  async withWorkerIfAwake<T>(
    tenantId: string,
    use: (worker: WorkerHandle) => Promise<T>,
  ): Promise<T | undefined> {
    const live = this.#workers.get(tenantId)
    if (live?.stopping) await live.process.exited
    const awake = this.#workers.has(tenantId) || this.#options.launcher.hasLocalState(tenantId)
    return awake ? this.withWorker(tenantId, use) : undefined
  }

  async #ensureActive(tenantId: string, force: boolean): Promise<LiveWorker> {
    for (;;) {
      if (this.#closed) {
        throw new ControlPlaneError('WORKER_UNAVAILABLE', 'the control plane is shutting down')
      }
      const live = this.#workers.get(tenantId)
      if (live?.client && !live.stopping) return live
      if (live?.stopping) {
        await live.stopping.catch(() => undefined)
        await live.process.exited
        continue
      }
      if (live) {
        await Promise.race([live.ready, live.process.exited])
        if (live.client) return live
        continue
      }
      // An adopted worker may already be stopping: then look again.
      const woken = await this.#sharedWake(tenantId, force)
      if (woken.client && !woken.stopping) return woken
    }
  }

  /** One wake per tenant at a time: concurrent callers share it. */
  #sharedWake(tenantId: string, force: boolean): Promise<LiveWorker> {
    let wake = this.#wakes.get(tenantId)
    if (!wake) {
      const timer = this.#options.metrics?.wakes.startTimer()
      wake = this.#wake(tenantId, force)
      void wake.then(
        () => timer?.({ outcome: 'ok' }),
        () => timer?.({ outcome: 'error' }),
      )
      this.#wakes.set(tenantId, wake)
      void wake.finally(() => this.#wakes.delete(tenantId)).catch(() => undefined)
    }
    return wake
  }

  async #wake(tenantId: string, force: boolean): Promise<LiveWorker> {
    const { registry } = this.#options
    const tenant = registry.require(tenantId)
    if (tenant.state === 'starting') {
      // No worker of ours, yet starting: the tenant is being created by a fork.
      throw new ControlPlaneError(
        'TENANT_STATE_CONFLICT',
        `tenant ${tenantId} is being created; retry shortly`,
      )
    }
    if (tenant.state === 'failed') {
      if (!force) {
        throw new ControlPlaneError(
          'TENANT_FAILED',
          `tenant ${tenantId} failed: ${tenant.failureReason ?? 'unknown'}; an admin wake retries it`,
        )
      }
      registry.clearCrashes(tenantId)
    }
    if (!force) this.#storage.checkWake(tenantId, this.#clock())
    // A lease left by a worker this process does not know (a previous control plane) must
    // run out before anyone else may write (that worker fences itself before it does), unless
    // the worker is adopted first: its heartbeat reached this control plane in time.
    const leaseLeftMs = (tenant.leaseExpiresAt ?? 0) - this.#clock()
    if (leaseLeftMs > 0) {
      await this.#adoptedOrAfter(tenantId, leaseLeftMs + 250)
      const adopted = this.#workers.get(tenantId)
      if (adopted) return adopted
    }
    await this.#queue.acquire(tenantId)
    let live: LiveWorker
    try {
      live = await launchWorker(this.#options, tenantId, this.#clock())
      this.#workers.set(tenantId, live)
      void live.process.exited.then((exit) => this.#onExit(live, exit))
    } catch (err) {
      // S3 did not confirm a pod's lease epoch: back off like a worker that found storage down,
      // so the next requests are answered at once instead of each waiting for S3 again.
      const code = (err as { code?: unknown }).code
      if (code === 'STORAGE_UNAVAILABLE') this.#storage.failed(tenantId, this.#clock())
      throw err
    } finally {
      // The reserved slot became the worker's entry (or is given back on failure).
      this.#queue.launched()
    }
    await untilReady(live, this.#options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS)
    this.#storage.cleared(tenantId)
    this.#options.log.info(
      { tenantId, epoch: live.epoch, pid: live.process.pid, ms: this.#clock() - live.startedAtMs },
      'tenant active',
    )
    return live
  }

  /** Resolves once the tenant's surviving worker was adopted, or after `ms`. */
  async #adoptedOrAfter(tenantId: string, ms: number): Promise<void> {
    let done!: () => void
    const settled = new Promise<void>((resolve) => (done = resolve))
    const waits = this.#adoptionWaits.get(tenantId) ?? new Set()
    this.#adoptionWaits.set(tenantId, waits.add(done))
    const timer = setTimeout(done, ms)
    await settled
    clearTimeout(timer)
    waits.delete(done)
    if (waits.size === 0 && this.#adoptionWaits.get(tenantId) === waits) {
      this.#adoptionWaits.delete(tenantId)
    }
  }

  /**
   * A heartbeat no live worker answers to: adopts its worker if a previous control plane
   * launched it and its lease still holds ({@link adoptWorker}). It takes a slot like any
   * worker (even past the cap: it exists either way), and a wake waiting out its lease gets it.
   */
  #adopt(
    caller: CallbackCaller,
    secret: string | undefined,
    report: HeartbeatReport,
  ): LiveWorker | undefined {
    if (this.#closed || this.#workers.has(caller.tenantId)) return undefined
    const live = adoptWorker(this.#options, caller, secret, report, this.#clock())
    if (!live) return undefined
    this.#workers.set(live.tenantId, live)
    void live.process.exited.then((exit) => this.#onExit(live, exit))
    this.#options.log.warn(
      { tenantId: live.tenantId, epoch: live.epoch, pid: live.process.pid },
      'adopted a worker a previous control plane launched',
    )
    // It was hibernating or fencing when its control plane went: let it finish, as stopping.
    if (report.stopping) void this.leases.beginHibernation(live)
    for (const wake of this.#adoptionWaits.get(live.tenantId) ?? []) wake()
    return live
  }

  #count(test: (live: LiveWorker) => boolean): number {
    let n = 0
    for (const live of this.#workers.values()) if (test(live)) n += 1
    return n
  }

  /**
   * Asks up to `count` idle workers (least recently used first, ones that reported no runs
   * before the others) to hibernate at once, so waiting wakes get their slots. The worker has
   * the last word: it declines while a run executes or a timer is due (its heartbeat may be
   * stale), and is asked again only after {@link HAND_OVER_RETRY_MS}.
   */
  #handOver(count: number): void {
    const nowMs = this.#clock()
    const wanted = count - this.#asked.size
    if (wanted <= 0) return
    const candidates = [...this.#workers.values()]
      .filter(
        (live) =>
          live.client &&
          !live.stopping &&
          live.inflight === 0 &&
          !this.#asked.has(live) &&
          nowMs - (this.#declinedAt.get(live) ?? -Infinity) >= HAND_OVER_RETRY_MS,
      )
      .sort(
        (a, b) =>
          Number(a.activeRuns > 0) - Number(b.activeRuns > 0) || a.lastUsedMs - b.lastUsedMs,
      )
    for (const live of candidates.slice(0, wanted)) void this.#askHandOver(live)
  }

  async #askHandOver(live: LiveWorker): Promise<void> {
    this.#asked.add(live)
    try {
      const accepted = await live.client!.hibernateIfIdle()
      if (!accepted) {
        this.#declinedAt.set(live, this.#clock())
        return
      }
      if (this.#workers.get(live.tenantId) === live) void this.leases.beginHibernation(live)
    } finally {
      this.#asked.delete(live)
    }
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
      if (this.#closed || !this.#options.launcher.hasLocalState(tenantId)) return
      live = await this.#ensureActive(tenantId, false)
    }
    await (live.stopping ?? this.leases.beginHibernation(live, this.#stop(live)))
  }

  /**
   * The one hibernation trigger: the worker's hibernate route, or SIGTERM for a worker that is
   * not serving (not ready yet, or not answering); then its exit says how it went.
   */
  async #stop(live: LiveWorker): Promise<void> {
    const answered = (await live.client?.hibernate(this.#options.stopDeadlineMs)) ?? false
    if (!answered) live.process.kill('SIGTERM')
    await live.hibernation()
  }

  /** The worker died, hibernated or fenced itself: free its slot and settle the tenant's state. */
  #onExit(live: LiveWorker, exit: WorkerExit): void {
    const { registry, log, metrics } = this.#options
    if (this.#workers.get(live.tenantId) === live) this.#workers.delete(live.tenantId)
    this.#queue.pump()
    if (!registry.get(live.tenantId)) return
    // Ended even for a deleted tenant's worker: its delete waits out only leases still held.
    registry.endLease(live.tenantId, live.epoch)
    if (live.deleted) return
    const nowMs = this.#clock()
    const storageDown = exit.code === EXIT_STORAGE_UNAVAILABLE
    const storageFailures = storageDown ? this.#storage.failed(live.tenantId, nowMs) : 0
    if (!storageDown) this.#storage.cleared(live.tenantId)
    settleExit({ registry, log, metrics }, live, exit, {
      nowMs,
      closing: this.#closed,
      storageFailures,
    })
  }

  /**
   * Kills the tenant's worker at once and removes its local state (the tenant is being deleted,
   * or its creation failed); resolves once the worker has exited.
   */
  async discard(tenantId: string): Promise<void> {
    const wake = this.#wakes.get(tenantId)
    // A wake still queued for a slot ends now; one past the queue is waited out (its worker,
    // if it launched one, is killed below).
    this.#queue.withdraw(
      tenantId,
      new ControlPlaneError('TENANT_NOT_FOUND', `no tenant ${tenantId}: it is being deleted`),
    )
    if (wake) await wake.catch(() => undefined)
    const live = this.#workers.get(tenantId)
    if (live) {
      live.markDeleted()
      live.process.kill('SIGKILL')
      await live.process.exited
    } else {
      // A worker a previous control plane launched may still hold the lease (it survives the
      // restart, and is refused adoption now that the tenant is deleting): it fences itself
      // before the lease ends, so its files and replica are removed only after that.
      const leaseLeftMs =
        (this.#options.registry.get(tenantId)?.leaseExpiresAt ?? 0) - this.#clock()
      if (leaseLeftMs > 0) await new Promise((resolve) => setTimeout(resolve, leaseLeftMs + 250))
    }
    await this.#options.launcher.removeLocalState(tenantId)
  }

  /**
   * Hibernates every worker (control plane shutdown); no new wakes start. Resolves with the
   * tenants whose hibernation failed: their local files are kept for the next start.
   */
  async close(): Promise<string[]> {
    this.#closed = true
    this.#queue.close()
    await Promise.allSettled([...this.#wakes.values()])
    const ids = [...this.#workers.keys()]
    const results = await Promise.allSettled(ids.map((id) => this.hibernate(id)))
    this.#options.launcher.close?.()
    return ids.filter((_, index) => results[index]!.status === 'rejected')
  }
}
