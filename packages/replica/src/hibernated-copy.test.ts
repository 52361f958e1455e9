/**
 * The local copy a wake may use instead of a download (issue 12), against the real Litestream
 * and the embedded S3 server. Catches: a wake that trusts a copy the replica has moved past
 * (the older state would win and the newer writes would be lost), a copy used for another
 * replica, and a half-kept copy being used.
 */
import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { keepHibernatedCopy, litestreamDirOf, takeHibernatedCopy } from './hibernated-copy.js'
import { tenantReplica } from './replica-location.js'
import { replicate } from './replicate.js'
import { restore } from './restore.js'
import { restorePoints } from './restore-points.js'
import { openSqlite } from './sqlite-connection.js'
import {
  FAST_REPLICATION,
  TestFixture,
  createItemsDb,
  inspectItems,
  insertItems,
} from '@litecell/testkit/replica'
import { waitFor } from '@litecell/testkit'

describe('hibernated copy', { timeout: 120_000 }, () => {
  let fx: TestFixture
  beforeAll(async () => {
    fx = await TestFixture.create('hibernated-copy')
  })
  afterAll(async () => {
    await fx.dispose()
  })

  /** A "machine": a data folder holding the tenant's live file and its kept copy. */
  const machine = (name: string) => ({
    db: fx.path(name, 'tenant.db'),
    copy: fx.path(name, 'hibernated'),
  })

  /** Replicates `db`, adds `rows`, stops verified and keeps the copy, as a hibernating worker does. */
  async function hibernate(
    at: { db: string; copy: string },
    tenant: string,
    rows: number,
  ): Promise<void> {
    const replica = tenantReplica(fx.s3.storage(), tenant)
    const replicator = await replicate(at.db, replica, FAST_REPLICATION)
    insertItems(at.db, rows)
    await replicator.stopVerified()
    expect(await keepHibernatedCopy(at.db, at.copy, replica)).toBe(true)
    expect(existsSync(at.db)).toBe(false)
  }

  it('is used at the next wake on the same machine when nobody wrote the replica since', async () => {
    const a = machine('same-a')
    await mkdir(fx.path('same-a'))
    createItemsDb(a.db)
    await hibernate(a, 'same', 40)
    expect(await takeHibernatedCopy(a.copy, tenantReplica(fx.s3.storage(), 'same'), a.db)).toBe(
      'taken',
    )
    expect(inspectItems(a.db)).toEqual({ rows: 40, integrity: 'ok' })
    expect(existsSync(a.copy)).toBe(false)
  })

  // Catches: a take cut by a crash between moving the WAL and the database, after which every
  // wake refused the target (its WAL already there) and the tenant could not start again.
  it('finishes a take that a crash interrupted after the WAL had moved', async () => {
    const a = machine('resumed-a')
    await mkdir(fx.path('resumed-a'))
    createItemsDb(a.db)
    // Rows the stop leaves in the WAL (a Litestream killed after its proof does not checkpoint).
    await hibernate(a, 'resumed', 25)
    if (!existsSync(join(a.copy, 'tenant.db-wal'))) writeFileSync(join(a.copy, 'tenant.db-wal'), '')
    const record = JSON.parse(readFileSync(join(a.copy, 'copy.json'), 'utf8'))
    writeFileSync(join(a.copy, 'copy.json'), JSON.stringify({ ...record, wal: true }))
    renameSync(join(a.copy, 'tenant.db-wal'), `${a.db}-wal`)
    expect(await takeHibernatedCopy(a.copy, tenantReplica(fx.s3.storage(), 'resumed'), a.db)).toBe(
      'taken',
    )
    expect(inspectItems(a.db)).toEqual({ rows: 25, integrity: 'ok' })
  })

  // Catches: every wake from the copy starting a new generation, whose whole snapshot the next
  // hibernation had to upload and then download again for its proof (issue 12); and a
  // continued generation that a restore cannot replay to the newest rows.
  it('lets Litestream continue its generation at the next wake, and a restore still has every row', async () => {
    const replica = tenantReplica(fx.s3.storage(), 'continued')
    const a = machine('continued-a')
    await mkdir(fx.path('continued-a'))
    createItemsDb(a.db)
    // Checkpointed before replication: the generation's snapshot holds them, its WAL stays the
    // smaller part.
    insertItems(a.db, 500)
    const db = openSqlite(a.db)
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    db.close()
    await hibernate(a, 'continued', 20)
    for (const rows of [7, 3]) {
      expect(await takeHibernatedCopy(a.copy, replica, a.db)).toBe('taken')
      expect(existsSync(litestreamDirOf(a.db))).toBe(true)
      // A wake is a new process: a file of its own inode (this process still pins the old one,
      // and SQLite would share that pin's unlinked wal-index with the next connection).
      copyFileSync(a.db, `${a.db}.new`)
      renameSync(`${a.db}.new`, a.db)
      await hibernate(a, 'continued', rows)
    }
    const { generations } = await restorePoints(replica)
    expect(generations.map((generation) => generation.snapshots.length)).toEqual([1])
    const elsewhere = fx.path('continued-b', 'tenant.db')
    expect(await restore(replica, elsewhere)).toEqual({ restored: true })
    expect(inspectItems(elsewhere)).toEqual({ rows: 530, integrity: 'ok' })
  })

  // Catches: a generation continued however long its WAL grew, which every proof and every
  // restore elsewhere would replay in full.
  it('lets Litestream start a new generation once the WAL outweighs the snapshot', async () => {
    const replica = tenantReplica(fx.s3.storage(), 'outgrown')
    const a = machine('outgrown-a')
    await mkdir(fx.path('outgrown-a'))
    createItemsDb(a.db)
    const replicator = await replicate(a.db, replica, FAST_REPLICATION)
    await waitFor(() => replicator.logs().some((line) => line.includes('snapshot written')), {
      timeoutMs: 30_000,
    })
    // 10 MB of incompressible rows into the WAL, after a snapshot of an empty table.
    insertItems(a.db, 100, 100_000)
    await replicator.stopVerified()
    expect(await keepHibernatedCopy(a.db, a.copy, replica)).toBe(true)
    expect(JSON.parse(readFileSync(join(a.copy, 'copy.json'), 'utf8')).litestream).toBe(true)
    expect(await takeHibernatedCopy(a.copy, replica, a.db)).toBe('taken')
    expect(existsSync(litestreamDirOf(a.db))).toBe(false)
    expect(inspectItems(a.db)).toEqual({ rows: 100, integrity: 'ok' })
  })

  it('is refused once the tenant was woken and written on another machine: the newer state wins', async () => {
    const replica = tenantReplica(fx.s3.storage(), 'moved')
    const a = machine('moved-a')
    const b = machine('moved-b')
    await mkdir(fx.path('moved-a'))
    createItemsDb(a.db)
    await hibernate(a, 'moved', 10)
    // Machine B (another data folder, the same S3): no copy there, so it restores and writes.
    expect(await takeHibernatedCopy(b.copy, replica, b.db)).toBe('none')
    expect(await restore(replica, b.db)).toEqual({ restored: true })
    await hibernate(b, 'moved', 5)
    // Back on A: its copy (10 rows) is behind the replica (15 rows) and must not be used.
    expect(await takeHibernatedCopy(a.copy, replica, a.db)).toBe('stale')
    expect(existsSync(a.db)).toBe(false)
    expect(existsSync(a.copy)).toBe(false)
    expect(await restore(replica, a.db)).toEqual({ restored: true })
    expect(inspectItems(a.db)).toEqual({ rows: 15, integrity: 'ok' })
  })

  it('is refused for another replica, and a copy without its record is never used', async () => {
    const a = machine('other-a')
    await mkdir(fx.path('other-a'))
    createItemsDb(a.db)
    await hibernate(a, 'other', 3)
    expect(await takeHibernatedCopy(a.copy, tenantReplica(fx.s3.storage(), 'other-2'), a.db)).toBe(
      'stale',
    )
    expect(existsSync(a.db)).toBe(false)

    // A keep interrupted before its record was written: the file is there, the proof is not.
    const half = fx.path('half', 'hibernated')
    await mkdir(half, { recursive: true })
    writeFileSync(join(half, 'tenant.db'), 'not trusted')
    expect(
      await takeHibernatedCopy(
        half,
        tenantReplica(fx.s3.storage(), 'other'),
        fx.path('half', 'tenant.db'),
      ),
    ).toBe('none')
    expect(existsSync(fx.path('half', 'tenant.db'))).toBe(false)
    expect(existsSync(half)).toBe(false)
  })
})
