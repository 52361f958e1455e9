import { readFileSync, readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { defineApp } from '@litecell/engine'
import { openSqlite, readLastCommit, restore, type WalCommit } from '@litecell/replica'
import { waitFor } from '@litecell/testkit'
import { ReplicatedTenant } from '@litecell/testkit/replicated-tenant'
import { afterEach, describe, expect, it } from 'vitest'

// Real Litestream, the embedded S3 server and the real tenant API (issue 11). Each test names
// the breakage it catches.
const app = defineApp({
  migrations: ['CREATE TABLE ledger (run_id TEXT NOT NULL)'],
  workflows: {
    quick: async (ctx, input) => ctx.step('add', () => ((input as { n?: number } | null)?.n ?? 0) + 1),
    threeSteps: async (ctx) => {
      const a = await ctx.step('a', () => 1)
      await ctx.transaction('ledger', (tx) => {
        tx.execute('INSERT INTO ledger (run_id) VALUES (?)', [ctx.runId])
      })
      return ctx.step('c', () => a + 1)
    },
    waiter: async (ctx) => ctx.waitForEvent('go'),
  },
})

describe('replicated acknowledgements', { timeout: 120_000 }, () => {
  let tenant: ReplicatedTenant | undefined
  afterEach(async () => {
    await tenant?.dispose()
    tenant = undefined
  })

  /** The run ids a restore of the replica as it is now holds (the machine lost right now). */
  async function runsInS3(t: ReplicatedTenant): Promise<Set<string>> {
    t.replicator.kill()
    const target = t.fx.path(`restored-${Date.now()}`, 'tenant.db')
    expect(await restore(t.replica, target)).toEqual({ restored: true })
    const db = openSqlite(target)
    const rows = db.prepare('SELECT run_id FROM lc_runs').all() as { run_id: string }[]
    db.close()
    return new Set(rows.map((row) => row.run_id))
  }

  // Catches: a 202 sent before the commit is in S3 (the replica restored at the moment of the
  // last acknowledgement misses runs), or acknowledgements that do not share confirmations.
  it('answers a replicated start, batch and event only once S3 holds what they wrote', async () => {
    tenant = await ReplicatedTenant.start({ app })
    const t = tenant
    const { runId: waiting } = (await t.request('POST', '/runs', { body: { workflow: 'waiter' } })).body
    const groupsBefore = t.replicator.watcherStats().confirmed
    const replies = await Promise.all([
      ...Array.from({ length: 40 }, (_, n) =>
        t.request('POST', '/runs', { body: { workflow: 'threeSteps', input: { n } } }),
      ),
      t.request('POST', '/runs/batch', { body: { runs: [{ workflow: 'quick' }, { workflow: 'quick' }] } }),
      t.request('POST', `/runs/${waiting}/events`, { body: { name: 'go', payload: 7 } }),
    ])
    expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 202))
    expect(replies.every((reply) => reply.headers.get('litecell-durability') === 'replicated')).toBe(true)
    // 42 acknowledgements, a handful of shared position waiters.
    expect(t.replicator.watcherStats().confirmed - groupsBefore).toBeLessThan(10)
    const acknowledged = replies.flatMap((reply) => reply.body.runIds ?? [reply.body.runId ?? waiting])
    const stored = await runsInS3(t)
    expect(acknowledged.filter((runId) => !stored.has(runId))).toEqual([])
  })

  it('a request may ask for local durability in a replicated tenant, and the other way round', async () => {
    tenant = await ReplicatedTenant.start({ app })
    const local = await tenant.request('POST', '/runs', { body: { workflow: 'quick', durability: 'local' } })
    expect(local.status).toBe(202)
    expect(local.headers.get('litecell-durability')).toBe('local')
    const replicated = await tenant.request('POST', '/runs', {
      durability: 'local',
      body: { workflow: 'quick', durability: 'replicated' },
    })
    expect(replicated.headers.get('litecell-durability')).toBe('replicated')
    expect((await runsInS3(tenant)).has(replicated.body.runId)).toBe(true)
  })

  // Catches: showing a final status (or its output) that a machine loss could still take back.
  it('shows a final status in a replicated tenant only once S3 holds it; a local tenant sees it at once', async () => {
    tenant = await ReplicatedTenant.start({ app, ackTimeoutMs: 1_000 })
    const t = tenant
    await t.fx.stopS3()
    const { runId } = (await t.request('POST', '/runs', { body: { workflow: 'quick', input: { n: 41 }, durability: 'local' } })).body
    expect(await t.engine.result(runId, { waitMs: 10_000 })).toMatchObject({ status: 'succeeded', output: 42 })

    const view = await t.request('GET', `/runs/${runId}`)
    expect(view.body).toMatchObject({ status: 'running', output: null, error: null })
    expect(view.headers.get('litecell-durability')).toBe('replicated')
    expect((await t.request('GET', `/runs/${runId}/result?waitMs=300`)).body.status).toBe('running')
    expect((await t.request('GET', '/runs')).body.runs.find((run: any) => run.runId === runId).status).toBe('running')
    expect((await t.request('GET', '/runs?status=succeeded')).body.runs).toEqual([])
    const asLocal = await t.request('GET', `/runs/${runId}`, { durability: 'local' })
    expect(asLocal.body).toMatchObject({ status: 'succeeded', output: 42 })
    expect(asLocal.headers.get('litecell-durability')).toBe('local')

    await t.fx.restartS3()
    const result = await t.request('GET', `/runs/${runId}/result?waitMs=30000`)
    expect(result.body).toMatchObject({ status: 'succeeded', output: 42 })
    expect((await t.request('GET', '/runs?status=succeeded')).body.runs.map((run: any) => run.runId)).toEqual([runId])
  })

  // Catches: an acknowledgement that hangs forever, or a 202 without S3, when storage is down;
  // a retry that starts the run twice.
  it('storage down: waits, then 503 STORAGE_UNAVAILABLE with committedLocally; the same key returns the same run later', async () => {
    tenant = await ReplicatedTenant.start({ app, ackTimeoutMs: 1_500 })
    const t = tenant
    await t.fx.stopS3()
    const startedAt = Date.now()
    const body = { workflow: 'quick', idempotencyKey: 'order-7' }
    const refused = await t.request('POST', '/runs', { body })
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_500)
    expect(refused.status).toBe(503)
    expect(refused.body.error).toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      runId: expect.any(String),
      committedLocally: true,
    })
    const batch = await t.request('POST', '/runs/batch', { body: { runs: [{ workflow: 'quick', idempotencyKey: 'b-1' }] } })
    expect(batch.status).toBe(503)
    expect(batch.body.error).toMatchObject({ runIds: [expect.any(String)], committedLocally: true })
    expect((await t.engine.get(refused.body.error.runId)).workflow).toBe('quick')

    await t.fx.restartS3()
    // Litestream may need more than one ack timeout to reach the restarted S3 again (a
    // client retries a 503 STORAGE_UNAVAILABLE); every answer until then names the same run.
    const retried = await waitFor(
      async () => {
        const answer = await t.request('POST', '/runs', { body })
        const runId = answer.status === 202 ? answer.body.runId : answer.body.error?.runId
        expect(runId).toBe(refused.body.error.runId)
        return answer.status === 202 ? answer : undefined
      },
      { timeoutMs: 30_000 },
    )
    expect((await runsInS3(t)).has(retried.body.runId)).toBe(true)
  })

  // Catches: write and read routes beside `POST /runs` that the hold missed: a schedule's
  // trigger or backfill answered 202 before S3 holds the run it started, and the bulk status
  // route showing a final status that a machine loss could still take back.
  it('holds schedule writes like run starts, and the bulk status route shows only confirmed final statuses', async () => {
    tenant = await ReplicatedTenant.start({ app, ackTimeoutMs: 1_000 })
    const t = tenant
    const created = await t.request('POST', '/schedules', { body: { id: 'nightly', cron: '0 3 * * *', workflow: 'quick' } })
    expect(created.status).toBe(201)
    expect(created.headers.get('litecell-durability')).toBe('replicated')
    await t.fx.stopS3()
    const trigger = await t.request('POST', '/schedules/nightly/trigger', { body: { idempotencyKey: 'now-1' } })
    expect(trigger.status).toBe(503)
    expect(trigger.body.error).toMatchObject({ code: 'STORAGE_UNAVAILABLE', runId: expect.any(String), committedLocally: true })
    const backfill = await t.request('POST', '/schedules/nightly/backfill', {
      body: { from: '2026-01-01T00:00:00Z', to: '2026-01-03T00:00:00Z' },
    })
    expect(backfill.status).toBe(503)
    expect(backfill.body.error).toMatchObject({ runIds: [expect.any(String), expect.any(String)], committedLocally: true })

    const runId = trigger.body.error.runId as string
    expect(await t.engine.result(runId, { waitMs: 10_000 })).toMatchObject({ status: 'succeeded' })
    const statuses = await t.request('POST', '/runs/status', { body: { runIds: [runId, 'no-such-run'] } })
    expect(statuses.body.runs).toMatchObject([{ runId, status: 'running' }, { status: null, notFound: true }])
    const asLocal = await t.request('POST', '/runs/status', { durability: 'local', body: { runIds: [runId] } })
    expect(asLocal.body.runs).toMatchObject([{ runId, status: 'succeeded' }])

    await t.fx.restartS3()
    await t.request('GET', `/runs/${runId}/result?waitMs=30000`)
    expect((await t.request('POST', '/runs/status', { body: { runIds: [runId] } })).body.runs).toMatchObject([
      { runId, status: 'succeeded' },
    ])
  })

  it('refuses a bad durability with a 400 and writes nothing', async () => {
    tenant = await ReplicatedTenant.start({ app })
    const t = tenant
    const { runId } = (await t.request('POST', '/runs', { body: { workflow: 'waiter' } })).body
    const count = () => t.request('GET', '/runs?limit=1000').then((reply) => reply.body.runs.length)
    const before = await count()
    const cases: [string, string, unknown, string][] = [
      ['POST', '/runs', { workflow: 'quick', durability: 'sometimes' }, '`durability`'],
      ['POST', '/runs', { workflow: 'quick', durability: true }, '`true` (boolean)'],
      ['POST', '/runs/batch', { runs: [{ workflow: 'quick' }, { workflow: 'quick', durability: 1 }] }, '`runs[1].durability`'],
      ['POST', '/runs/batch', { runs: [{ workflow: 'quick' }], durability: null }, '`null` (null)'],
      ['POST', `/runs/${runId}/events`, { name: 'go', durability: 'LOCAL' }, '`LOCAL` (string)'],
      ['POST', `/runs/${runId}/cancel`, { durability: ['replicated'] }, '(array)'],
      ['POST', `/runs/${runId}/resume`, { durability: 'S3' }, '`S3`'],
    ]
    for (const [method, path, body, mentions] of cases) {
      const reply = await t.request(method, path, { body })
      expect(reply.status, `${path} ${JSON.stringify(body)}`).toBe(400)
      expect(reply.body.error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining(mentions) })
    }
    expect(await count()).toBe(before)
    expect((await t.engine.get(runId)).status).toBe('waiting')
  })
})

