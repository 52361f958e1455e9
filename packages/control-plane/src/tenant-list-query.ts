import { describeValue } from '@litecell/protocol'
import { ControlPlaneError } from './control-plane-error.js'
import type { TenantState } from './tenant-record.js'

/** Largest page of `GET /v1/tenants`. */
export const MAX_TENANT_PAGE = 1_000
const STATES: readonly TenantState[] = ['hibernated', 'starting', 'active', 'stopping', 'failed']

/** Where a page of tenants starts: after this tenant in (createdAt, id) order. */
export interface TenantCursor {
  readonly createdAt: number
  readonly id: string
}

/** Filters and page of `GET /v1/tenants?state=&label.<k>=&limit=&cursor=`. */
export interface TenantListQuery {
  readonly state?: TenantState
  readonly labels: Readonly<Record<string, string>>
  /** Absent: every matching tenant (the list before pagination existed). */
  readonly limit?: number
  readonly after?: TenantCursor
}

/**
 * Validates the query string of the tenant list. Without `limit` and `cursor` the answer is
 * every matching tenant, as before pagination, so existing clients see no change.
 *
 * @throws {ControlPlaneError} `BAD_REQUEST` quoting the bad value.
 */
export function parseTenantListQuery(query: Readonly<Record<string, string>>): TenantListQuery {
  const labels: Record<string, string> = {}
  for (const [key, value] of Object.entries(query)) {
    if (key.startsWith('label.') && key.length > 'label.'.length) labels[key.slice('label.'.length)] = value
  }
  const state = query.state || undefined
  if (state !== undefined && !STATES.includes(state as TenantState)) {
    throw new ControlPlaneError('BAD_REQUEST', `Expected \`state\` to be one of ${STATES.join(', ')}, got ${describeValue(state)}`)
  }
  let limit: number | undefined
  if (query.limit !== undefined && query.limit !== '') {
    limit = Number(query.limit)
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TENANT_PAGE) {
      throw new ControlPlaneError('BAD_REQUEST', `Expected \`limit\` to be an integer from 1 to ${MAX_TENANT_PAGE}, got ${describeValue(query.limit)}`)
    }
  }
  const after = query.cursor ? decodeTenantCursor(query.cursor) : undefined
  return { state: state as TenantState | undefined, labels, limit: limit ?? (after ? 50 : undefined), after }
}

/** The opaque `nextCursor` of a page that ended at this tenant. */
export function encodeTenantCursor(cursor: TenantCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url')
}

function decodeTenantCursor(text: string): TenantCursor {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(text, 'base64url').toString()) as unknown[]
    if (typeof createdAt === 'number' && Number.isSafeInteger(createdAt) && typeof id === 'string') return { createdAt, id }
  } catch {
    // fall through to the error below
  }
  throw new ControlPlaneError('BAD_REQUEST', `Expected \`cursor\` to be a nextCursor from a previous page, got ${describeValue(text)}`)
}
