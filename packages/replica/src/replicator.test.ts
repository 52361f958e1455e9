import { existsSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { tenantReplica } from './replica-location.js'
import { replicate } from './replication.js'
import { restore } from './restore.js'
import { FAST_REPLICATION, TestFixture, createItemsDb, inspectItems, insertItems } from './test-fixture.js'

describe('replicate and stopVerified', () => {
  let fx: TestFixture
  beforeEach(async () => {
    fx = await TestFixture.create()
  })
  afterEach(async () => {
    await fx.dispose()
  })

  it('restores exactly the rows committed before a verified stop', async () => {
    const db = fx.path('live', 'tenant.db')
    const replica = tenantReplica(fx.s3.storage('test'), 'acme')
    await import('node:fs/promises').then((fs) => fs.mkdir(fx.path('live')))
    createItemsDb(db)
    const replicator = await replicate(db, replica, FAST_REPLICATION)
    insertItems(db, 1000)
    const result = await replicator.stopVerified()
    expect(result.durationMs).toBeLessThan(5_000)
    const target = fx.path('restored', 'tenant.db')
    expect(await restore(replica, target)).toEqual({ restored: true })
    expect(inspectItems(target)).toEqual({ rows: 1000, integrity: 'ok' })
    expect(existsSync(db)).toBe(true)
  })
})
