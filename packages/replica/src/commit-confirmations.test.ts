import { mkdir } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  FAST_REPLICATION,
  TestFixture,
  createItemsDb,
  inspectItems,
} from '@litecell/testkit/replica'
import { CommitConfirmations } from './commit-confirmations.js'
import { type ReplicaLocation, tenantReplica } from './replica-location.js'
import { replicate } from './replicate.js'
import type { Replicator } from './replicator.js'
import { restore } from './restore.js'
import { type SqliteConnection, openSqlite } from './sqlite-connection.js'

// Real Litestream and the embedded S3 server: a group's one waiter must cover every commit
// made before its callers asked, and no more waiters than turns may be created.
describe('commit confirmations', { timeout: 120_000 }, () => {
  let fx: TestFixture
  let dbPath: string
  let replica: ReplicaLocation
  let db: SqliteConnection
  let replicator: Replicator | undefined

  beforeEach(async () => {
    fx = await TestFixture.create('confirmations')
    await mkdir(fx.path('live'))
    dbPath = fx.path('live', 'tenant.db')
    replica = tenantReplica(fx.s3.storage('test'), 'acme')
    createItemsDb(dbPath)
    db = openSqlite(dbPath)
  })
  afterEach(async () => {
    db.close()
    replicator?.kill()
    replicator = undefined
    await fx.dispose()
  })

  function insert(id: number): void {
    db.prepare('INSERT INTO items (id, payload) VALUES (?, randomblob(50))').run(id)
  }

  // Catches: a group that reads its commit when it opens (missing the commits of callers that
  // joined later in the turn), or one waiter per caller.
  it('callers of one turn share one waiter, and its confirmation covers every commit before them', async () => {
    replicator = await replicate(dbPath, replica, FAST_REPLICATION)
    const confirmations = new CommitConfirmations(replicator)
    const waits: Promise<unknown>[] = []
    for (let id = 1; id <= 300; id++) {
      insert(id)
      waits.push(confirmations.confirmCommitted())
    }
    // A second turn forms a second group.
    await new Promise((resolve) => setImmediate(resolve))
    for (let id = 301; id <= 400; id++) {
      insert(id)
      waits.push(confirmations.confirmCommitted())
    }
    await Promise.all(waits)
    expect(confirmations.groups).toBe(2)
    expect(replicator.watcherStats().confirmed).toBe(2)

    // The machine is lost right now: S3 must hold all 400 rows.
    replicator.kill()
    const target = fx.path('restored', 'tenant.db')
    expect(await restore(replica, target)).toEqual({ restored: true })
    expect(inspectItems(target)).toEqual({ rows: 400, integrity: 'ok' })
  })

  it('an aborted caller stops waiting alone; a timeout is STORAGE_UNAVAILABLE', async () => {
    replicator = await replicate(dbPath, replica, FAST_REPLICATION)
    const confirmations = new CommitConfirmations(replicator)
    insert(1)
    const aborted = new AbortController()
    const leaving = confirmations.confirmCommitted({ signal: aborted.signal })
    const staying = confirmations.confirmCommitted()
    aborted.abort(new Error('client went away'))
    await expect(leaving).rejects.toThrow('client went away')
    await expect(staying).resolves.toMatchObject({ generation: expect.any(String) })

    await fx.stopS3()
    insert(2)
    await expect(confirmations.confirmCommitted({ timeoutMs: 500 })).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    })
    await fx.restartS3()
    await expect(confirmations.confirmCommitted()).resolves.toMatchObject({
      generation: expect.any(String),
    })
    expect(() => confirmations.confirmCommitted({ timeoutMs: -1 })).toThrow(TypeError)
  })
})
