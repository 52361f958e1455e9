/** How often idleness is checked. */
export const IDLE_CHECK_INTERVAL_MS = 500

/** What the idle monitor needs to know about the worker. */
export interface IdleProbe {
  /** Runs executing or queued in this process, plus requests in flight. */
  readonly busyCount: () => number
  /** Epoch ms of the next durable timer, or null. */
  readonly nextWakeAt: () => Promise<number | null>
}

/**
 * Calls `onIdle` once the worker has had nothing running, nothing in flight and nothing due
 * within `idleMs` for `idleMs` in a row. A timer due later than that does not keep the worker
 * up: the control plane's scheduler wakes the tenant when it is due.
 */
export class IdleMonitor {
  readonly #probe: IdleProbe
  readonly #idleMs: number
  readonly #onIdle: () => Promise<boolean>
  readonly #clock: () => number
  #idleSinceMs: number | null = null
  #timer: NodeJS.Timeout | undefined
  #checking = false

  constructor(options: {
    probe: IdleProbe
    idleMs: number
    /** Resolves true if the worker stopped; false to keep watching. */
    onIdle: () => Promise<boolean>
    clock?: () => number
  }) {
    this.#probe = options.probe
    this.#idleMs = options.idleMs
    this.#onIdle = options.onIdle
    this.#clock = options.clock ?? Date.now
  }

  start(): void {
    this.#timer = setInterval(() => void this.check(), Math.min(IDLE_CHECK_INTERVAL_MS, this.#idleMs))
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  /** One idleness check. */
  async check(): Promise<void> {
    if (this.#checking) return
    this.#checking = true
    try {
      const now = this.#clock()
      const nextWakeAt = await this.#probe.nextWakeAt()
      const isIdle =
        this.#probe.busyCount() === 0 && (nextWakeAt === null || nextWakeAt > now + this.#idleMs)
      if (!isIdle) {
        this.#idleSinceMs = null
        return
      }
      this.#idleSinceMs ??= now
      if (now - this.#idleSinceMs >= this.#idleMs) {
        const stopped = await this.#onIdle()
        if (stopped) this.stop()
        else this.#idleSinceMs = null
      }
    } finally {
      this.#checking = false
    }
  }
}
