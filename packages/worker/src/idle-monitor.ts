/** How often idleness is checked. */
export const IDLE_CHECK_INTERVAL_MS = 500

/** What the idle monitor needs to know about the worker. */
export interface IdleProbe {
  /** Runs executing or queued in this process, plus requests in flight. */
  readonly busyCount: () => number
  /** Epoch ms of the last request or run transition, however short-lived. */
  readonly lastActivityMs: () => number
  /** Epoch ms of the next durable timer, or null. */
  readonly nextWakeAt: () => Promise<number | null>
}

/**
 * Calls `onIdle` once the worker has had nothing running, nothing in flight and nothing due
 * within `idleMs` for `idleMs`. Activity is what happened since the last check, not only what
 * a check happens to see: a tenant serving a stream of short requests is busy even if every
 * check falls between two of them. A timer due later than `idleMs` does not keep the worker
 * up: the control plane's scheduler wakes the tenant when it is due.
 */
export class IdleMonitor {
  readonly #probe: IdleProbe
  readonly #idleMs: number
  readonly #onIdle: () => Promise<boolean>
  readonly #clock: () => number
  /** When a check last saw work in progress. */
  #busySeenMs: number
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
    this.#busySeenMs = this.#clock()
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
      if (this.#probe.busyCount() > 0) {
        this.#busySeenMs = now
        return
      }
      const quietSinceMs = Math.max(this.#busySeenMs, this.#probe.lastActivityMs())
      if (now - quietSinceMs < this.#idleMs) return
      const nextWakeAt = await this.#probe.nextWakeAt()
      if (nextWakeAt !== null && nextWakeAt <= now + this.#idleMs) return
      if (await this.#onIdle()) this.stop()
      else this.#busySeenMs = this.#clock()
    } finally {
      this.#checking = false
    }
  }
}

/** A worker hands its slot over only after this long with no request and no run change. */
export const HAND_OVER_QUIET_MS = 1_000

/**
 * Whether the engine could stop now without delaying anything: no run executing or queued,
 * no timer or schedule fire due. A closed engine is not idle (it is stopping already).
 */
export async function isEngineIdle(
  engine: { activeRuns(): number; nextWakeAt(): Promise<number | null> },
  nowMs = Date.now(),
): Promise<boolean> {
  if (engine.activeRuns() > 0) return false
  const nextWakeAt = await engine.nextWakeAt().catch(() => nowMs)
  return nextWakeAt === null || nextWakeAt > nowMs
}
