import { statSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import { sweepRetentionOf, writeConnectionOf, type Engine } from './engine.js'
import { RETENTION_BATCH_RUNS } from './retention.js'
import {
  cleanup,
  ManualClock,
  openTestEngine,
  reopen,
  runUntilQuiet,
} from '@litecell/testkit/engine'

afterEach(cleanup)

/** `resumable` fails once after starting its child, then (resumed) waits for the child's result. */
let failAfterChild = true

const app = defineApp({
  retention: { succeeded: '1h', failed: '2h' },
  workflows: {
    ok: async (ctx) => {
      await ctx.waitForEvent('go', { timeoutMs: 1 })
      return ctx.step('a', () => 1)
    },
    bad: async () => {
      throw new Error('no')
    },
    stop: async (ctx) => ctx.waitForEvent('never'),
    parent: async (ctx) => {
      await ctx.startChild('ok')
      return ctx.waitForEvent('finish')
    },
    resumable: async (ctx) => {
      const child = await ctx.startChild('ok')
      if (failAfterChild) {
        failAfterChild = false
        throw new Error('fails once')
      }
      return child.result()
    },
  },
})

/** Rows of the engine's tables (through the write connection). */
function count(engine: Engine, table: string): number {
  return (
    writeConnectionOf(engine).prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }
  ).n
}

describe('retention', () => {
  it('deletes finished runs past their status’s retention with their journal, events and tags', async () => {
    const clock = new ManualClock()
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const ok = await engine.start('ok', null, { tags: { exp: '1' } })
    await engine.sendEvent(ok.runId, 'go')
    const bad = await engine.start('bad', null, { tags: { exp: '1' } })
    const cancelled = await engine.start('stop')
    await runUntilQuiet(engine, clock)
    await engine.cancel(cancelled.runId)
    clock.advance(59 * 60_000)
    expect(await sweepRetentionOf(engine)).toBe(0)
    clock.advance(2 * 60_000)
    expect(await sweepRetentionOf(engine)).toBe(1)
    await expect(engine.get(ok.runId)).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' })
    expect((await engine.get(bad.runId)).status).toBe('failed')
    expect(count(engine, "lc_steps WHERE run_id = '" + ok.runId + "'")).toBe(0)
    expect(count(engine, "lc_events WHERE run_id = '" + ok.runId + "'")).toBe(0)
    expect(count(engine, 'lc_run_tags')).toBe(1)
    clock.advance(60 * 60_000)
    expect(await sweepRetentionOf(engine)).toBe(1)
    expect(count(engine, 'lc_run_tags')).toBe(0)
    // `cancelled` has no retention: kept forever.
    clock.advance(1_000 * 60 * 60_000)
    expect(await sweepRetentionOf(engine)).toBe(0)
    expect((await engine.get(cancelled.runId)).status).toBe('cancelled')
  })

  it('keeps a finished child while its parent has not ended, and deletes it once the parent did', async () => {
    const clock = new ManualClock()
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('parent')
    await runUntilQuiet(engine, clock)
    const child = (await engine.list({ workflow: 'ok' })).runs[0]
    expect(child?.status).toBe('succeeded')
    clock.advance(2 * 60 * 60_000)
    expect(await sweepRetentionOf(engine)).toBe(0)
    await engine.sendEvent(runId, 'finish')
    await engine.idle()
    clock.advance(2 * 60 * 60_000)
    expect(await sweepRetentionOf(engine)).toBe(2)
    expect((await engine.list()).runs).toHaveLength(0)
  })

  // Catches a child deleted because its parent ended: a failed parent can be resumed (and any
  // parent forked) and then waits for the child's recorded end, which must still be there.
  it('keeps a finished child while its parent exists, so a resumed parent still gets its result', async () => {
    const clock = new ManualClock()
    const { engine } = await openTestEngine(app, { clock: clock.now })
    failAfterChild = true
    const { runId } = await engine.start('resumable')
    await runUntilQuiet(engine, clock)
    expect((await engine.get(runId)).status).toBe('failed')
    const child = (await engine.list({ workflow: 'ok' })).runs[0]
    expect(child?.status).toBe('succeeded')
    // Past the child's retention (1h), within the failed parent's (2h).
    clock.advance(90 * 60_000)
    expect(await sweepRetentionOf(engine)).toBe(0)
    await engine.resume(runId)
    await runUntilQuiet(engine, clock)
    const resumed = await engine.get(runId)
    expect(resumed.status).toBe('succeeded')
    expect(resumed.output).toBe(1)
  })

  it('deletes in batches of RETENTION_BATCH_RUNS, each its own short commit', async () => {
    const clock = new ManualClock()
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const total = RETENTION_BATCH_RUNS * 3 + 7
    await engine.startMany(Array.from({ length: total }, () => ({ workflow: 'bad' })))
    await engine.idle()
    clock.advance(3 * 60 * 60_000)
    const commits: number[] = []
    const db = writeConnectionOf(engine)
    const before = (db.prepare('SELECT count(*) AS n FROM lc_runs').get() as { n: number }).n
    expect(before).toBe(total)
    const sweeping = sweepRetentionOf(engine)
    // Between two batches the event loop turns: a start gets in while the sweep is under way.
    await new Promise((resolve) => setImmediate(resolve))
    const between = await engine.start('stop')
    commits.push(await sweeping)
    expect(commits).toEqual([total])
    expect((await engine.list()).runs.map((run) => run.runId)).toEqual([between.runId])
  })

  it('keeps its index only while the app has a policy (finished runs cost no entry otherwise)', async () => {
    const indexes = (engine: Engine) =>
      (
        writeConnectionOf(engine)
          .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND name = 'lc_runs_finished'",
          )
          .all() as { name: string }[]
      ).length
    const { engine, path } = await openTestEngine(app)
    expect(indexes(engine)).toBe(1)
    await engine.close()
    const without = await reopen(path, defineApp({ workflows: app.workflows }))
    expect(indexes(without)).toBe(0)
    await expect(sweepRetentionOf(without)).resolves.toBe(0)
  })

  it('refuses a bad retention policy when the app is defined', () => {
    for (const retention of [{ succeeded: 'forever' }, { succeeded: 0 }, { done: '1d' }, '30d']) {
      expect(() =>
        defineApp({ workflows: { a: async () => null }, retention: retention as never }),
      ).toThrow(/retention/)
    }
  })
})

