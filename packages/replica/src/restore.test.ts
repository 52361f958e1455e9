import { existsSync, writeFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isReplicaError } from './replica-error.js'
import { replicaKeyPrefix, tenantReplica } from './replica-location.js'
import { replicate } from './replicate.js'
import { restore } from './restore.js'
import { withReplicaStore } from './store-access.js'
import {
  FAST_REPLICATION,
  TestFixture,
  createItemsDb,
  inspectItems,
  insertItems,
} from '@litecell/testkit/replica'
import { waitFor } from '@litecell/testkit'

describe('restore', { timeout: 120_000 }, () => {
  let fx: TestFixture
  beforeAll(async () => {
    fx = await TestFixture.create('restore')
  })
  afterAll(async () => {
    await fx.dispose()
  })

  it('answers restored:false for a replica with no backup yet, and writes nothing', async () => {
    const target = fx.path('empty', 'tenant.db')
    expect(await restore(tenantReplica(fx.s3.storage(), 'nobody'), target)).toEqual({
      restored: false,
    })
    expect(existsSync(target)).toBe(false)
    expect(existsSync(fx.path('empty'))).toBe(false)
  })

  it('restores the state at a point in time between two write phases', async () => {
    const replica = tenantReplica(fx.s3.storage(), 'pitr')
    await mkdir(fx.path('pitr'))
    const db = fx.path('pitr', 'tenant.db')
    createItemsDb(db)
    // An explicit retention (the point-in-time window) must reach Litestream intact.
    const replicator = await replicate(db, replica, { ...FAST_REPLICATION, retentionMs: 3_600_000 })
    const uploads = (): number =>
      replicator.logs().filter((line) => line.includes('wal segment written')).length
    insertItems(db, 100)
    const before = uploads()
    await waitFor(() => uploads() > before, { what: 'phase one upload' })
    const between = new Date(Date.now() + 1_000)
    await waitFor(() => Date.now() > between.getTime() + 1_000, {
      what: 'the clock to pass the cut',
    })
    insertItems(db, 50)
    await replicator.stopVerified()

    const atCut = fx.path('pitr-at', 'tenant.db')
    expect(await restore(replica, atCut, { at: between.toISOString() })).toEqual({ restored: true })
    expect(inspectItems(atCut)).toEqual({ rows: 100, integrity: 'ok' })
    const latest = fx.path('pitr-latest', 'tenant.db')
    expect(await restore(replica, latest)).toEqual({ restored: true })
    expect(inspectItems(latest)).toEqual({ rows: 150, integrity: 'ok' })
    const beforeAll = fx.path('pitr-before', 'tenant.db')
    expect(await restore(replica, beforeAll, { at: new Date(Date.now() - 3_600_000) })).toEqual({
      restored: false,
    })
  })

  it('restores the state at a time between two generations (the tenant was hibernated then)', async () => {
    const replica = tenantReplica(fx.s3.storage(), 'gaps')
    await mkdir(fx.path('gaps'))
    const first = fx.path('gaps', 'tenant.db')
    createItemsDb(first)
    const one = await replicate(first, replica, FAST_REPLICATION)
    insertItems(first, 30)
    await one.stopVerified()
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    const hibernated = new Date()
    await new Promise((resolve) => setTimeout(resolve, 1_200))

    // Woken again: restored into a fresh file, which Litestream replicates as a new generation.
    const second = fx.path('gaps-woken', 'tenant.db')
    expect(await restore(replica, second)).toEqual({ restored: true })
    const two = await replicate(second, replica, FAST_REPLICATION)
    insertItems(second, 20)
    await two.stopVerified()

    const atGap = fx.path('gaps-at', 'tenant.db')
    expect(await restore(replica, atGap, { at: hibernated })).toEqual({ restored: true })
    expect(inspectItems(atGap)).toEqual({ rows: 30, integrity: 'ok' })
    const atNow = fx.path('gaps-now', 'tenant.db')
    expect(await restore(replica, atNow, { at: new Date() })).toEqual({ restored: true })
    expect(inspectItems(atNow)).toEqual({ rows: 50, integrity: 'ok' })
  })

  it('refuses to overwrite an existing target', async () => {
    const target = fx.path('occupied', 'tenant.db')
    await mkdir(fx.path('occupied'))
    writeFileSync(target, 'keep me')
    const err = await restore(tenantReplica(fx.s3.storage(), 'pitr'), target).catch(
      (e: unknown) => e,
    )
    expect(isReplicaError(err) && err.code).toBe('RESTORE_FAILED')
    expect(String(err)).toMatch(/already exists/)
  })

  it('rejects a point in time that is not a time', async () => {
    const err = await restore(tenantReplica(fx.s3.storage(), 'pitr'), fx.path('x.db'), {
      at: 'yesterday',
    }).catch((e: unknown) => e)
    expect(isReplicaError(err) && err.code).toBe('INVALID_CONFIG')
    expect(String(err)).toMatch(/`yesterday` \(string\)/)
  })

  it('refuses a replica that holds objects but no generation it can restore, instead of starting empty', async () => {
    // Catches: "no restorable generation" read as "a new database" (restored: false), which
    // lets the caller start empty and replicate the empty file over the replica's objects.
    const replica = tenantReplica(fx.s3.storage(), 'snapshotless')
    await mkdir(fx.path('snapshotless'))
    const db = fx.path('snapshotless', 'tenant.db')
    createItemsDb(db)
    const replicator = await replicate(db, replica, FAST_REPLICATION)
    insertItems(db, 10)
    await replicator.stopVerified()
    const deleted = await withReplicaStore(replica.storage, async (store) => {
      const keys = (await store.list(replicaKeyPrefix(replica))).map((object) => object.key)
      return store.delete(keys.filter((key) => key.includes('/snapshots/')))
    })
    expect(deleted).toBeGreaterThan(0)

    const target = fx.path('snapshotless-restored', 'tenant.db')
    const err = await restore(replica, target).catch((e: unknown) => e)
    expect(isReplicaError(err) && err.code).toBe('REPLICA_UNRESTORABLE')
    expect(String(err)).toMatch(/none has a snapshot/)
    expect(existsSync(target)).toBe(false)
  })
})
