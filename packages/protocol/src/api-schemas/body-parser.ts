import { z } from 'zod'
import { describeValue } from '../describe-value.js'
import { ProtocolError, type ProtocolErrorCode } from '../protocol-error.js'

/**
 * The API's request schemas are zod schemas (the OpenAPI document is generated from the same
 * objects, so what is documented is what is checked). Their error messages are *expectations*
 * ("a non-empty string of at most 256 characters"); {@link parseBody} turns the first issue
 * into the API's message, naming the field by its path and quoting the value it got:
 * "Expected `runs[1].workflow` to be a non-empty string …, got `7` (number)".
 */

/** Expectations whose failure has its own code instead of `BAD_REQUEST` (a tenant id's). */
const CODED_EXPECTATIONS = new Map<string, ProtocolErrorCode>()

/** An expectation whose failure answers `code` (registered once, at module load). */
export function codedExpectation(code: ProtocolErrorCode, expectation: string): string {
  CODED_EXPECTATIONS.set(expectation, code)
  return expectation
}

/** A non-empty string of at most `maxLength` characters. */
export function text(maxLength = 256): z.ZodString {
  const error = `a non-empty string of at most ${maxLength} characters`
  return z.string({ error }).min(1, { error }).max(maxLength, { error })
}

/** An integer from `min` to `max`. */
export function integer(min: number, max: number): z.ZodInt {
  const error = `an integer from ${min} to ${max}`
  return z.int({ error }).min(min, { error }).max(max, { error })
}

/**
 * Checks a request body (already read as JSON) against `schema`: its parsed value, or a
 * `ProtocolError` (400 `BAD_REQUEST`, or the expectation's own code) for the first issue.
 */
export function parseBody<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
): z.output<Schema> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  const path = issue.path.filter((key): key is string | number => typeof key !== 'symbol')
  if (issue.code === 'invalid_key') {
    // A bad key of a record (a label's): the key is what was wrong, and the expectation is
    // the key schema's (the issue's own message is the record's).
    const expected = issue.issues[0]?.message ?? issue.message
    const code = CODED_EXPECTATIONS.get(expected) ?? 'BAD_REQUEST'
    const field = pathText(path.slice(0, -1))
    const got = describeValue(path.at(-1))
    throw new ProtocolError(code, `Expected each key of \`${field}\` to be ${expected}, got ${got}`)
  }
  const got = describeValue(valueAt(value, path))
  const code = CODED_EXPECTATIONS.get(issue.message) ?? 'BAD_REQUEST'
  const message =
    path.length === 0
      ? `Expected the request body to be ${issue.message}, got ${got}`
      : `Expected \`${pathText(path)}\` to be ${issue.message}, got ${got}`
  throw new ProtocolError(code, message)
}

/** `runs[1].workflow` for `['runs', 1, 'workflow']`. */
function pathText(path: readonly (string | number)[]): string {
  return path
    .map((key, index) => (typeof key === 'number' ? `[${key}]` : index === 0 ? key : `.${key}`))
    .join('')
}

function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let current = value
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<string | number, unknown>)[key]
  }
  return current
}
