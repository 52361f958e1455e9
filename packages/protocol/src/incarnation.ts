import { randomBytes } from 'node:crypto'

/**
 * An incarnation id: which life of a tenant id a tenant is. Deleting a tenant and creating
 * one with the same id gives the new one a fresh incarnation, so nothing of the old one (a
 * replica a crash left behind, a local folder, a worker still uploading) can pass for the new
 * tenant's state (issue 9, item 6). It is a key segment of the tenant's replica path and the
 * mark of its local folder: 16 lowercase hex digits.
 */
export const INCARNATION_PATTERN = /^[0-9a-f]{16}$/

/** Whether `value` is an incarnation id. */
export function isIncarnation(value: unknown): value is string {
  return typeof value === 'string' && INCARNATION_PATTERN.test(value)
}

/** A fresh, random incarnation id (64 bits: never the same twice for one tenant id). */
export function newIncarnation(): string {
  return randomBytes(8).toString('hex')
}
