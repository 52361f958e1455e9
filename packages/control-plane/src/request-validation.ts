import { describeValue, type JsonObject } from '@litecell/protocol'
import { ControlPlaneError } from './control-plane-error.js'

/** Most labels a tenant may carry. */
export const MAX_LABELS = 32
const LABEL_KEY = /^[a-z0-9][a-z0-9._/-]{0,62}$/i

/** Validates `labels`: a flat object of short strings. */
export function parseLabels(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ControlPlaneError('BAD_REQUEST', `Expected \`labels\` to be an object of strings, got ${describeValue(value)}`)
  }
  const entries = Object.entries(value as JsonObject)
  if (entries.length > MAX_LABELS) {
    throw new ControlPlaneError('BAD_REQUEST', `Expected at most ${MAX_LABELS} labels, got ${entries.length}`)
  }
  for (const [key, label] of entries) {
    if (!LABEL_KEY.test(key) || typeof label !== 'string' || label.length > 256) {
      throw new ControlPlaneError(
        'BAD_REQUEST',
        `Expected label \`${key.slice(0, 64)}\` to have a short key and a string value of at most 256 characters, got ${describeValue(label)}`,
      )
    }
  }
  return Object.fromEntries(entries) as Record<string, string>
}

/** Validates an optional ISO-8601 time such as fork's `at`. */
export function parseOptionalTime(value: unknown, field: string): Date | undefined {
  if (value === undefined || value === null) return undefined
  const time = typeof value === 'string' ? new Date(value) : undefined
  if (!time || Number.isNaN(time.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(value as string)) {
    throw new ControlPlaneError('BAD_REQUEST', `Expected \`${field}\` to be an ISO-8601 time, got ${describeValue(value)}`)
  }
  return time
}

/** A boolean query parameter: `true`/`1` or `false`/`0` (absent: false). */
export function parseFlag(value: string | undefined, field: string): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false
  if (value === 'true' || value === '1') return true
  throw new ControlPlaneError('BAD_REQUEST', `Expected \`${field}\` to be true or false, got ${describeValue(value)}`)
}
