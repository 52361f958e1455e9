/** How far back the fleet summary looks. */
export const RECENT_WINDOW_MS = 60 * 60 * 1000
/** Most durations kept per window (a burst of wakes beyond it keeps the newest). */
const MAX_KEPT = 100_000

/** What {@link RecentDurations.summary} reports. */
export interface DurationSummary {
  /** Events in the window. */
  count: number
  /** Median duration of those events, or null without any. */
  p50Ms: number | null
}

/**
 * Durations of recent events (wakes, hibernations) over a sliding window, for the fleet
 * summary's "last hour with p50". Prometheus histograms keep buckets since start, which
 * cannot answer "in the last hour" by themselves.
 */
export class RecentDurations {
  readonly #windowMs: number
  readonly #clock: () => number
  #events: { atMs: number; durationMs: number }[] = []

  constructor(options: { windowMs?: number; clock?: () => number } = {}) {
    this.#windowMs = options.windowMs ?? RECENT_WINDOW_MS
    this.#clock = options.clock ?? Date.now
  }

  record(durationMs: number): void {
    this.#events.push({ atMs: this.#clock(), durationMs })
    if (this.#events.length > MAX_KEPT) this.#events = this.#events.slice(-MAX_KEPT)
  }

  summary(): DurationSummary {
    const since = this.#clock() - this.#windowMs
    const firstKept = this.#events.findIndex((event) => event.atMs >= since)
    this.#events = firstKept < 0 ? [] : this.#events.slice(firstKept)
    const sorted = this.#events.map((event) => event.durationMs).sort((a, b) => a - b)
    if (sorted.length === 0) return { count: 0, p50Ms: null }
    const middle = Math.floor(sorted.length / 2)
    const p50Ms = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
    return { count: sorted.length, p50Ms: Math.round(p50Ms) }
  }
}
