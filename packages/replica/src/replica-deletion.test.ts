import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { mkdir } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deleteReplica } from './replica-deletion.js'
import { type ReplicaLocation, tenantReplica } from './replica-location.js'
import { openReplicaStore, withReplicaStore } from './store-access.js'
import { replicate } from './replicate.js'
import { restorePoints } from './restore-points.js'
import { restore } from './restore.js'
import { s3ClientConfig } from './s3-client.js'
import {
  FAST_REPLICATION,
  TestFixture,
  createItemsDb,
  inspectItems,
  insertItems,
} from '@litecell/testkit/replica'

describe('deleteReplica and restorePoints', { timeout: 120_000 }, () => {
  let fx: TestFixture
  const replicas = new Map<string, ReplicaLocation>()

  // Three tenants whose ids prefix each other: `ab` is deleted; `a` and `abc` must survive.
  beforeAll(async () => {
    fx = await TestFixture.create('deletion')
    for (const [id, rows] of [
      ['a', 10],
      ['ab', 20],
      ['abc', 30],
    ] as const) {
      await mkdir(fx.path(id))
      const db = fx.path(id, 'tenant.db')
      createItemsDb(db)
      const replica = tenantReplica(fx.s3.storage('fleet'), id)
      const replicator = await replicate(db, replica, FAST_REPLICATION)
      insertItems(db, rows)
      await replicator.stopVerified()
      replicas.set(id, replica)
    }
  })
  afterAll(async () => {
    await fx.dispose()
  })

  it('lists generations and snapshots with their times', async () => {
    const points = await restorePoints(replicas.get('ab')!)
    expect(points.generations).toHaveLength(1)
    const [generation] = points.generations
    expect(generation!.id).toMatch(/^[0-9a-f]{16}$/)
    expect(generation!.snapshots[0]).toMatchObject({ index: 0 })
    expect(generation!.snapshots[0]!.sizeBytes).toBeGreaterThan(0)
    expect(points.earliestAt).toBe(generation!.snapshots[0]!.createdAt)
    expect(points.latestAt).toBe(generation!.updatedAt)
    expect(Date.parse(points.latestAt!)).toBeGreaterThanOrEqual(Date.parse(points.earliestAt!))
    expect(await restorePoints(tenantReplica(fx.s3.storage('fleet'), 'nobody'))).toEqual({
      generations: [],
      earliestAt: null,
      latestAt: null,
    })
  })

  it('removes only the objects of that tenant', async () => {
    const count = (prefix: string): Promise<number> =>
      withReplicaStore(fx.s3.storage(), async (store) => (await store.list(prefix)).length)
    const before = { a: await count('fleet/tenants/a/'), abc: await count('fleet/tenants/abc/') }
    const { deletedObjects } = await deleteReplica(replicas.get('ab')!)
    expect(deletedObjects).toBeGreaterThan(1)
    expect(await count('fleet/tenants/ab/')).toBe(0)
    expect({ a: await count('fleet/tenants/a/'), abc: await count('fleet/tenants/abc/') }).toEqual(
      before,
    )
    expect(await restore(replicas.get('ab')!, fx.path('gone.db'))).toEqual({ restored: false })
    for (const [id, rows] of [
      ['a', 10],
      ['abc', 30],
    ] as const) {
      const target = fx.path(`restored-${id}`, 'tenant.db')
      expect(await restore(replicas.get(id)!, target)).toEqual({ restored: true })
      expect(inspectItems(target)).toEqual({ rows, integrity: 'ok' })
    }
    expect(await deleteReplica(replicas.get('ab')!)).toEqual({ deletedObjects: 0 })
  })

  it('deletes in batches: every key of a batch boundary goes', async () => {
    const storage = fx.s3.storage()
    const keys = Array.from(
      { length: 7 },
      (_, i) => `bulk/tenants/many/generations/x/wal/${i}.wal.lz4`,
    )
    const store = await openReplicaStore(storage, { deleteBatchSize: 3 })
    try {
      const client = new S3Client(s3ClientConfig(storage))
      await Promise.all(
        keys.map((Key) =>
          client.send(new PutObjectCommand({ Bucket: storage.bucket, Key, Body: 'x' })),
        ),
      )
      client.destroy()
      expect(await store.delete(keys)).toBe(7)
      expect(await store.list('bulk/')).toEqual([])
    } finally {
      store.close()
    }
    await expect(openReplicaStore(storage, { deleteBatchSize: 1001 })).rejects.toThrow(TypeError)
  })
})