describe('output gate', { timeout: 120_000 }, () => {
  let tenant: ReplicatedTenant | undefined
  afterEach(async () => {
    await tenant?.dispose()
    tenant = undefined
  })

  /** The salts of each shadow WAL index Litestream keeps: (generation, index) of a WAL lifetime. */
  function shadowLifetimes(dbPath: string): Map<string, { generation: string; index: number }> {
    const meta = join(dirname(dbPath), `.${basename(dbPath)}-litestream`)
    const lifetimes = new Map<string, { generation: string; index: number }>()
    for (const generation of readdirSync(join(meta, 'generations'))) {
      for (const file of readdirSync(join(meta, 'generations', generation, 'wal'))) {
        const header = readFileSync(join(meta, 'generations', generation, 'wal', file)).subarray(0, 32)
        lifetimes.set(header.subarray(16, 24).toString('hex'), {
          generation,
          index: Number.parseInt(file.slice(0, 8), 16),
        })
      }
    }
    return lifetimes
  }

  // Catches: a gated step called before S3 holds the run's earlier checkpoints. Its call time
  // is checked against the S3 server's own record of when it stored the WAL segment holding
  // them (segments of one index are contiguous: the one holding an offset is the last that
  // starts before it, once a later one exists).
  it('never calls a gated step before its earlier checkpoints are stored in S3', async () => {
    const reservedAt = new Map<string, WalCommit>()
    const calledAt = new Map<string, number>()
    let dbPath = ''
    const gated = defineApp({
      workflows: {
        charge: async (ctx) => {
          await ctx.step('reserve', () => 'reserved')
          // The 'reserve' checkpoint is committed: where it ends in the WAL (or later).
          if (!reservedAt.has(ctx.runId)) reservedAt.set(ctx.runId, readLastCommit(dbPath))
          await ctx.step('charge', () => calledAt.set(ctx.runId, performance.now()), { gate: 'replicated' })
        },
      },
    })
    tenant = await ReplicatedTenant.start({ app: gated })
    const t = tenant
    dbPath = t.dbPath
    const runIds: string[] = []
    for (let i = 0; i < 6; i++) {
      // Random pauses spread the runs over the sync cycle (sampling, not synchronisation).
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 300))
      runIds.push((await t.engine.start('charge')).runId)
    }
    await waitFor(() => calledAt.size === runIds.length, { what: 'every gated step to run', timeoutMs: 60_000 })
    // One more confirmed upload, so every segment that holds a checkpoint has a successor.
    await t.engine.start('charge')
    await t.replication.confirmCommitted()

    const lifetimes = shadowLifetimes(dbPath)
    const segments = t.fx.puts.flatMap(({ key, atMs }) => {
      const match = /\/generations\/([0-9a-f]{16})\/wal\/([0-9a-f]{8})_([0-9a-f]{8})\.wal\.lz4$/.exec(key)
      if (!match) return []
      const [, generation, index, start] = match
      return [{ generation: generation!, index: Number.parseInt(index!, 16), start: Number.parseInt(start!, 16), atMs }]
    })
    for (const runId of runIds) {
      const commit = reservedAt.get(runId)!
      const lifetime = lifetimes.get(commit.salt)
      expect(lifetime, `the WAL lifetime of run ${runId}'s checkpoint`).toBeDefined()
      const ofIndex = segments
        .filter((s) => s.generation === lifetime!.generation && s.index === lifetime!.index)
        .sort((a, b) => a.start - b.start)
      const holder = ofIndex.filter((s) => s.start < commit.offset).at(-1)
      const hasSuccessor =
        ofIndex.some((s) => s.start >= commit.offset) ||
        segments.some((s) => s.generation === lifetime!.generation && s.index > lifetime!.index)
      expect(holder && hasSuccessor, `a stored segment holding ${JSON.stringify(commit)}`).toBeTruthy()
      expect(holder!.atMs).toBeLessThanOrEqual(calledAt.get(runId)!)
    }
  })
})
