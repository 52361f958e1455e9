/** How long identical log lines are folded into one. */
export const DEFAULT_REPEAT_WINDOW_MS = 60_000
/** Most distinct lines remembered at once (the oldest is forgotten first). */
export const DEFAULT_MAX_REPEAT_KEYS = 1_000

/**
 * Folds repeats of an identical log line: the first occurrence of a key is written, later
 * ones within `windowMs` are only counted, and the first after the window is written with
 * that count. A client polling a failed tenant wrote 630 MB of log in 7 minutes, one error
 * with a stack per request (issue 9, item 14); with this it writes a line a minute.
 */
export class RepeatLimiter {
  readonly #windowMs: number
  readonly #maxKeys: number
  readonly #clock: () => number
  readonly #seen = new Map<string, { writtenAtMs: number; suppressed: number }>()

  constructor(options: { windowMs?: number; maxKeys?: number; clock?: () => number } = {}) {
    this.#windowMs = options.windowMs ?? DEFAULT_REPEAT_WINDOW_MS
    this.#maxKeys = options.maxKeys ?? DEFAULT_MAX_REPEAT_KEYS
    this.#clock = options.clock ?? Date.now
  }

  /**
   * Whether to write the line with this key now: null to drop it, otherwise how many repeats
   * were dropped since it was last written (0 the first time).
   */
  admit(key: string): number | null {
    const nowMs = this.#clock()
    const entry = this.#seen.get(key)
    if (entry && nowMs - entry.writtenAtMs < this.#windowMs) {
      entry.suppressed += 1
      return null
    }
    const suppressed = entry?.suppressed ?? 0
    this.#seen.delete(key)
    this.#seen.set(key, { writtenAtMs: nowMs, suppressed: 0 })
    if (this.#seen.size > this.#maxKeys) this.#seen.delete(this.#seen.keys().next().value!)
    return suppressed
  }
}
