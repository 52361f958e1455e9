import ms from 'ms'
import { EngineError } from './engine-error.js'

/** Milliseconds, or an `ms` string such as `'10m'`, `'2 hours'`, `'500ms'`. */
export type Duration = number | string

/**
 * Converts a {@link Duration} to whole milliseconds.
 *
 * @throws {EngineError} `INVALID_INPUT` for negative, non-finite or unparseable values.
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
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new EngineError(
      'INVALID_INPUT',
      `Expected \`${what}\` to be a duration (milliseconds from 0 or a string like '10m'), got \`${String(duration)}\` (${typeof duration})`,
    )
  }
  return Math.ceil(value)
}
