import { EngineError } from './engine-error.js'

/** A value that survives `JSON.stringify` → `JSON.parse` unchanged. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/**
 * Serialises `value` to JSON text, refusing anything that would not round-trip: functions,
 * symbols, bigints, non-finite numbers, class instances (Date, Map, …) and cycles. `undefined`
 * object properties are dropped (as `JSON.stringify` does); `undefined` elsewhere is refused.
 *
 * @throws {EngineError} `code` (default `INVALID_INPUT`) naming `what` and the offending path.
 */
export function toJsonText(
  value: unknown,
  what: string,
  code: 'INVALID_INPUT' | 'NOT_SERIALIZABLE' = 'INVALID_INPUT',
): string {
  // Fast path for the common step results (measured on the per-step hot path).
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value === 'boolean' || value === null) return String(value)
  assertJson(value, what, '$', new Set(), code)
  return JSON.stringify(value)
}

/** Like {@link toJsonText} but `undefined` becomes SQL `NULL` (used for step results). */
export function toNullableJsonText(
  value: unknown,
  what: string,
  code: 'INVALID_INPUT' | 'NOT_SERIALIZABLE' = 'INVALID_INPUT',
): string | null {
  return value === undefined ? null : toJsonText(value, what, code)
}

/** Parses JSON text written by this engine; SQL `NULL` stands for `undefined`. */
export function fromJsonText(text: string | null | undefined): JsonValue | undefined {
  return text === null || text === undefined ? undefined : (JSON.parse(text) as JsonValue)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object'
  return typeof value
}

function fail(what: string, path: string, value: unknown, code: string): never {
  let shown: string
  try {
    shown = typeof value === 'function' ? '[function]' : String(value)
  } catch {
    shown = '[unprintable]'
  }
  throw new EngineError(
    code as 'INVALID_INPUT',
    `Expected ${what} to be JSON, got \`${shown.slice(0, 60)}\` (${describe(value)}) at ${path}`,
  )
}

function assertJson(
  value: unknown,
  what: string,
  path: string,
  seen: Set<object>,
  code: string,
): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (!Number.isFinite(value)) fail(what, path, value, code)
      return
    case 'object': {
      if (value === null) return
      if (seen.has(value)) fail(what, path, '[circular]', code)
      seen.add(value)
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          assertJson(value[i], what, `${path}[${i}]`, seen, code)
        }
      } else {
        const proto = Object.getPrototypeOf(value)
        if (proto !== Object.prototype && proto !== null) fail(what, path, value, code)
        for (const [key, item] of Object.entries(value)) {
          if (item !== undefined) assertJson(item, what, `${path}.${key}`, seen, code)
        }
      }
      seen.delete(value)
      return
    }
    default:
      fail(what, path, value, code)
  }
}
