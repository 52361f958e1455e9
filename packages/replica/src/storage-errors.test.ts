import { mkdir } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isReplicaError } from './replica-error.js'
import { tenantReplica } from './replica-location.js'
import { ensureBucket } from './store-access.js'
import { replicate } from './replicate.js'
import { restorePoints } from './restore-points.js'
import { restore } from './restore.js'
import { storageError } from './storage-error.js'
import type { StorageConfig } from './storage-config.js'
import { TestFixture, createItemsDb } from '@litecell/testkit/replica'

const SECRET = 'sekret-do-not-print-9f8e7d'

async function failureOf(
  attempt: () => Promise<unknown>,
): Promise<{ code: string; message: string }> {
  const err = await attempt().then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isReplicaError(err)) throw new Error(`expected a ReplicaError, got ${String(err)}`)
  expect(err.message).not.toContain(SECRET)
  expect(JSON.stringify(err)).not.toContain(SECRET)
  return { code: err.code, message: err.message }
}

describe('bad storage configuration', () => {
  let fx: TestFixture
  let db: string
  beforeAll(async () => {
    fx = await TestFixture.create('storage-errors')
    await mkdir(fx.path('live'))
    db = fx.path('live', 'tenant.db')
    createItemsDb(db)
  })
  afterAll(async () => {
    await fx.dispose()
  })

  it('names rejected credentials without printing the secret', async () => {
    // s3rver knows one access key id (S3RVER); it cannot check SigV4 secrets.
    const storage: StorageConfig = {
      ...fx.s3.storage(),
      accessKeyId: 'NOT-A-KEY',
      secretAccessKey: SECRET,
    }
    const replica = tenantReplica(storage, 'acme')
    for (const attempt of [
      () => ensureBucket(storage),
      () => restore(replica, fx.path('out', 'a.db')),
      () => replicate(db, replica),
      () => restorePoints(replica),
    ]) {
      const failure = await failureOf(attempt)
      expect(failure.code).toBe('STORAGE_AUTH_FAILED')
      expect(failure.message).toMatch(/credentials rejected.*InvalidAccessKeyId/)
      expect(failure.message).toMatch(/AWS_ACCESS_KEY_ID/)
    }
  })

  it('names a missing bucket, and ensureBucket creates it', async () => {
    const storage: StorageConfig = {
      ...fx.s3.storage(),
      bucket: 'not-there-yet',
      secretAccessKey: SECRET,
    }
    const replica = tenantReplica(storage, 'acme')
    for (const attempt of [
      () => restore(replica, fx.path('out', 'b.db')),
      () => replicate(db, replica),
      () => restorePoints(replica),
    ]) {
      const failure = await failureOf(attempt)
      expect(failure.code).toBe('STORAGE_BUCKET_MISSING')
      expect(failure.message).toMatch(/bucket not-there-yet does not exist/)
    }
    await ensureBucket(storage)
    await ensureBucket(storage)
    expect(await restore(replica, fx.path('out', 'c.db'))).toEqual({ restored: false })
  })

  it('names an unreachable endpoint, quickly', async () => {
    const storage: StorageConfig = {
      ...fx.s3.storage(),
      endpoint: 'http://127.0.0.1:9',
      secretAccessKey: SECRET,
    }
    const started = Date.now()
    for (const attempt of [
      () => ensureBucket(storage),
      () => restore(tenantReplica(storage, 'acme'), fx.path('out', 'd.db')),
    ]) {
      const failure = await failureOf(attempt)
      expect(failure.code).toBe('STORAGE_UNAVAILABLE')
      expect(failure.message).toMatch(
        /unreachable at s3:\/\/litecell\/ at http:\/\/127\.0\.0\.1:9.*ECONNREFUSED/,
      )
    }
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('rejects malformed configuration before any request', async () => {
    const failure = await failureOf(() =>
      ensureBucket({ ...fx.s3.storage(), bucket: 'Bad_Bucket' }),
    )
    expect(failure).toMatchObject({ code: 'INVALID_CONFIG' })
    expect(failure.message).toMatch(/`Bad_Bucket` \(string\)/)
    const half = await failureOf(() =>
      ensureBucket({ bucket: 'litecell', prefix: '', region: 'x', accessKeyId: 'A' }),
    )
    expect(half.message).toMatch(/must be given together/)
  })

  it('tells a missing permission apart from bad credentials', () => {
    // s3rver has no policies, so the store's AccessDenied answer is injected here.
    const denied = Object.assign(new Error('Access Denied'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    })
    const err = storageError(denied, 'list objects', {
      bucket: 'litecell',
      prefix: '',
      region: 'us-east-1',
    })
    expect(err.code).toBe('STORAGE_FORBIDDEN')
    expect(err.message).toMatch(/access denied by s3:\/\/litecell/)
    expect(err.hint).toMatch(/grant/)
  })
})
