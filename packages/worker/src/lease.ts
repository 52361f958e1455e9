import { DEFAULT_TRANSACTION_TIMEOUT_MS } from '@litecell/engine'
import type { ControlClient, WorkerStatus } from './control-client.js'

/** How often the worker renews its lease, as a fraction of the lease TTL. */
export const DEFAULT_HEARTBEAT_FRACTION = 1 / 5
/** How often the fence deadline is checked. */
export const FENCE_CHECK_INTERVAL_MS = 100
/**
 * How soon a renewal that did not reach the control plane is tried again (at most the
 * heartbeat interval): a control plane restarting adopts its workers at their first heartbeat,
 * which must land well before they fence.
 */
export const RENEW_RETRY_MS = 1_000

/** Why the worker must stop writing. */
export type LeaseLossReason = 'revoked' | 'expiring'

/** Options of a {@link Lease}. */
export interface LeaseOptions {
  readonly client: ControlClient
  readonly ttlMs: number
  /**
   * The worker fences itself this long before its lease would expire, leaving time for a
   * final sync while it still owns the replica path.
   */
  readonly fenceMarginMs: number
  readonly status: () => Promise<WorkerStatus>
  readonly onLost: (reason: LeaseLossReason, validUntilMs: number) => void
  /** A renewal failed; the status it carried was not delivered. */
  readonly onRenewFailed?: (status: WorkerStatus) => void
  readonly clock?: () => number
}

/**
 * The worker's lease on its tenant: renewed by heartbeats, and self-fencing. The worker counts
 * its lease from the moment it *sent* a renewal that succeeded, which is never later than the
 * moment the control plane counts from, so the worker always believes its lease ends first.
 */
export class Lease {
  readonly #options: LeaseOptions
  readonly #clock: () => number
  #validUntilMs: number
  #heartbeat: NodeJS.Timeout | undefined
  #fenceCheck: NodeJS.Timeout | undefined
  #retry: NodeJS.Timeout | undefined
  #lost = false

  constructor(options: LeaseOptions, grantedAtMs: number) {
    if (!(options.fenceMarginMs > 0 && options.fenceMarginMs < options.ttlMs)) {
      throw new TypeError(
        `Expected \`fenceMarginMs\` to be between 0 and ttlMs (${options.ttlMs}), got \`${options.fenceMarginMs}\``,
      )
    }
    this.#options = options
    this.#clock = options.clock ?? Date.now
    this.#validUntilMs = grantedAtMs + options.ttlMs
  }

  /** Epoch ms until which this worker may write. */
  get validUntilMs(): number {
    return this.#validUntilMs
  }

  /** Starts renewing and watching the deadline. */
  start(): void {
    const heartbeatMs = Math.max(50, Math.floor(this.#options.ttlMs * DEFAULT_HEARTBEAT_FRACTION))
    this.#heartbeat = setInterval(() => void this.renew(), heartbeatMs)
    this.#fenceCheck = setInterval(() => this.#checkDeadline(), FENCE_CHECK_INTERVAL_MS)
  }

  /** Renews once now; failures only shorten the time left, a revocation fences at once. */
  async renew(): Promise<void> {
    if (this.#lost) return
    const sentAtMs = this.#clock()
    let status: WorkerStatus | undefined
    try {
      status = await this.#options.status()
      await this.#options.client.heartbeat(status)
      this.#validUntilMs = Math.max(this.#validUntilMs, sentAtMs + this.#options.ttlMs)
    } catch (err) {
      if (status) this.#options.onRenewFailed?.(status)
      if ((err as { code?: string }).code === 'LEASE_LOST') this.#lose('revoked')
      else this.#retrySoon()
    }
  }

  #retrySoon(): void {
    if (this.#lost || this.#retry || !this.#heartbeat) return
    const heartbeatMs = Math.max(50, Math.floor(this.#options.ttlMs * DEFAULT_HEARTBEAT_FRACTION))
    this.#retry = setTimeout(
      () => {
        this.#retry = undefined
        void this.renew()
      },
      Math.min(RENEW_RETRY_MS, heartbeatMs),
    )
  }

  /** Stops renewing (the worker is stopping on its own terms). */
  stop(): void {
    clearInterval(this.#heartbeat)
    clearInterval(this.#fenceCheck)
    clearTimeout(this.#retry)
    this.#heartbeat = undefined
  }

  #checkDeadline(): void {
    if (this.#clock() >= this.#validUntilMs - this.#options.fenceMarginMs) this.#lose('expiring')
  }

  #lose(reason: LeaseLossReason): void {
    if (this.#lost) return
    this.#lost = true
    this.stop()
    this.#options.onLost(reason, this.#validUntilMs)
  }
}

/**
 * The SQL time budget of one `ctx.transaction`, which blocks the event loop: half of what the
 * lease tolerates (a renewal must land within `ttl - fenceMargin` of the previous one, and a
 * block may start just before a heartbeat), at most the engine's default. With the default
 * lease (10 s, fence margin 4 s, heartbeat every 2 s) that is the default, 2 s.
 */
export function transactionBudgetMs(leaseTtlMs: number, fenceMarginMs: number): number {
  const toleratedMs = leaseTtlMs - fenceMarginMs - leaseTtlMs * DEFAULT_HEARTBEAT_FRACTION
  return Math.max(100, Math.min(DEFAULT_TRANSACTION_TIMEOUT_MS, Math.floor(toleratedMs / 2)))
}
