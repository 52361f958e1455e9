import { describe, expect, it } from 'vitest'
import { isReplicaError } from './replica-error.js'
import { controlPlaneReplica, replicaKeyPrefix, tenantReplica } from './replica-location.js'
import { validateStorageConfig } from './storage-config.js'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return isReplicaError(err) ? err.code : 'not a ReplicaError'
  }
  return undefined
}

describe('storage config', () => {
  it('is normalized: the prefix loses its surrounding slashes', () => {
    expect(
      validateStorageConfig({ bucket: 'tenants', prefix: '/prod/', region: 'eu-west-1' }),
    ).toEqual({ bucket: 'tenants', prefix: 'prod', region: 'eu-west-1' })
  })

  it('rejects a bad endpoint and a lone secret with INVALID_CONFIG', () => {
    const base = { bucket: 'b-1', prefix: '', region: 'us-east-1' }
    expect(codeOf(() => validateStorageConfig({ ...base, endpoint: 'minio:9000' }))).toBe(
      'INVALID_CONFIG',
    )
    expect(codeOf(() => validateStorageConfig({ ...base, secretAccessKey: 'x' }))).toBe(
      'INVALID_CONFIG',
    )
  })
})

describe('replica locations', () => {
  const storage = { bucket: 'litecell', prefix: 'prod', region: 'us-east-1' }

  it('puts tenants under <prefix>/tenants/<id> and the registry under <prefix>/control-plane', () => {
    expect(tenantReplica(storage, 'acme-1').path).toBe('prod/tenants/acme-1')
    expect(tenantReplica({ ...storage, prefix: '' }, 'acme').path).toBe('tenants/acme')
    expect(controlPlaneReplica(storage).path).toBe('prod/control-plane')
  })

  it('accepts only slugs as tenant ids', () => {
    for (const bad of ['', 'Acme', '-acme', 'a/b', '../x', 'a'.repeat(64), 'a b']) {
      expect(codeOf(() => tenantReplica(storage, bad))).toBe('INVALID_CONFIG')
    }
    expect(codeOf(() => tenantReplica(storage, 'a'.repeat(63)))).toBeUndefined()
  })

  it('ends the key prefix with a slash so `a` never covers `ab`', () => {
    expect(replicaKeyPrefix(tenantReplica(storage, 'a'))).toBe('prod/tenants/a/')
  })
})
