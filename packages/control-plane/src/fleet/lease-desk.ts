import {
  matchesHash,
  type CallbackCaller,
  type HeartbeatReport,
  type HibernatedReport,
  type IdleAnswer,
  type LeaseAnswer,
  type ReadyReport,
  type RefusedReport,
} from '@litecell/protocol'
import type { Logger } from 'pino'
import { ControlPlaneError } from '../control-plane-error.js'
import type { FleetMetrics } from '../fleet-metrics.js'
import type { Registry } from '../registry.js'
import type { LiveWorker } from './live-worker.js'

/** What the lease desk works with. */
export interface LeaseDeskOptions {
  readonly registry: Registry
  readonly leaseTtlMs: number
  readonly log: Logger
  readonly clock: () => number
  readonly metrics?: FleetMetrics | undefined
  /** How long a stopping worker may take before it is killed. */
  readonly stopDeadlineMs: number
  /** The fleet's live worker of a tenant, if any. */
  readonly find: (tenantId: string) => LiveWorker | undefined
  /** Every live worker of the fleet. */
  readonly all: () => Iterable<LiveWorker>
  /**
   * Adopts the worker behind a heartbeat that no live worker answers to (a previous control
   * plane launched it): the new live worker, or undefined if it may not be adopted.
   */
  readonly adopt?: (
    caller: CallbackCaller,
    secret: string | undefined,
    report: HeartbeatReport,
  ) => LiveWorker | undefined
  /** A worker became ready, reported its load or stopped: waiting wakes may look again. */
  readonly changed?: () => void
}

/**
 * The control plane's side of the lease protocol: the callbacks workers make (ready,
 * heartbeat, idle, hibernated), each checked against the live worker that holds the tenant's
 * current epoch and its secret (`LEASE_LOST` otherwise: the worker fences itself), and the
 * reaper of leases that ran out.
 */
export class LeaseDesk {
  readonly #options: LeaseDeskOptions

  constructor(options: LeaseDeskOptions) {
    this.#options = options
  }

