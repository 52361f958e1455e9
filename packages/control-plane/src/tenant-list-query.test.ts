import { expect, test } from 'vitest'
import type { ControlPlaneError } from './control-plane-error.js'
import { encodeTenantCursor, parseTenantListQuery } from './tenant-list-query.js'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as ControlPlaneError).code
  }
  return undefined
}

test('no limit and no cursor means every tenant, as before pagination', () => {
  expect(parseTenantListQuery({})).toEqual({ state: undefined, labels: {}, limit: undefined, after: undefined })
})

test('state, labels, limit and cursor are read from the query string', () => {
  const cursor = encodeTenantCursor({ createdAt: 5, id: 'acme' })
  expect(parseTenantListQuery({ state: 'active', 'label.team': 'ml', limit: '20', cursor })).toEqual({
    state: 'active',
    labels: { team: 'ml' },
    limit: 20,
    after: { createdAt: 5, id: 'acme' },
  })
})

test('a bad state, limit or cursor is a 400, not a silent full list', () => {
  expect(codeOf(() => parseTenantListQuery({ state: 'asleep' }))).toBe('BAD_REQUEST')
  expect(codeOf(() => parseTenantListQuery({ limit: '0' }))).toBe('BAD_REQUEST')
  expect(codeOf(() => parseTenantListQuery({ limit: '1001' }))).toBe('BAD_REQUEST')
  expect(codeOf(() => parseTenantListQuery({ cursor: 'not-a-cursor' }))).toBe('BAD_REQUEST')
})
