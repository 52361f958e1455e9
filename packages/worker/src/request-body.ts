import type { Context } from 'hono'
import { WorkerError } from './worker-error.js'

/** A JSON object as read from a request body. */
export type JsonObject = Record<string, unknown>

/**
 * Reads the request body as a JSON object. A missing body is `{}`; malformed JSON or a
 * non-object is a 400 (`INVALID_JSON`) that names what was wrong.
 */
export async function readJsonObject(context: Context): Promise<JsonObject> {
  const text = await context.req.text()
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new WorkerError('BAD_REQUEST', `request body is not valid JSON: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WorkerError('BAD_REQUEST', `Expected the request body to be a JSON object, got ${describe(value)}`)
  }
  return value as JsonObject
}

/** Describes a value and its type for validation messages: `0` (number). */
export function describe(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
  let shown: string
  try {
    shown = JSON.stringify(value) ?? String(value)
  } catch {
    shown = String(value)
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`
  return `\`${shown}\` (${type})`
}

/** A required string field. */
export function requireString(body: JsonObject, field: string, maxLength = 256): string {
  const value = body[field]
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new WorkerError(
      'BAD_REQUEST',
      `Expected \`${field}\` to be a non-empty string of at most ${maxLength} characters, got ${describe(value)}`,
    )
  }
  return value
}

/** An optional string field. */
export function optionalString(body: JsonObject, field: string, maxLength = 256): string | undefined {
  return body[field] === undefined ? undefined : requireString(body, field, maxLength)
}

/** An optional integer field within bounds. */
export function optionalInteger(
  value: unknown,
  field: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined || value === null || value === '') return undefined
  const number = typeof value === 'string' ? Number(value) : value
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw new WorkerError(
      'BAD_REQUEST',
      `Expected \`${field}\` to be an integer from ${min} to ${max}, got ${describe(value)}`,
    )
  }
  return number
}