describe('retention keeps the file bounded', () => {
  it('50,000 runs with a 2 s retention: the file plateaus under 4 MB (24 MB without)', async () => {
    // A steady workload: 50 waves of 1,000 three-step runs, the clock moving 500 ms per wave,
    // a sweep after each wave, and a PASSIVE checkpoint after each (Litestream's part: the
    // engine never checkpoints, so the file only holds what a checkpoint moved into it). Runs
    // of the last 4 to 5 waves are retained at any time, ≈ 0.48 KB each with their journal and
    // indexes: ≈ 2.4 MB of live data, and SQLite reuses the pages retention frees, so the file
    // stays at ≈ 2.5 MB. The same workload without retention grows the file to ≈ 24 MB
    // (measured; see the engine README). Fails for a file that keeps growing.
    const clock = new ManualClock()
    const bounded = defineApp({
      retention: { succeeded: '2s' },
      workflows: {
        three: async (ctx, n: number) => {
          const a = await ctx.step('a', () => n + 1)
          const b = await ctx.step('b', () => a * 2)
          return ctx.step('c', () => b - 1)
        },
      },
    })
    const { engine, path } = await openTestEngine(bounded, { clock: clock.now })
    const db = writeConnectionOf(engine)
    const sizes: number[] = []
    for (let wave = 0; wave < 50; wave++) {
      await engine.startMany(
        Array.from({ length: 1_000 }, (_, i) => ({ workflow: 'three', input: i })),
      )
      await engine.idle()
      clock.advance(500)
      await sweepRetentionOf(engine)
      db.exec('PRAGMA wal_checkpoint(PASSIVE)')
      sizes.push(statSync(path).size)
    }
    const retained = count(engine, 'lc_runs')
    expect(retained).toBeGreaterThanOrEqual(4_000)
    expect(retained).toBeLessThanOrEqual(5_000)
    expect(Math.max(...sizes)).toBeLessThan(4 * 1024 * 1024)
    // It plateaus: the last 20 waves grew the file by less than a tenth.
    expect(sizes[49] as number).toBeLessThan((sizes[29] as number) * 1.1)
  }, 120_000)
})
