import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import {
  cleanup,
  ManualClock,
  openTestEngine,
  reopen,
  runUntilQuiet,
} from '@litecell/testkit/engine'

afterEach(cleanup)

function reindexApp(calls: unknown[]) {
  return defineApp({
    workflows: {
      reindex: async (ctx, input: { doc: string; rev: number }) =>
        ctx.step('index', () => (calls.push(input), input.rev)),
    },
    workflowOptions: {
      reindex: { debounce: { delayMs: 500, key: (input: { doc: string }) => input.doc } },
    },
  })
}

describe('debounce', () => {
  it('collapses a burst into one run with the last input, started delayMs after the last start', async () => {
    const clock = new ManualClock()
    const calls: unknown[] = []
    const app = defineApp({
      workflows: {
        notify: async (ctx, input: number) => ctx.step('send', () => (calls.push(input), input)),
      },
    })
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const debounce = { key: 'inbox-7', delayMs: 1_000 }
    const first = await engine.start('notify', 1, { debounce })
    expect(first).toMatchObject({ status: 'sleeping', created: true })
    clock.advance(600)
    const second = await engine.start('notify', 2, { debounce })
    clock.advance(600)
    const third = await engine.start('notify', 3, { debounce })
    expect(second).toMatchObject({ runId: first.runId, created: false })
    expect(third).toMatchObject({ runId: first.runId, created: false })
    // 1,200 ms after the first start but only 0 after the last: not started yet.
    await engine.idle()
    expect(calls).toEqual([])
    expect(await engine.nextWakeAt()).toBe(clock.nowMs + 1_000)
    clock.advance(999)
    await engine.idle()
    expect(calls).toEqual([])
    clock.advance(1)
    await engine.idle()
    expect(calls).toEqual([3])
    expect(await engine.get(first.runId)).toMatchObject({
      status: 'succeeded',
      input: 3,
      output: 3,
      debounceKey: 'inbox-7',
    })
    // A start after the run began opens the next burst: a new run.
    const next = await engine.start('notify', 4, { debounce })
    expect(next.runId).not.toBe(first.runId)
    await runUntilQuiet(engine, clock)
    expect(calls).toEqual([3, 4])
  })

  it('keeps separate bursts per key and per workflow, declared in workflowOptions with a key function', async () => {
    const clock = new ManualClock()
    const calls: unknown[] = []
    const { engine } = await openTestEngine(reindexApp(calls), { clock: clock.now })
    const a1 = await engine.start('reindex', { doc: 'a', rev: 1 })
    const b1 = await engine.start('reindex', { doc: 'b', rev: 1 })
    const a2 = await engine.start('reindex', { doc: 'a', rev: 2 })
    expect(a2.runId).toBe(a1.runId)
    expect(b1.runId).not.toBe(a1.runId)
    await runUntilQuiet(engine, clock)
    expect(calls).toEqual(
      expect.arrayContaining([
        { doc: 'a', rev: 2 },
        { doc: 'b', rev: 1 },
      ]),
    )
    expect(calls).toHaveLength(2)
  })

  it('survives a close and reopen: the collecting run still absorbs starts and starts on time', async () => {
    const clock = new ManualClock()
    const calls: unknown[] = []
    const app = reindexApp(calls)
    const { engine, path } = await openTestEngine(app, { clock: clock.now })
    const first = await engine.start('reindex', { doc: 'a', rev: 1 })
    await engine.close()
    const reopened = await reopen(path, app, { clock: clock.now })
    clock.advance(400)
    const second = await reopened.start('reindex', { doc: 'a', rev: 2 })
    expect(second.runId).toBe(first.runId)
    expect(await reopened.nextWakeAt()).toBe(clock.nowMs + 500)
    await runUntilQuiet(reopened, clock)
    expect(calls).toEqual([{ doc: 'a', rev: 2 }])
  })

  it('collapses debounced starts within one startMany too', async () => {
    const clock = new ManualClock()
    const calls: unknown[] = []
    const { engine } = await openTestEngine(reindexApp(calls), { clock: clock.now })
    const { runIds } = await engine.startMany([
      { workflow: 'reindex', input: { doc: 'x', rev: 1 } },
      { workflow: 'reindex', input: { doc: 'x', rev: 2 } },
    ])
    expect(runIds[0]).toBe(runIds[1])
    await runUntilQuiet(engine, clock)
    expect(calls).toEqual([{ doc: 'x', rev: 2 }])
  })

  it('refuses bad debounce options and debounce with a deduplication id', async () => {
    const app = defineApp({ workflows: { job: async () => null } })
    const { engine } = await openTestEngine(app)
    const bad = [
      { key: '', delayMs: 10 },
      { key: 'k', delayMs: 0 },
      { key: 'k', delayMs: 1.5 },
      { key: 7, delayMs: 10 },
      'k',
    ]
    for (const debounce of bad) {
      await expect(
        engine.start('job', null, { debounce: debounce as never }),
      ).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringContaining('debounce'),
      })
    }
    await expect(
      engine.start('job', null, { debounce: { key: 'k', delayMs: 5 }, deduplicationId: 'd' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('exclude') })
    expect((await engine.list()).runs).toHaveLength(0)
  })
})
