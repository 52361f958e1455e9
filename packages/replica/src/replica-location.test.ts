import { expect, test } from 'vitest'
import { replicaKeyPrefix, tenantReplica } from './replica-location.js'

const storage = { bucket: 'litecell', prefix: 'p', region: 'us-east-1' }

test("each incarnation of a tenant id has its own replica, inside the id's prefix", () => {
  const legacy = tenantReplica(storage, 'acme')
  const first = tenantReplica(storage, 'acme', '0123456789abcdef')
  const second = tenantReplica(storage, 'acme', 'fedcba9876543210')
  expect(legacy.path).toBe('p/tenants/acme')
  expect(first.path).toBe('p/tenants/acme/0123456789abcdef')
  // A new life never lists (so never restores) what an older one left behind.
  expect(replicaKeyPrefix(second).startsWith(replicaKeyPrefix(first))).toBe(false)
  // Deleting the id (its bare prefix) removes every incarnation's objects.
  expect(replicaKeyPrefix(first).startsWith(replicaKeyPrefix(legacy))).toBe(true)
})

test('an incarnation that is not 16 hex digits is INVALID_CONFIG (it becomes a key segment)', () => {
  for (const bad of ['..', 'ABCDEF0123456789', '0123', 'generations']) {
    expect(() => tenantReplica(storage, 'acme', bad)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    )
  }
})
