/** Summary statistics of latency samples, as the bench reports them. */

/** Count, mean and percentiles of a list of samples (ms unless the name says otherwise). */
export interface Summary {
  readonly n: number
  readonly mean: number
  readonly p50: number
  readonly p99: number
  readonly min: number
  readonly max: number
}

/** Rounds to `digits` decimals (NaN stays NaN, so a missing figure is visible). */
export function round(value: number, digits = 2): number {
  return Number.isFinite(value) ? Number(value.toFixed(digits)) : value
}

/** The nearest-rank percentile `p` (0–100) of already sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN
}

/** The median of unsorted samples (mean of the middle two for an even count). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2
}

/** Summarizes samples; figures are rounded to `digits` decimals. */
export function summarize(samples: readonly number[], digits = 2): Summary {
  const sorted = [...samples].sort((a, b) => a - b)
  const mean = sorted.reduce((sum, value) => sum + value, 0) / (sorted.length || 1)
  return {
    n: sorted.length,
    mean: round(sorted.length ? mean : Number.NaN, digits),
    p50: round(percentile(sorted, 50), digits),
    p99: round(percentile(sorted, 99), digits),
    min: round(sorted[0] ?? Number.NaN, digits),
    max: round(sorted[sorted.length - 1] ?? Number.NaN, digits),
  }
}

/** The per-field medians of several summaries (one per repeat). */
export function medianOf<T extends Record<string, number>>(repeats: readonly T[]): T {
  const first = repeats[0]
  if (!first) throw new Error('medianOf: no repeats')
  const result: Record<string, number> = {}
  for (const key of Object.keys(first)) result[key] = round(median(repeats.map((r) => r[key] ?? Number.NaN)), 2)
  return result as T
}

/** Pauses for `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Bytes as MB with two decimals. */
export function toMb(bytes: number): number {
  return round(bytes / (1024 * 1024), 2)
}
