import { describe, expect, it } from 'vitest'
import { isReplicaError } from './replica-error.js'
import { controlPlaneReplica, replicaKeyPrefix, tenantReplica } from './replica-location.js'
import { storageConfigFromEnv } from './storage-config.js'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return isReplicaError(err) ? err.code : 'not a ReplicaError'
  }
  return undefined
}

describe('storage config', () => {
  it('is null when neither bucket nor endpoint is configured', () => {
    expect(storageConfigFromEnv({ AWS_REGION: 'eu-west-1' })).toBeNull()
  })

  it('reads every variable', () => {
    expect(
      storageConfigFromEnv({
        LITECELL_S3_ENDPOINT: 'http://minio:9000',
        LITECELL_S3_BUCKET: 'tenants',
        LITECELL_S3_PREFIX: '/prod/',
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIA',
        AWS_SECRET_ACCESS_KEY: 'secret',
      }),
    ).toEqual({
      endpoint: 'http://minio:9000',
      bucket: 'tenants',
      prefix: 'prod',
      region: 'eu-west-1',
      accessKeyId: 'AKIA',
      secretAccessKey: 'secret',
    })
  })

  it('defaults bucket and region, and leaves credentials to the AWS chain', () => {
    expect(storageConfigFromEnv({ LITECELL_S3_ENDPOINT: 'http://127.0.0.1:9000' })).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'litecell',
      prefix: '',
      region: 'us-east-1',
    })
  })

  it('rejects a bad endpoint and a lone secret with INVALID_CONFIG', () => {
    expect(codeOf(() => storageConfigFromEnv({ LITECELL_S3_ENDPOINT: 'minio:9000' }))).toBe(
      'INVALID_CONFIG',
    )
    expect(
      codeOf(() => storageConfigFromEnv({ LITECELL_S3_BUCKET: 'b-1', AWS_SECRET_ACCESS_KEY: 'x' })),
    ).toBe('INVALID_CONFIG')
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
