import { InvalidArgumentError } from 'commander'
import ms from 'ms'

/**
 * Parsers for commander options: each throws commander's `InvalidArgumentError`, which
 * commander reports as a usage error (exit 2) naming the option.
 */

/** An integer option from `min` (to `max`), e.g. `--limit 20`. */
export function integerFrom(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  const range = max === Number.MAX_SAFE_INTEGER ? `from ${min} and up` : `from ${min} to ${max}`
  return function parseInteger(value: string): number {
    const number = Number(value)
    if (
      !/^-?\d+$/.test(value.trim()) ||
      !Number.isSafeInteger(number) ||
      number < min ||
      number > max
    ) {
      throw new InvalidArgumentError(`Expected an integer ${range}, got \`${value}\`.`)
    }
    return number
  }
}

/** A repeatable `--label key=value` option, collected into an object. */
export function collectLabel(
  value: string,
  labels: Record<string, string> = {},
): Record<string, string> {
  const index = value.indexOf('=')
  if (index <= 0) throw new InvalidArgumentError(`Expected a label as key=value, got \`${value}\`.`)
  return { ...labels, [value.slice(0, index)]: value.slice(index + 1) }
}

/** An ISO 8601 time option, e.g. `--at 2026-11-26T06:30:00Z`; kept as given, checked here. */
export function isoTime(value: string): string {
  if (Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError(
      `Expected an ISO time such as 2026-01-31T12:00:00Z, got \`${value}\`.`,
    )
  }
  return value
}

/**
 * A duration option, as `ctx.sleep` takes them: `5s`, `2m`, `1.5h`, `500ms`, or a number of
 * milliseconds (`1500`). Returns milliseconds.
 */
export function duration(value: string): number {
  const text = value.trim()
  const parsed = /^\d+$/.test(text) ? Number(text) : ms(text as ms.StringValue)
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    throw new InvalidArgumentError(
      `Expected a duration such as 5s, 2m, 1h or 1500 (milliseconds), got \`${value}\`.`,
    )
  }
  return Math.ceil(parsed)
}
