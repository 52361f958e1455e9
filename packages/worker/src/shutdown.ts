import { setTimeout as delay } from 'node:timers/promises'
import type { Engine } from '@litecell/engine'
import {
  EXIT_FAILED,
  EXIT_HIBERNATED,
  EXIT_LEASE_LOST,
  EXIT_STORAGE_UNAVAILABLE,
  type MetricsDelta,
} from '@litecell/protocol'
import type { Replicator } from '@litecell/replica'
import type { Logger } from 'pino'
import type { ControlClient } from './control-client.js'
import type { LeaseLossReason } from './lease.js'
import { retireTenantDir } from './tenant-dir.js'
import { WorkerError } from './worker-error.js'
import type { WorkerMetrics } from './worker-metrics.js'

/** When fencing, the engine must be closed this long before the lease ends (for the sync). */
export const FENCE_SYNC_RESERVE_MS = 1_500
/** When fencing, Litestream must be gone this long before the lease ends. */
export const FENCE_EXIT_RESERVE_MS = 250
/** Tries of the `hibernated` report before the worker exits without it. */
const REPORT_ATTEMPTS = 3
const REPORT_RETRY_MS = 500

/** Why a worker stopped. */
export type StopReason = 'idle' | 'requested' | 'signal' | LeaseLossReason

/** What a {@link Shutdown} stops. */
export interface ShutdownParts {
  readonly tenantId: string
  readonly tenantDir: string
  /** The tenant's incarnation: the mark of the folder a kept copy stays in. */
  readonly incarnation: string | undefined
  /**
   * After the verified stop, moves the database out of the retired folder into this
   * incarnation's kept copy (issue 12); resolves true if it kept one.
   */
  readonly keepCopy: (retiredDir: string) => Promise<boolean>
  /** How long a hibernation waits for runs to reach a durable point. */
  readonly stopTimeoutMs: number
  /** Budget of the verified final sync. */
  readonly syncTimeoutMs: number
  readonly engine: Engine
  /** Litestream's start (a wake serves before it ends). */
  readonly replicator: Promise<Replicator>
  readonly client: ControlClient
  readonly metrics: WorkerMetrics
  readonly log: Logger
  /** Stops what runs beside the engine (the idle monitor, the run stream). */
  readonly quiesce: () => void
  /** Stops renewing the lease: the worker is done with it. */
  readonly releaseLease: () => void
}

/**
 * The two ways a worker ends. A *hibernation* stops the engine at the next durable point
 * (waiting at most `stopTimeoutMs`: runs still inside a step then resume on the next wake),
 * proves by a verified final sync that the replica holds the last transaction, removes the
 * tenant's folder atomically (keeping only a verified copy of the file for the next wake on
 * this machine, in a fresh folder of this incarnation), reports `hibernated` and exits 0; any
 * failure keeps the files.
 * A *fence* (the lease is lost or about to run out) stops writing at once and SIGKILLs
 * Litestream before the lease ends, also in the middle of a hibernation, which then fails and
 * keeps its files (issue 9, item 11): past its lease a worker's Litestream could upload beside
 * a successor's.
 */
export class Shutdown {
  readonly #parts: ShutdownParts
  #stopping: Promise<number> | null = null
  #fenced = false
  #settle!: (code: number) => void
  /** Resolves with the process exit code once the worker has stopped. */
  readonly exited: Promise<number>

