/** setTimeout's longest delay; longer timers re-arm when they fire early. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1

/**
 * The one in-process timer behind all durable timers of an engine: it is armed for the
 * earliest `wake_at` and, when it fires, the engine schedules the due runs and re-arms it
 * for the next one. The timers themselves live in `lc_runs.wake_at`, so nothing is lost when
 * the process goes away.
 */
export class DurableTimer {
  readonly #clock: () => number
  readonly #onDue: () => void
  #timer: NodeJS.Timeout | null = null
  #atMs = Number.POSITIVE_INFINITY

  constructor(clock: () => number, onDue: () => void) {
    this.#clock = clock
    this.#onDue = onDue
  }

  /** Makes sure the timer fires no later than `atMs` (epoch ms by the engine's clock). */
  arm(atMs: number): void {
    if (atMs >= this.#atMs) return
    this.disarm()
    this.#atMs = atMs
    const delayMs = Math.min(Math.max(0, atMs - this.#clock()), MAX_TIMEOUT_MS)
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#atMs = Number.POSITIVE_INFINITY
      this.#onDue()
    }, delayMs)
  }

  /** Cancels the pending timer (the durable timers stay in the database). */
  disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#atMs = Number.POSITIVE_INFINITY
  }
}
