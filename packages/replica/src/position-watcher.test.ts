import { mkdir } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { decompressFrameSync } from 'lz4-napi'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PositionWatcher } from './position-watcher.js'
import { isReplicaError } from './replica-error.js'
import { type ReplicaLocation, replicaKeyPrefix, tenantReplica } from './replica-location.js'
import type { ReplicaPosition } from './replica-position.js'
import { replicate } from './replicate.js'
import type { Replicator } from './replicator.js'
import { restore } from './restore.js'
import { NUDGE_BACKOFF_MAX_MS } from './stall-watch.js'
import { openReplicaStore } from './store-access.js'
import { type SqliteConnection, openSqlite } from './sqlite-connection.js'
import { FAST_REPLICATION, TestFixture, createItemsDb } from '@litecell/testkit/replica'
import { type WalCommit, readLastCommit } from './wal-commit.js'
import { waitFor } from '@litecell/testkit'

const TUNED = { syncIntervalMs: 200, monitorIntervalMs: 100 } as const
const SEGMENT = /\/generations\/([0-9a-f]{16})\/wal\/([0-9a-f]{8})_([0-9a-f]{8})\.wal\.lz4$/

// Real Litestream, the embedded S3 server on loopback, real files. Each test names the
// breakage it catches.
describe('position watcher', { timeout: 180_000 }, () => {
  let fx: TestFixture
  let dbPath: string
  let replica: ReplicaLocation
  let db: SqliteConnection
  let replicator: Replicator | undefined

  beforeEach(async () => {
    fx = await TestFixture.create('watcher')
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

  function commitRow(id: number): WalCommit {
    db.prepare('INSERT INTO items (id, payload) VALUES (?, randomblob(100))').run(id)
    return readLastCommit(dbPath)
  }

  async function restoredIds(): Promise<Set<number>> {
    const target = fx.path(`restored-${performance.now()}`, 'tenant.db')
    expect(await restore(replica, target)).toEqual({ restored: true })
    const copy = openSqlite(target)
    const ids = copy.prepare('SELECT id FROM items').all() as { id: number }[]
    copy.close()
    return new Set(ids.map((row) => row.id))
  }

  /** Every stored WAL segment with the WAL bytes it holds, read back from S3. */
  async function storedSegments(): Promise<
    { key: string; generation: string; index: number; start: number; end: number }[]
  > {
    const store = await openReplicaStore(replica.storage)
    try {
      const objects = await store.list(`${replicaKeyPrefix(replica)}generations/`)
      const segments = []
      for (const { key } of objects) {
        const match = SEGMENT.exec(key)
        if (!match) continue
        const bytes = await store.read(key)
        const start = Number.parseInt(match[3]!, 16)
        const length = decompressFrameSync(Buffer.from(bytes!)).length
        segments.push({
          key,
          generation: match[1]!,
          index: Number.parseInt(match[2]!, 16),
          start,
          end: start + length,
        })
      }
      return segments
    } finally {
      store.close()
    }
  }

  // Catches: a confirmation from the local shadow WAL, from a log line or from time passing.
  it('confirms a commit only after the S3 server stored the segment that holds it', async () => {
    replicator = await replicate(dbPath, replica, TUNED)
    const confirmations: { commit: WalCommit; position: ReplicaPosition; atMs: number }[] = []
    const waits: Promise<void>[] = []
    for (let id = 1; id <= 30; id++) {
      // Random pauses spread the commits over the sync cycle (sampling, not synchronisation).
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 250))
      const commit = commitRow(id)
      waits.push(
        replicator.confirmed(commit).then((position) => {
          confirmations.push({ commit, position, atMs: performance.now() })
        }),
      )
    }
    await Promise.all(waits)
    const segments = await storedSegments()
    for (const { commit, position, atMs } of confirmations) {
      expect(position.offset).toBe(commit.offset) // same bytes as the real WAL
      const holder = segments.find(
        (s) =>
          s.generation === position.generation &&
          s.index === position.index &&
          s.start < position.offset &&
          position.offset <= s.end,
      )
      expect(holder, `a stored segment holding ${JSON.stringify(position)}`).toBeDefined()
      const stored = fx.puts.find((put) => put.key === holder!.key)
      expect(stored!.atMs).toBeLessThanOrEqual(atMs)
    }
  })

  // Catches: confirming without S3, hanging forever, or never recovering after an outage.
  it('does not confirm while S3 is down, fails with STORAGE_UNAVAILABLE, and confirms once S3 is back', async () => {
    replicator = await replicate(dbPath, replica, FAST_REPLICATION)
    await replicator.confirmed(commitRow(1))
    await fx.stopS3()
    const commit = commitRow(2)
    const started = performance.now()
    const failure = await replicator
      .confirmed(commit, { timeoutMs: 3_000 })
      .catch((err: unknown) => err)
    expect(performance.now() - started).toBeGreaterThanOrEqual(2_900)
    expect(isReplicaError(failure) && failure.code).toBe('STORAGE_UNAVAILABLE')
    expect(String(failure)).toMatch(/not confirmed within 3000 ms/)
    expect(fx.puts.every((put) => !put.key.includes('/wal/') || put.atMs < started)).toBe(true)
    await fx.restartS3()
    // Litestream retries a failed upload only on the next change: the stall watch makes one,
    // but its nudges back off while no upload follows (up to NUDGE_BACKOFF_MAX_MS apart), so
    // after a long outage on a loaded machine the next nudge may be that far away (CI: the
    // commit was still waiting after 30 s).
    const position = await replicator.confirmed(commit, {
      timeoutMs: NUDGE_BACKOFF_MAX_MS + 30_000,
    })
    expect(position.offset).toBe(commit.offset)
    expect((await restoredIds()).has(2)).toBe(true)
  }, 150_000)

  // Catches: a listing per waiter (or per commit) instead of one shared round per interval,
  // and rounds while nobody waits.
  it('shares one listing per sync interval among 1,000 concurrent waiters, and lists nothing when nobody waits', async () => {
    const intervals = { syncIntervalMs: 500, monitorIntervalMs: 250 }
    replicator = await replicate(dbPath, replica, intervals)
    await replicator.confirmed(commitRow(0))
    const before = replicator.watcherStats()
    const started = performance.now()
    const waits: Promise<ReplicaPosition>[] = []
    for (let id = 1; id <= 1_000; id++) waits.push(replicator.confirmed(commitRow(id)))
    await Promise.all(waits)
    const elapsedMs = performance.now() - started
    const after = replicator.watcherStats()
    const rounds = after.rounds - before.rounds
    const lists = after.listRequests - before.listRequests
    const gets = after.getRequests - before.getRequests
    expect(after.confirmed - before.confirmed).toBe(1_000)
    expect(lists).toBeLessThanOrEqual(rounds)
    expect(gets).toBeLessThanOrEqual(rounds)
    expect(rounds).toBeLessThanOrEqual(Math.ceil(elapsedMs / intervals.syncIntervalMs) + 1)
    expect(after.waiting).toBe(0)
    // Nothing waits: three fallback periods go by without a request.
    await new Promise((resolve) => setTimeout(resolve, 3 * 1_500))
    const idle = replicator.watcherStats()
    expect({ rounds: idle.rounds, lists: idle.listRequests }).toEqual({
      rounds: after.rounds,
      lists: after.listRequests,
    })
  })

  // Catches: losing track of commits when Litestream checkpoints and starts a new shadow index.
  it('confirms commits on both sides of a checkpoint, each in its own shadow WAL index', async () => {
    replicator = await replicate(dbPath, replica, FAST_REPLICATION)
    const waits: Promise<ReplicaPosition>[] = []
    // 1,000 pages of WAL make Litestream checkpoint (DefaultMinCheckpointPageN); write past it
    // with waiters all along.
    for (let id = 1; id <= 60; id++) {
      db.prepare('INSERT INTO items (id, payload) VALUES (?, randomblob(100000))').run(id)
      waits.push(replicator.confirmed(readLastCommit(dbPath)))
      if (id % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 150))
    }
    const positions = await Promise.all(waits)
    expect(new Set(positions.map((p) => p.index)).size).toBeGreaterThanOrEqual(2)
    const ids = await restoredIds()
    for (let id = 1; id <= 60; id++) expect(ids.has(id)).toBe(true)
  })

  // Catches: confirming a commit of the old generation from the new one before the new
  // generation's snapshot holds it, or never confirming it.
  it('confirms pending commits in the new generation after Litestream had to start one', async () => {
    replicator = await replicate(dbPath, replica, FAST_REPLICATION)
    const first = await replicator.confirmed(commitRow(1))
    const pendingBefore = replicator.confirmed(commitRow(2)) // shadowed in the old generation at best
    // Litestream dies; meanwhile the WAL is checkpointed and truncated behind its back, so
    // its successor cannot continue the generation (its shadow WAL no longer matches).
    for (;;) {
      const pid = replicator.pid
      if (pid) process.kill(pid, 'SIGKILL')
      await waitFor(() => replicator!.pid === undefined || replicator!.pid !== pid, {
        intervalMs: 1,
      }).catch(() => undefined)
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[]
      if (result?.busy === 0) break
    }
    const pendingDuring = replicator.confirmed(commitRow(3)) // committed while Litestream is down
    const [before, during] = await Promise.all([pendingBefore, pendingDuring])
    const after = await replicator.confirmed(commitRow(4))
    expect(during.generation).not.toBe(first.generation)
    expect(after.generation).toBe(during.generation)
    expect(before.generation === first.generation || before.generation === during.generation).toBe(
      true,
    )
    expect(
      replicator
        .logs()
        .some((line) => line.includes('sync: new generation') && line.includes('reason=')),
    ).toBe(true)
    const ids = await restoredIds()
    for (const id of [1, 2, 3, 4]) expect(ids.has(id)).toBe(true)
  })

  // Catches: waiters stranded when Litestream is killed and restarted by its supervisor.
  it('confirms waiters across a Litestream crash and restart in the same generation', async () => {
    replicator = await replicate(dbPath, replica, FAST_REPLICATION)
    const first = await replicator.confirmed(commitRow(1))
    const pending = replicator.confirmed(commitRow(2))
    process.kill(replicator.pid!, 'SIGKILL')
    const later = replicator.confirmed(commitRow(3))
    const [second, third] = await Promise.all([pending, later])
    expect(replicator.restarts).toBe(1)
    expect([second.generation, third.generation]).toEqual([first.generation, first.generation])
    const ids = await restoredIds()
    for (const id of [1, 2, 3]) expect(ids.has(id)).toBe(true)
  })

  // Catches: depending on Litestream's log lines (a missed line must not strand a waiter)
  // and a wrong end for the newest segment when it has to be read from S3.
  it('confirms without any log line, from the listing and the newest segment read back', async () => {
    replicator = await replicate(dbPath, replica, FAST_REPLICATION)
    const deaf = new PositionWatcher({
      dbPath,
      store: await openReplicaStore(replica.storage),
      replicaKeyPrefix: replicaKeyPrefix(replica),
      syncIntervalMs: FAST_REPLICATION.syncIntervalMs,
      pollIntervalMs: 300,
    })
    try {
      const commits = [commitRow(1), commitRow(2)]
      const positions = await Promise.all(commits.map((commit) => deaf.waitFor(commit)))
      expect(positions.map((p) => p.offset)).toEqual(commits.map((c) => c.offset))
      expect(deaf.stats().getRequests).toBeGreaterThan(0)
      const told = await replicator.confirmed(commitRow(3))
      expect(told.generation).toBe(positions[0]!.generation)
    } finally {
      deaf.close('test over')
    }
  })

  it('rejects pending waiters when the replicator stops, and bad input at once', async () => {
    replicator = await replicate(dbPath, replica, {
      syncIntervalMs: 60_000,
      monitorIntervalMs: 60_000,
    })
    const pending = replicator.confirmed(commitRow(1)).catch((err: unknown) => err)
    await replicator.stop({ timeoutMs: 0 })
    const err = await pending
    expect(isReplicaError(err) && err.code).toBe('STORAGE_UNAVAILABLE')
    expect(String(err)).toMatch(/stopped before the commit was confirmed/)
    expect(() => replicator!.confirmed({ salt: 'zz', offset: -1 } as unknown as WalCommit)).toThrow(
      TypeError,
    )
  })
})
