import { randomBytes } from 'node:crypto'
import { describe } from '@litecell/worker'
import { ControlPlaneError } from './control-plane-error.js'

/** Tenant ids are slugs: they become folder names and S3 key segments. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/

/** Validates a client-supplied tenant id (`INVALID_TENANT_ID`, a 400, otherwise). */
export function parseTenantId(value: unknown): string {
  if (typeof value !== 'string' || !TENANT_ID_PATTERN.test(value)) {
    throw new ControlPlaneError(
      'INVALID_TENANT_ID',
      `Expected a tenant id of lowercase letters, digits and dashes (1–63, not starting with a dash), got ${describe(value)}`,
    )
  }
  return value
}

/** A fresh tenant id, for creation without one. */
export function newTenantId(): string {
  return `t-${randomBytes(6).toString('hex')}`
}
