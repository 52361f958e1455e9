import { availableParallelism } from 'node:os'
import { ControlPlaneError } from '../control-plane-error.js'

/** Longest a wake waits in the queue for a worker slot before answering 429 (LITECELL_WAKE_WAIT_MS). */
export const DEFAULT_WAKE_WAIT_MS = 60_000
/** How often a non-empty queue looks again for a slot to hand over (workers that went idle). */
export const HAND_OVER_RETRY_MS = 200

/**
 * Workers starting at once by default: a start (restore, open, Litestream) is mostly CPU, so
 * more than two per core only makes every start slower.
 */
export function defaultMaxStarting(): number {
  return Math.max(2, 2 * availableParallelism())
}

/** What the queue reads from the fleet, and how it asks for room. */
export interface WakeCapacity {
  /** Workers that exist (starting, active or stopping): each holds a slot. */
  used(): number
  /** Workers launched and not ready yet. */
  starting(): number
  /** Workers stopping: their slots are on their way back. */
  stopping(): number
  /** Asks up to `count` idle workers to hibernate now, so their slots go to the queue. */
  handOver(count: number): void
}

interface Waiter {
  readonly tenantId: string
  readonly enqueuedMs: number
  readonly grant: () => void
  readonly refuse: (err: Error) => void
  readonly timer: NodeJS.Timeout
}

/**
 * The fair queue in front of worker slots. At most `maxWorkers` workers exist, and at most
 * `maxStarting` of them are starting at once (wakes beyond what the CPUs absorb wait their
 * turn rather than all starting together). A wake that finds no room waits, first come first
 * served (one wake per tenant at a time, so FIFO across tenants is FIFO per tenant), up to
 * `waitMs`; past that it is refused with `OVER_CAPACITY` (429) and a Retry-After. While wakes
 * wait and every slot is taken, the queue asks the fleet to hand over idle workers' slots at
 * once instead of after their idle timeout.
 */
export class WakeQueue {
  readonly #maxWorkers: number
  readonly #maxStarting: number
  readonly #waitMs: number
  readonly #clock: () => number
  readonly #capacity: WakeCapacity
  readonly #waiters: Waiter[] = []
  /** Granted slots whose worker is not launched yet (counted until {@link launched}). */
  #granted = 0
  #retry: NodeJS.Timeout | undefined

  constructor(options: {
    maxWorkers: number
    maxStarting?: number | undefined
    waitMs?: number | undefined
    clock: () => number
    capacity: WakeCapacity
  }) {
    for (const [name, value] of [
      ['maxWorkers', options.maxWorkers],
      ['maxStarting', options.maxStarting ?? 1],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new TypeError(`Expected \`${name}\` to be an integer from 1 and up, got \`${value}\``)
      }
    }
    this.#maxWorkers = options.maxWorkers
    this.#maxStarting = options.maxStarting ?? defaultMaxStarting()
    this.#waitMs = options.waitMs ?? DEFAULT_WAKE_WAIT_MS
    this.#clock = options.clock
    this.#capacity = options.capacity
  }

  /** Wakes waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length
  }

  /**
   * Resolves when the tenant may launch a worker (a slot is reserved for it: call
   * {@link launched} once it is launched, or given up). Rejects with `OVER_CAPACITY` after
   * `waitMs` in the queue.
   */
  acquire(tenantId: string): Promise<void> {
    if (this.#waiters.length === 0 && this.#hasRoom()) {
      this.#granted += 1
      return Promise.resolve()
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        tenantId,
        enqueuedMs: this.#clock(),
        grant: () => {
          clearTimeout(waiter.timer)
          resolve()
        },
        refuse: reject,
        timer: setTimeout(() => this.#expire(waiter), this.#waitMs),
      }
      this.#waiters.push(waiter)
      this.pump()
    })
  }

  /** The reserved slot became a worker (counted by `used()`), or was given back. */
  launched(): void {
    this.#granted -= 1
    this.pump()
  }

  /**
   * Something changed (a worker exited, became ready, went idle): grant waiting wakes the
   * room there is, in order, and ask for hand-overs for the rest.
   */
  pump(): void {
    while (this.#waiters.length > 0 && this.#hasRoom()) {
      this.#granted += 1
      this.#waiters.shift()!.grant()
    }
    if (this.#waiters.length === 0) {
      clearTimeout(this.#retry)
      this.#retry = undefined
      return
    }
    const used = this.#capacity.used() + this.#granted
    if (used >= this.#maxWorkers) {
      // Slots already on their way back (stopping workers) serve the first waiters.
      const wanted = this.#waiters.length - this.#capacity.stopping()
      if (wanted > 0) this.#capacity.handOver(Math.min(wanted, this.#maxWorkers))
    }
    // Workers go idle without telling (a run ends between heartbeats): look again soon.
    this.#retry ??= setTimeout(() => {
      this.#retry = undefined
      this.pump()
    }, HAND_OVER_RETRY_MS)
  }

  /**
   * Refuses the tenant's wake if it is still waiting for a slot (the tenant is being deleted:
   * its delete need not wait up to `waitMs` for a slot it would give straight back).
   */
  withdraw(tenantId: string, reason: Error): void {
    const index = this.#waiters.findIndex((waiter) => waiter.tenantId === tenantId)
    if (index < 0) return
    const [waiter] = this.#waiters.splice(index, 1)
    clearTimeout(waiter!.timer)
    waiter!.refuse(reason)
    this.pump()
  }

  /** Refuses every waiting wake (the control plane is closing). */
  close(): void {
    clearTimeout(this.#retry)
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer)
      waiter.refuse(
        new ControlPlaneError('WORKER_UNAVAILABLE', 'the control plane is shutting down'),
      )
    }
  }

  #hasRoom(): boolean {
    const capacity = this.#capacity
    return (
      capacity.used() + this.#granted < this.#maxWorkers &&
      capacity.starting() + this.#granted < this.#maxStarting
    )
  }

  #expire(waiter: Waiter): void {
    const index = this.#waiters.indexOf(waiter)
    if (index < 0) return
    this.#waiters.splice(index, 1)
    const waitedMs = this.#clock() - waiter.enqueuedMs
    waiter.refuse(
      new ControlPlaneError(
        'OVER_CAPACITY',
        `wake tenant ${waiter.tenantId}: all ${this.#maxWorkers} worker slots stayed busy for ${waitedMs} ms (LITECELL_WAKE_WAIT_MS); retry later`,
        { retryAfterSeconds: this.#retryAfterSeconds() },
      ),
    )
  }

  /** A fair guess of when a slot frees: a second per full round of the queue, at least 1 s. */
  #retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.#waiters.length / this.#maxWorkers))
  }
}
