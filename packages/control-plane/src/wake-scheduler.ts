import type { Logger } from 'pino'
import type { Fleet } from './fleet/fleet.js'
import type { Registry } from './registry.js'
import { RepeatLimiter } from './repeat-limiter.js'

/** How often the scheduler looks for hibernated tenants that are due. */
export const DEFAULT_WAKE_INTERVAL_MS = 500

/**
 * Wakes hibernated tenants whose next durable timer (a `sleep`, an event timeout, a retry,
 * or a crash restart) is due, so they make progress with no client request; and reaps
 * workers whose lease ran out.
 */
export class WakeScheduler {
  readonly #registry: Registry
  readonly #fleet: Fleet
  readonly #log: Logger
  readonly #intervalMs: number
  readonly #waking = new Set<string>()
  /** A wake failing the same way again (storage down, a failed tenant) is one line a minute. */
  readonly #failures = new RepeatLimiter()
  #timer: NodeJS.Timeout | undefined

  constructor(options: { registry: Registry; fleet: Fleet; log: Logger; intervalMs?: number }) {
    this.#registry = options.registry
    this.#fleet = options.fleet
    this.#log = options.log
    this.#intervalMs = options.intervalMs ?? DEFAULT_WAKE_INTERVAL_MS
  }

  start(): void {
    this.#timer = setInterval(() => this.tick(), this.#intervalMs)
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  /** Starts a wake for every due tenant not already being woken. */
  tick(nowMs = Date.now()): void {
    this.#fleet.leases.reapExpired(nowMs)
    for (const tenantId of this.#registry.dueTenants(nowMs)) {
      if (this.#waking.has(tenantId)) continue
      this.#waking.add(tenantId)
      this.#fleet
        .ensureActive(tenantId)
        .then(
          () => this.#log.info({ tenantId }, 'woke due tenant'),
          (err: unknown) => {
            const message = (err as Error).message
            const repeats = this.#failures.admit(`${tenantId} ${message}`)
            if (repeats === null) return
            this.#log.warn({ tenantId, err: message, ...(repeats > 0 ? { repeats } : {}) }, 'scheduled wake failed')
          },
        )
        .finally(() => this.#waking.delete(tenantId))
    }
  }
}
