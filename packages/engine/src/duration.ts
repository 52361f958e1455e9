import ms from 'ms'
import { EngineError } from './engine-error.js'

/**
 * Longest duration anything takes (a sleep, an event timeout, a run's `timeoutMs`, a debounce
 * delay): 100 years. A time `now + duration` past JavaScript's last date (year 275760) made
 * every view of the run throw `Invalid time value`, so one start could break a tenant's run list.
 */
export const MAX_DURATION_MS = 100 * 365 * 86_400_000

/** Milliseconds, or an `ms` string such as `'10m'`, `'2 hours'`, `'500ms'`. */
export type Duration = number | string

/**
 * Converts a {@link Duration} to whole milliseconds.
 *
 * @throws {EngineError} `INVALID_INPUT` for negative, unparseable values or ones past
 *   {@link MAX_DURATION_MS}.
 */
export function toMs(duration: Duration, what: string): number {
  let value: unknown = duration
  if (typeof duration === 'string') {
    try {
      value = ms(duration as ms.StringValue)
    } catch {
      value = Number.NaN // `ms` throws on '' instead of returning undefined
    }
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_DURATION_MS) {
    throw new EngineError(
      'INVALID_INPUT',
      `Expected \`${what}\` to be a duration (milliseconds from 0 to ${MAX_DURATION_MS}, or a string like '10m'), got \`${String(duration)}\` (${typeof duration})`,
    )
  }
  return Math.ceil(value)
}
