import { ControlPlaneError } from '../control-plane-error.js'

/** Longest a wake waits for a free worker slot before answering 429. */
export const DEFAULT_SLOT_WAIT_MS = 15_000

/** How the slots make room: pick a victim and start its hibernation, and tell when it is gone. */
export interface Eviction<V> {
  /** Starts evicting the least recently used idle worker (not `exceptTenantId`'s); returns it. */
  evict(exceptTenantId: string): V | undefined
  /** Whether an evicted worker has exited (its slot is free). */
  isGone(victim: V): boolean
}

/** What eviction looks at in a worker. */
export interface EvictionCandidate {
  readonly tenantId: string
  readonly stopping: unknown
  readonly client: unknown
  readonly inflight: number
  readonly activeRuns: number
  readonly lastUsedMs: number
}

/**
 * The least recently used worker that is ready, not stopping and idle (no request in flight,
 * no run active), other than `exceptTenantId`'s.
 */
export function evictionVictim<V extends EvictionCandidate>(
  workers: Iterable<V>,
  exceptTenantId: string,
): V | undefined {
  let victim: V | undefined
  for (const live of workers) {
    if (live.tenantId === exceptTenantId || live.stopping || !live.client) continue
    if (live.inflight > 0 || live.activeRuns > 0) continue
    if (!victim || live.lastUsedMs < victim.lastUsedMs) victim = live
  }
  return victim
}

/**
 * At most `maxWorkers` workers at once. A wake reserves a slot before it launches, so waiters
 * woken together cannot all squeeze through the same freed slot; when all are taken, it
 * evicts the least recently used idle worker and waits (up to `slotWaitMs`, then
 * `OVER_CAPACITY`, a 429).
 */
export class WorkerSlots<V> {
  readonly #maxWorkers: number
  readonly #slotWaitMs: number
  readonly #clock: () => number
  #reserved = 0
  #waiters: (() => void)[] = []

  constructor(options: { maxWorkers: number; slotWaitMs?: number; clock: () => number }) {
    if (!Number.isInteger(options.maxWorkers) || options.maxWorkers < 1) {
      throw new TypeError(
        `Expected \`maxWorkers\` to be an integer from 1 and up, got \`${options.maxWorkers}\``,
      )
    }
    this.#maxWorkers = options.maxWorkers
    this.#slotWaitMs = options.slotWaitMs ?? DEFAULT_SLOT_WAIT_MS
    this.#clock = options.clock
  }

  /** Waits for a free slot (`used()` workers plus the reserved slots) and reserves it. */
  async reserve(tenantId: string, used: () => number, eviction: Eviction<V>): Promise<void> {
    const deadline = this.#clock() + this.#slotWaitMs
    let victim: V | undefined
    while (used() + this.#reserved >= this.#maxWorkers) {
      // One eviction per waiter at a time: a second victim only once ours has exited.
      if (victim === undefined || eviction.isGone(victim)) victim = eviction.evict(tenantId)
      const leftMs = deadline - this.#clock()
      if (leftMs <= 0) {
        throw new ControlPlaneError(
          'OVER_CAPACITY',
          `wake tenant ${tenantId}: all ${this.#maxWorkers} worker slots are busy; retry later`,
        )
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(leftMs, 1_000))
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    this.#reserved += 1
  }

  /** The reservation became a worker entry (counted by `used()`), or was given back. */
  release(): void {
    this.#reserved -= 1
  }

  /** A worker exited: waiters look again. */
  freed(): void {
    for (const wake of this.#waiters.splice(0)) wake()
  }
}
