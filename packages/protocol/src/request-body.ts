import type { Context } from 'hono'
import { readBodyText } from './body-text.js'
import { describeValue } from './describe-value.js'
import { ProtocolError } from './protocol-error.js'

/** A JSON object as read from a request body. */
export type JsonObject = Record<string, unknown>

/**
 * Reads the request body as a JSON object. A missing body is `{}`; malformed JSON or a
 * non-object is a 400 (`BAD_REQUEST`) that names what was wrong.
 */
export async function readJsonObject(context: Context): Promise<JsonObject> {
  const text = await readBodyText(context)
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new ProtocolError(
      'BAD_REQUEST',
      `request body is not valid JSON: ${(err as Error).message}`,
    )
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(
      'BAD_REQUEST',
      `Expected the request body to be a JSON object, got ${describeValue(value)}`,
    )
  }
  return value as JsonObject
}

/** A required string field of at most `maxLength` characters. */
export function requireString(body: JsonObject, field: string, maxLength = 256): string {
  const value = body[field]
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new ProtocolError(
      'BAD_REQUEST',
      `Expected \`${field}\` to be a non-empty string of at most ${maxLength} characters, got ${describeValue(value)}`,
    )
  }
  return value
}

/** An optional integer within bounds; a numeric string (a query parameter) counts. */
export function optionalInteger(
  value: unknown,
  field: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined || value === null || value === '') return undefined
  const number = typeof value === 'string' ? Number(value) : value
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw new ProtocolError(
      'BAD_REQUEST',
      `Expected \`${field}\` to be an integer from ${min} to ${max}, got ${describeValue(value)}`,
    )
  }
  return number
}