  constructor(parts: ShutdownParts) {
    this.#parts = parts
    this.exited = new Promise((resolve) => (this.#settle = resolve))
  }

  /** True once a hibernation or a fence began. */
  get isStopping(): boolean {
    return this.#stopping !== null
  }

  /** Hibernates (once; later calls join it); resolves with the exit code. */
  hibernate(reason: StopReason): Promise<number> {
    this.#stopping ??= this.#hibernate(reason)
    return this.#stopping
  }

  /**
   * Lease lost or about to expire: stop writing, and have Litestream gone
   * {@link FENCE_EXIT_RESERVE_MS} before `validUntilMs` whatever else is under way; the local
   * files stay. The worker then exits with `EXIT_LEASE_LOST`.
   */
  fence(reason: LeaseLossReason, validUntilMs: number): void {
    if (this.#fenced) return
    this.#fenced = true
    const { log, replicator } = this.#parts
    const hibernating = this.#stopping !== null
    log.warn({ reason, validUntilMs, hibernating }, 'lease lost: fencing')
    const msLeft = (reserveMs: number) => Math.max(0, validUntilMs - Date.now() - reserveMs)
    this.#stopping ??= this.#stopWriting(msLeft)
    void Promise.race([this.#stopping, delay(msLeft(FENCE_EXIT_RESERVE_MS))]).then(() => {
      // A no-op once Litestream stopped by itself; otherwise this is the deadline. Even one
      // that starts only now: no upload may land once a successor may have started.
      void replicator.then((started) => started.kill(), () => undefined)
      this.#settle(EXIT_LEASE_LOST)
    })
  }

  /**
   * Litestream did not start after the worker went live: nothing committed is lost (it is in
   * the local file, which is kept), but nothing may be acknowledged as durable either. Stop
   * like a crash (`EXIT_FAILED`): the control plane restarts the tenant from its local file.
   */
  replicationFailed(err: unknown): void {
    if (this.#stopping !== null) return
    const { engine, log } = this.#parts
    log.error({ err }, 'replication did not start; stopping with the local files kept')
    this.#stopping = (async () => {
      this.#parts.quiesce()
      await engine.close().catch(() => undefined)
      this.#parts.releaseLease()
      this.#settle(EXIT_FAILED)
      return EXIT_FAILED
    })()
  }

  async #hibernate(reason: StopReason): Promise<number> {
    const { engine, replicator, log, tenantId } = this.#parts
    const startedAtMs = Date.now()
    this.#parts.quiesce()
    let code = EXIT_HIBERNATED
    // Where a hibernation's time goes (issue 12), logged with `hibernated`.
    const timings: Record<string, number> = {}
    let lapAtMs = startedAtMs
    const lap = (name: string): void => {
      const nowMs = Date.now()
      timings[name] = nowMs - lapAtMs
      lapAtMs = nowMs
    }
    try {
      const nextWakeAt = await engine.nextWakeAt()
      await engine.close({ timeoutMs: this.#parts.stopTimeoutMs })
      lap('engineCloseMs')
      const abandoned = engine.activeRuns()
      if (abandoned > 0) {
        log.warn(
          { runs: abandoned, stopTimeoutMs: this.#parts.stopTimeoutMs },
          'runs still inside a step at the stop deadline: they resume on the next wake',
        )
      }
      this.#checkLease(`hibernate tenant ${tenantId}`)
      // The proof restores the whole replica: give big tenants on a busy machine the time.
      const started = await replicator
      lap('replicatorStartMs')
      const { phases } = await started.stopVerified({ timeoutMs: this.#parts.syncTimeoutMs })
      lap('stopVerifiedMs')
      this.#checkLease(`hibernate tenant ${tenantId}`)
      const kept = await retireTenantDir(
        this.#parts.tenantDir,
        this.#parts.incarnation,
        async (retiredDir) =>
          // A copy is trusted by its replica listing, taken under the lease: none once it is lost.
          (await this.#parts.keepCopy(retiredDir)) && !this.#fenced,
      )
      lap('retireMs')
      if (kept) log.info('kept the hibernated file for the next wake on this machine')
      await this.#reportHibernated(nextWakeAt, this.#parts.metrics.take())
      lap('reportMs')
      log.info(
        { reason, nextWakeAt, ms: Date.now() - startedAtMs, ...timings, stop: phases },
        'hibernated',
      )
    } catch (err) {
      const errorCode = (err as { code?: unknown }).code
      const isStorage =
        typeof errorCode === 'string' &&
        (errorCode === 'REPLICA_NOT_VERIFIED' || errorCode.startsWith('STORAGE_'))
      code = this.#fenced ? EXIT_LEASE_LOST : isStorage ? EXIT_STORAGE_UNAVAILABLE : EXIT_FAILED
      log.error({ err, reason }, 'hibernate failed; local files kept')
      await replicator.then((started) => started.stop()).catch(() => undefined)
    }
    this.#parts.releaseLease()
    this.#settle(code)
    return code
  }

  /** Nothing may be synced or deleted as this tenant's once its lease is lost. */
  #checkLease(doing: string): void {
    if (this.#fenced) {
      throw new WorkerError(
        'LEASE_LOST',
        `${doing}: the lease was lost meanwhile; local files kept`,
      )
    }
  }

  /**
   * The control plane counts a worker as hibernated only on this report, not on its exit code
   * (an app's `process.exit(0)` exits 0 too): a few tries before exiting without it.
   */
  async #reportHibernated(nextWakeAt: number | null, metrics: MetricsDelta): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.#parts.client.hibernated(nextWakeAt, metrics)
        return
      } catch (err) {
        if (attempt >= REPORT_ATTEMPTS) {
          // The files are safely in S3 already; the control plane restarts the tenant from there.
          this.#parts.log.warn({ err }, 'could not report hibernation')
          return
        }
        await delay(REPORT_RETRY_MS)
      }
    }
  }

  /** The fence outside a hibernation: engine closed, best-effort final sync before the deadline. */
  async #stopWriting(msLeft: (reserveMs: number) => number): Promise<number> {
    const { engine, replicator, log } = this.#parts
    this.#parts.quiesce()
    try {
      await engine.close({ timeoutMs: msLeft(FENCE_SYNC_RESERVE_MS) })
      const started = await Promise.race([replicator, expiresIn(msLeft(FENCE_EXIT_RESERVE_MS))])
      await started.stop({ timeoutMs: msLeft(FENCE_EXIT_RESERVE_MS) })
    } catch (err) {
      log.warn({ err }, 'fence: final sync incomplete; local files kept')
      void replicator.then((started) => started.kill(), () => undefined)
    }
    this.#parts.releaseLease()
    return EXIT_LEASE_LOST
  }
}

/** Rejects after `ms`: a bound on waiting for something that may never come. */
function expiresIn(ms: number): Promise<never> {
  return new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`not ready within ${ms} ms`)), ms).unref(),
  )
}
