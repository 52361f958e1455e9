import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isReplicaError } from './replica-error.js'
import { type ReplicaLocation, tenantReplica } from './replica-location.js'
import { replicate } from './replicate.js'
import { restore } from './restore.js'
import {
  FAST_REPLICATION,
  TestFixture,
  createItemsDb,
  inspectItems,
  insertItems,
} from '@litecell/testkit/replica'
import { waitFor } from '@litecell/testkit'

// Real processes on a shared machine: generous per-test time, one test at a time per file.
describe('replicate and stopVerified', { timeout: 120_000 }, () => {
  let fx: TestFixture
  let db: string
  let replica: ReplicaLocation

  beforeEach(async () => {
    fx = await TestFixture.create()
    await mkdir(fx.path('live'))
    db = fx.path('live', 'tenant.db')
    replica = tenantReplica(fx.s3.storage('test'), 'acme')
    createItemsDb(db)
  })
  afterEach(async () => {
    await fx.dispose()
  })

  async function restoredItems(): Promise<{ rows: number; integrity: string }> {
    const target = fx.path(`restored-${Date.now()}`, 'tenant.db')
    expect(await restore(replica, target)).toEqual({ restored: true })
    return inspectItems(target)
  }

  it('restores exactly the rows committed before a verified stop', async () => {
    const replicator = await replicate(db, replica, FAST_REPLICATION)
    insertItems(db, 1000)
    const result = await replicator.stopVerified()
    expect(result.durationMs).toBeLessThan(5_000)
    expect(result.verifiedAtMs).toBeGreaterThan(Date.now() - 60_000)
    expect(replicator.pid).toBeUndefined()
    expect(await restoredItems()).toEqual({ rows: 1000, integrity: 'ok' })
    expect(existsSync(db)).toBe(true)
  })

  // Catches a sync point that answers before the upload (a fork "now" missing recent runs) or
  // that stops replication on the way.
  it('syncVerified proves what was committed before it is in the replica, and replication goes on', async () => {
    const replicator = await replicate(db, replica, FAST_REPLICATION)
    insertItems(db, 500)
    const [first, second] = await Promise.all([replicator.syncVerified(), replicator.syncVerified()])
    expect(first!.durationMs).toBeGreaterThan(0)
    expect(second!.verifiedAtMs).toBeGreaterThanOrEqual(first!.verifiedAtMs)
    expect(await restoredItems()).toEqual({ rows: 500, integrity: 'ok' })
    expect(replicator.pid).toBeTypeOf('number')
    insertItems(db, 250)
    await replicator.syncVerified()
    expect(await restoredItems()).toEqual({ rows: 750, integrity: 'ok' })
    await replicator.stopVerified()
  })

  it('restores a 50 MB database exactly after a verified stop', async () => {
    const replicator = await replicate(db, replica, FAST_REPLICATION)
    insertItems(db, 50_000, 1_000, 5_000)
    await replicator.stopVerified({ timeoutMs: 60_000 })
    expect(await restoredItems()).toEqual({ rows: 50_000, integrity: 'ok' })
  }, 180_000)

  // Catches: a verified stop that waits for the first monitor tick of a Litestream started
  // just before (today's wake-then-hibernate), or that kills one mid-sync and loses data.
  it('stops a just-started replicator without waiting for its first monitor tick', async () => {
    const slowTick = { syncIntervalMs: 1_000, monitorIntervalMs: 20_000 }
    const replicator = await replicate(db, replica, slowTick)
    insertItems(db, 500)
    const result = await replicator.stopVerified()
    // Bound: the replaced process would open the database only after 20 s.
    expect(result.durationMs).toBeLessThan(slowTick.monitorIntervalMs)
    expect(replicator.logs().some((line) => line.includes('replaced by one that syncs at once'))).toBe(true)
    expect(await restoredItems()).toEqual({ rows: 500, integrity: 'ok' })
  })

  it('restarts a SIGKILLed Litestream and loses nothing committed', async () => {
    const restartErrors: string[] = []
    const replicator = await replicate(db, replica, {
      ...FAST_REPLICATION,
      onRestart: (err) => restartErrors.push(err.code),
    })
    insertItems(db, 300)
    const firstPid = replicator.pid
    expect(firstPid).toBeTypeOf('number')
    process.kill(firstPid!, 'SIGKILL')
    insertItems(db, 300)
    await waitFor(() => replicator.restarts >= 1 && replicator.pid !== undefined, {
      what: 'restart',
    })
    expect(replicator.pid).not.toBe(firstPid)
    expect(restartErrors).toEqual(['LITESTREAM_FAILED'])
    insertItems(db, 300)
    await replicator.stopVerified()
    expect(await restoredItems()).toEqual({ rows: 900, integrity: 'ok' })
  })

  it('keeps writes local while S3 is down and catches up once it is back', async () => {
    const replicator = await replicate(db, replica, FAST_REPLICATION)
    insertItems(db, 200)
    await fx.stopS3()
    insertItems(db, 200)
    await waitFor(() => replicator.logs().some((line) => /connection refused/i.test(line)), {
      what: 'litestream to notice the outage',
    })
    expect(inspectItems(db)).toEqual({ rows: 400, integrity: 'ok' })
    const linesBefore = replicator.logs().length
    await fx.restartS3()
    // No further write: Litestream alone would wait for the next change before retrying the
    // upload; the stall watch nudges it.
    await waitFor(
      () =>
        replicator
          .logs()
          .slice(linesBefore)
          .some((line) => line.includes('wal segment written')),
      { what: 'the replica to catch up', timeoutMs: 15_000 },
    )
    expect(replicator.logs().some((line) => line.includes('nudged litestream'))).toBe(true)
    expect(await restoredItems()).toEqual({ rows: 400, integrity: 'ok' })
    await replicator.stopVerified()
    expect(await restoredItems()).toEqual({ rows: 400, integrity: 'ok' })
  })

  it('fails stopVerified loudly and in bounded time while S3 stays down, keeping the local file', async () => {
    const replicator = await replicate(db, replica, FAST_REPLICATION)
    insertItems(db, 200)
    await fx.stopS3()
    insertItems(db, 200)
    const started = Date.now()
    const failure = await replicator.stopVerified({ timeoutMs: 6_000 }).catch((err: unknown) => err)
    expect(Date.now() - started).toBeLessThan(9_000)
    expect(isReplicaError(failure) && failure.code).toBe('REPLICA_NOT_VERIFIED')
    expect(String(failure)).toMatch(/left in place/)
    expect(inspectItems(db)).toEqual({ rows: 400, integrity: 'ok' })
    // Once S3 is back, a new replicator catches up and verifies.
    await fx.restartS3()
    const again = await replicate(db, replica, FAST_REPLICATION)
    await again.stopVerified()
    expect(await restoredItems()).toEqual({ rows: 400, integrity: 'ok' })
  })

  it('refuses a second replicator for the same database or the same replica path', async () => {
    const replicator = await replicate(db, replica, FAST_REPLICATION)
    const sameDb = await replicate(
      db,
      tenantReplica(fx.s3.storage('test'), 'other'),
      FAST_REPLICATION,
    ).catch((err: unknown) => err)
    expect(isReplicaError(sameDb) && sameDb.code).toBe('REPLICA_PATH_BUSY')
    const otherDb = fx.path('live', 'other.db')
    createItemsDb(otherDb)
    const samePath = await replicate(otherDb, replica, FAST_REPLICATION).catch(
      (err: unknown) => err,
    )
    expect(isReplicaError(samePath) && samePath.code).toBe('REPLICA_PATH_BUSY')
    expect(String(samePath)).toMatch(/already replicated by this process/)
    await replicator.stop()
    const next = await replicate(otherDb, replica, FAST_REPLICATION)
    // Fencing: no time left on the lease means no final sync, just SIGKILL.
    await next.stop({ timeoutMs: 0 })
    expect(next.pid).toBeUndefined()
    expect(next.logs().at(-1)).toMatch(/^\[litecell\] stopped: /)
    const again = await replicate(otherDb, replica, FAST_REPLICATION)
    again.kill()
  })

  it('stops Litestream when its supervisor process dies by SIGKILL, and frees the paths', async () => {
    const script = fileURLToPath(
      new URL('../testdata/supervisor-crash/replicate-until-killed.ts', import.meta.url),
    )
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', script, db, JSON.stringify(replica)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve)
      child.once('exit', (code) => reject(new Error(`supervisor exited early (${code})`)))
    })
    const { litestreamPid } = JSON.parse(line) as { litestreamPid: number }
    insertItems(db, 100)
    child.kill('SIGKILL')
    const isAlive = (pid: number): boolean => {
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    }
    await waitFor(() => !isAlive(litestreamPid), {
      timeoutMs: 5_000,
      what: 'the orphan litestream to exit',
    })
    const successor = await replicate(db, replica, FAST_REPLICATION)
    insertItems(db, 100)
    await successor.stopVerified()
    expect(await restoredItems()).toEqual({ rows: 100 + 100, integrity: 'ok' })
  })
})
