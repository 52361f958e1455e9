import {
  DeleteObjectsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { s3ClientConfig } from './s3-client.js'
import { TestFixture } from '@litecell/testkit/replica'

// These pin the litecell patch of s3rver 3.7.1 (patches/s3rver@3.7.1.patch).
describe('embedded S3 (patched s3rver)', () => {
  let fx: TestFixture
  let client: S3Client
  const bucket = 'litecell'
  const put = (Key: string): Promise<unknown> =>
    client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }))

  beforeAll(async () => {
    fx = await TestFixture.create('embedded-s3')
    client = new S3Client(s3ClientConfig(fx.s3.storage()))
  })
  afterAll(async () => {
    client.destroy()
    await fx.dispose()
  })

  it('listens on loopback and hands out a storage config for its bucket', () => {
    expect(fx.s3.endpoint).toBe(`http://127.0.0.1:${fx.s3.port}`)
    expect(fx.s3.storage('p')).toMatchObject({
      endpoint: fx.s3.endpoint,
      bucket,
      prefix: 'p',
      region: 'us-east-1',
    })
  })

  it('lists common prefixes whose objects all sit deeper (Litestream generations)', async () => {
    await put('t/generations/aaaa/snapshots/00000000.snapshot.lz4')
    await put('t/generations/bbbb/wal/00000000_00000000.wal.lz4')
    await put('t/generations/cccc.txt')
    const listing = await client.send(
      new ListObjectsCommand({ Bucket: bucket, Prefix: 't/generations/', Delimiter: '/' }),
    )
    expect(listing.CommonPrefixes?.map((p) => p.Prefix)).toEqual([
      't/generations/aaaa/',
      't/generations/bbbb/',
    ])
    expect(listing.Contents?.map((c) => c.Key)).toEqual(['t/generations/cccc.txt'])
  })

  it('deletes many keys of one folder in one request without a 500', async () => {
    const keys = Array.from(
      { length: 200 },
      (_, i) => `race/wal/${String(i).padStart(4, '0')}.wal.lz4`,
    )
    for (let i = 0; i < keys.length; i += 20) await Promise.all(keys.slice(i, i + 20).map(put))
    const result = await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })) },
      }),
    )
    expect(result.Errors ?? []).toEqual([])
    const left = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'race/' }))
    expect(left.KeyCount).toBe(0)
  })

  it('pages ListObjectsV2 with continuation tokens', async () => {
    await Promise.all(['page/a', 'page/b', 'page/c'].map(put))
    const keys: string[] = []
    let token: string | undefined
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: 'page/',
          MaxKeys: 2,
          ContinuationToken: token,
        }),
      )
      keys.push(...(page.Contents ?? []).map((c) => c.Key!))
      token = page.NextContinuationToken
    } while (token)
    expect(keys).toEqual(['page/a', 'page/b', 'page/c'])
  })

  it('never exposes the truncated body of an upload aborted mid-request', async () => {
    const url = new URL(`${fx.s3.endpoint}/${bucket}/aborted/object`)
    await new Promise<void>((resolve) => {
      const request = httpRequest(url, { method: 'PUT', headers: { 'content-length': 1_000 } })
      request.on('error', () => resolve())
      request.write(Buffer.alloc(100, 1), () => {
        request.destroy()
        resolve()
      })
    })
    await put('aborted/other')
    const listing = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'aborted/' }),
    )
    expect(listing.Contents?.map((c) => c.Key)).toEqual(['aborted/other'])
  })

  it('reports LastModified with millisecond precision', async () => {
    const before = Date.now()
    await put('ms/one')
    const listing = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'ms/' }))
    const lastModified = listing.Contents?.[0]?.LastModified?.getTime() ?? 0
    expect(Math.abs(lastModified - before)).toBeLessThan(1_000)
    expect(lastModified % 1_000).not.toBe(0)
  })

  it('serves the same data again after a restart on the same port', async () => {
    await put('restart/kept')
    const port = fx.s3.port
    await fx.stopS3()
    await fx.restartS3()
    expect(fx.s3.port).toBe(port)
    client.destroy()
    client = new S3Client(s3ClientConfig(fx.s3.storage()))
    const listing = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'restart/' }),
    )
    expect(listing.Contents?.map((c) => c.Key)).toEqual(['restart/kept'])
  })
})
