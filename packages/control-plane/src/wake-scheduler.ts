import type { Logger } from 'pino'
import type { Fleet } from './fleet/fleet.js'
import type { Registry } from './registry.js'
import { RepeatLimiter } from './repeat-limiter.js'

/** How often the scheduler looks for hibernated tenants that are due. */
export const DEFAULT_WAKE_INTERVAL_MS = 500
/** A scheduled wake that failed is not tried again for this long (others go first). */
export const FAILED_WAKE_BACKOFF_MS = 5_000

/**
 * Wakes hibernated tenants whose next durable timer (a `sleep`, an event timeout, a retry, a
 * schedule fire or a crash restart) is due, so they make progress with no client request;
 * and reaps workers whose lease ran out.
 *
 * At 10,000 tenants it never reads them all: each tick asks the registry (by its due index)
 * for the earliest due tenants, only as many as it may wake at once (`maxWakes`, the worker
 * cap), and wakes them in order of due time through the fleet's fair queue. A tenant whose
 * wake is under way, or failed a moment ago, is skipped without holding back the ones due
 * after it.
 */
export class WakeScheduler {
  readonly #registry: Registry
  readonly #fleet: Fleet
  readonly #log: Logger
  readonly #intervalMs: number
  readonly #maxWakes: number
  readonly #clock: () => number
  readonly #waking = new Set<string>()
  /** A wake failing the same way again (storage down, a failed tenant) is one line a minute. */
  readonly #failures = new RepeatLimiter()
  /** Tenants whose scheduled wake failed, until when they are skipped. */
  readonly #backoff = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined

  constructor(options: {
    registry: Registry
    fleet: Fleet
    log: Logger
    intervalMs?: number
    /** Most scheduled wakes under way at once (default 16: the default worker cap). */
    maxWakes?: number
    clock?: () => number
  }) {
    this.#registry = options.registry
    this.#fleet = options.fleet
    this.#log = options.log
    this.#intervalMs = options.intervalMs ?? DEFAULT_WAKE_INTERVAL_MS
    this.#maxWakes = Math.max(1, options.maxWakes ?? 16)
    this.#clock = options.clock ?? Date.now
  }

  start(): void {
    this.#timer = setInterval(() => this.tick(), this.#intervalMs)
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Scheduled wakes under way. */
  get waking(): number {
    return this.#waking.size
  }

  /** Starts wakes for the earliest due tenants, up to `maxWakes` under way. */
  tick(nowMs = this.#clock()): void {
    this.#fleet.leases.reapExpired(nowMs)
    for (const [tenantId, untilMs] of this.#backoff)
      if (untilMs <= nowMs) this.#backoff.delete(tenantId)
    const room = this.#maxWakes - this.#waking.size
    if (room <= 0) return
    // Skipped tenants (waking, backing off) are read too, so they never hide the ones after them.
    const due = this.#registry.dueTenants(nowMs, room + this.#waking.size + this.#backoff.size)
    let started = 0
    for (const tenantId of due) {
      if (started >= room) break
      if (this.#waking.has(tenantId) || this.#backoff.has(tenantId)) continue
      started += 1
      this.#wake(tenantId)
    }
  }

  #wake(tenantId: string): void {
    this.#waking.add(tenantId)
    this.#fleet
      .ensureActive(tenantId)
      .then(
        () => this.#log.info({ tenantId }, 'woke due tenant'),
        (err: unknown) => {
          this.#backoff.set(tenantId, this.#clock() + FAILED_WAKE_BACKOFF_MS)
          const message = (err as Error).message
          const repeats = this.#failures.admit(`${tenantId} ${message}`)
          if (repeats === null) return
          this.#log.warn({ tenantId, err: message, ...(repeats > 0 ? { repeats } : {}) }, 'scheduled wake failed')
        },
      )
      .finally(() => {
        this.#waking.delete(tenantId)
        // A slot may be free now: the next due tenant need not wait for the next interval.
        if (this.#timer) setImmediate(() => this.tick())
      })
  }
}