  /**
   * A worker reports it serves at `url`. If its engine quarantined runs on opening, the
   * recent crashes were theirs (a run that keeps killing its worker), not the tenant's: they
   * no longer count toward marking the tenant `failed`.
   */
  ready(caller: CallbackCaller, secret: string | undefined, report: ReadyReport): LeaseAnswer {
    const live = this.#caller(caller, secret)
    if (report.quarantinedRuns > 0) {
      this.#options.registry.clearCrashes(live.tenantId)
      this.#options.log.warn(
        { tenantId: live.tenantId, quarantinedRuns: report.quarantinedRuns },
        'runs quarantined; their crashes no longer count against the tenant',
      )
    }
    const leaseExpiresAt = this.#renew(live)
    // Its engine opened the file with the tenant's app: an app switch is complete (unless the
    // app changed again since this worker was launched).
    const { registry } = this.#options
    if (registry.require(live.tenantId).app === live.app) registry.confirmApp(live.tenantId)
    this.#options.registry.setWorker(live.tenantId, live.epoch, {
      url: report.url,
      pid: live.process.pid ?? 0,
      startedAtMs: live.startedAtMs,
    })
    live.markReady(report.url)
    this.#options.changed?.()
    return { leaseExpiresAt }
  }

  /**
   * A worker renews its lease and reports its load. A heartbeat no live worker answers to may
   * come from a worker a previous control plane launched: it is adopted if the registry still
   * holds its epoch, secret and an unexpired lease (see `Fleet`), refused otherwise.
   */
  heartbeat(
    caller: CallbackCaller,
    secret: string | undefined,
    report: HeartbeatReport,
  ): LeaseAnswer {
    const known = this.#options.find(caller.tenantId)
    const live =
      (!known && this.#options.adopt?.(caller, secret, report)) || this.#caller(caller, secret)
    this.#options.metrics?.record(report.metrics)
    live.reportLoad(report.activeRuns, this.#options.clock(), report.rssBytes)
    const leaseExpiresAt = this.#renew(live)
    if (report.activeRuns === 0) this.#options.changed?.()
    return { leaseExpiresAt }
  }

  /** An idle worker asks to hibernate; refused while requests are being proxied to it. */
  idle(caller: CallbackCaller, secret: string | undefined): IdleAnswer {
    const live = this.#caller(caller, secret)
    if (live.inflight > 0 || live.stopping) return { hibernate: false }
    void this.beginHibernation(live)
    this.#options.changed?.()
    return { hibernate: true }
  }

  /**
   * Marks the worker stopping (its tenant `stopping`) until `stop` settles (by default its
   * exit after a verified hibernation), timed as a hibernation from here to its exit; a worker
   * still there after the stop deadline is killed. Every hibernation (idle, handed over,
   * asked for) begins here, once per worker.
   */
  beginHibernation(live: LiveWorker, stop?: Promise<void>): Promise<void> {
    if (live.stopping) return live.stopping
    this.#options.registry.setState(live.tenantId, 'stopping')
    const timer = this.#options.metrics?.hibernations.startTimer()
    const stopping = live.beginStop(stop ?? live.hibernation(), this.#options.stopDeadlineMs)
    void stopping.then(
      () => timer?.({ outcome: 'ok' }),
      () => timer?.({ outcome: 'error' }),
    )
    return stopping
  }

  /**
   * A worker cannot serve its tenant: its engine refused the file, or its app does not load;
   * it exits next (`EXIT_APP_REFUSED`, `EXIT_APP_LOAD_FAILED`).
   */
  refused(caller: CallbackCaller, secret: string | undefined, report: RefusedReport): void {
    this.#caller(caller, secret).reportRefused(report)
  }

  /** A worker finished a verified hibernation; it exits next. */
  hibernated(caller: CallbackCaller, secret: string | undefined, report: HibernatedReport): void {
    const live = this.#caller(caller, secret)
    this.#options.metrics?.record(report.metrics)
    live.reportHibernated(report.nextWakeAt)
  }

  /**
   * Kills workers whose lease ran out without renewal (hung, frozen or partitioned). By then a
   * healthy worker has fenced itself; the kill makes sure, and its exit (a crash) lets a
   * replacement start.
   */
  reapExpired(nowMs = this.#options.clock()): void {
    for (const live of this.#options.all()) {
      const expiresAt = live.leaseExpiresAt
      if (expiresAt !== null && expiresAt < nowMs) {
        this.#options.log.warn(
          // `expiresAt`: the end of the worker's last renewal, which its replacement must follow.
          { tenantId: live.tenantId, epoch: live.epoch, expiresAt },
          'lease expired; killing worker',
        )
        live.leaseRenewed(null)
        live.process.kill('SIGKILL')
      }
    }
  }

  /** The live worker a callback comes from; `LEASE_LOST` for a stale or unknown one. */
  #caller({ tenantId, epoch }: CallbackCaller, secret: string | undefined): LiveWorker {
    const live = this.#options.find(tenantId)
    if (!live || live.epoch !== epoch || !matchesHash(secret, live.secretHash)) {
      throw new ControlPlaneError(
        'LEASE_LOST',
        `lease epoch ${epoch} of tenant ${tenantId} is not current`,
      )
    }
    return live
  }

  /** Extends the live worker's lease in the registry (and in memory, for the reaper). */
  #renew(live: LiveWorker): number {
    const { registry, leaseTtlMs, clock } = this.#options
    const expiresAt = registry.renewLease(
      live.tenantId,
      live.epoch,
      leaseTtlMs,
      clock(),
      live.lastUsedMs,
    )
    if (expiresAt === null) {
      throw new ControlPlaneError('LEASE_LOST', `lease of tenant ${live.tenantId} is gone`)
    }
    live.leaseRenewed(expiresAt)
    return expiresAt
  }
}
