import { describeValue } from './describe-value.js'
import { ProtocolError } from './protocol-error.js'

/**
 * Tenant ids are slugs: they become folder names, S3 key segments and pod names, so nothing
 * else may pass (ARCHITECTURE.md invariant 6).
 */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/

/** Whether `value` is a valid tenant id. */
export function isTenantId(value: unknown): value is string {
  return typeof value === 'string' && TENANT_ID_PATTERN.test(value)
}

/** Validates a tenant id from outside (`INVALID_TENANT_ID`, a 400, otherwise). */
export function parseTenantId(value: unknown): string {
  if (!isTenantId(value)) {
    throw new ProtocolError(
      'INVALID_TENANT_ID',
      `Expected a tenant id of lowercase letters, digits and dashes (1–63, not starting with a dash), got ${describeValue(value)}`,
    )
  }
  return value
}
