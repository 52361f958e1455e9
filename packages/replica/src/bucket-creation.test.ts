import { describe, expect, it } from 'vitest'
import { ensureBucketExists } from './bucket-creation.js'
import { ReplicaError } from './replica-error.js'
import { S3ResponseError } from './s3-http-client.js'

const storage = { bucket: 'b', prefix: '', region: 'us-east-1', endpoint: 'http://127.0.0.1:1' }
const missing = () => Promise.reject(new ReplicaError('STORAGE_BUCKET_MISSING', 'no bucket b'))
// The SDK names its errors by S3's code; the lean client sets `code` (and `name`) to it.
const sdkError = (name: string) => Object.assign(new Error(name), { name })
const leanError = (code: string) => new S3ResponseError(code, code, 409)

describe('ensureBucketExists', () => {
  it('creates nothing when the check passes, and passes on any other check failure', async () => {
    let created = 0
    await ensureBucketExists(
      storage,
      () => Promise.resolve(),
      async () => void created++,
    )
    expect(created).toBe(0)
    const denied = new ReplicaError('STORAGE_FORBIDDEN', 'denied')
    await expect(
      ensureBucketExists(
        storage,
        () => Promise.reject(denied),
        async () => void created++,
      ),
    ).rejects.toBe(denied)
    expect(created).toBe(0)
  })

  for (const [transport, error] of [
    ['SDK', sdkError],
    ['lean client', leanError],
  ] as const) {
    it(`${transport}: a bucket a concurrent creator made is success; a name another account holds is STORAGE_FORBIDDEN`, async () => {
      await ensureBucketExists(storage, missing, () =>
        Promise.reject(error('BucketAlreadyOwnedByYou')),
      )
      await expect(
        ensureBucketExists(storage, missing, () => Promise.reject(error('BucketAlreadyExists'))),
      ).rejects.toMatchObject({
        code: 'STORAGE_FORBIDDEN',
        message: expect.stringContaining('taken by another account'),
      })
      await expect(
        ensureBucketExists(storage, missing, () => Promise.reject(error('InvalidBucketName'))),
      ).rejects.toMatchObject({
        code: 'STORAGE_UNAVAILABLE',
        message: expect.stringContaining('create bucket b'),
      })
    })
  }
})
