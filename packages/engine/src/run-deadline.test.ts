import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import { MAX_FLOW_MS } from './start-options.js'
import {
  cleanup,
  ManualClock,
  openTestEngine,
  reopen,
  runUntilQuiet,
} from '@litecell/testkit/engine'

afterEach(cleanup)

const app = defineApp({
  workflows: {
    slow: async (ctx) => {
      const child = await ctx.startChild('nap')
      const detached = await ctx.startChild('nap', null, { detached: true })
      await ctx.sleep(10_000)
      return [await child.result(), await detached.result()]
    },
    nap: async (ctx) => {
      await ctx.sleep(5_000)
      return 'rested'
    },
    quick: async (ctx) => {
      await ctx.sleep(100)
      return 'ok'
    },
  },
  workflowOptions: { quick: { timeoutMs: '1s' } },
})

describe('run timeouts', () => {
  it('cancels a run at its deadline with RUN_TIMEOUT, its children with it, detached ones not', async () => {
    const clock = new ManualClock()
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('slow', null, { timeoutMs: 2_000 })
    await engine.idle()
    const started = await engine.get(runId)
    expect(started.deadlineAt).toBe(new Date(clock.nowMs + 2_000).toISOString())
    const [child, detached] = started.steps
      .filter((s) => s.kind === 'child')
      .map((s) => s.childRunId)
    expect(await engine.nextWakeAt()).toBe(clock.nowMs + 2_000)
    clock.advance(2_000)
    await engine.idle()
    expect(await engine.get(runId)).toMatchObject({
      status: 'cancelled',
      error: { code: 'RUN_TIMEOUT', message: expect.stringContaining('2000 ms') },
    })
    expect(await engine.get(child as string)).toMatchObject({
      status: 'cancelled',
      error: { code: 'PARENT_CANCELLED' },
    })
    expect((await engine.get(detached as string)).detached).toBe(true)
    await runUntilQuiet(engine, clock)
    expect(await engine.get(detached as string)).toMatchObject({ status: 'succeeded' })
  })

  it('applies the workflow’s declared timeoutMs; a start’s own timeoutMs overrides it', async () => {
    const clock = new ManualClock()
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const declared = await engine.start('quick')
    const overridden = await engine.start('quick', null, { timeoutMs: 50 })
    await runUntilQuiet(engine, clock)
    expect((await engine.get(declared.runId)).status).toBe('succeeded')
    expect(await engine.get(overridden.runId)).toMatchObject({
      status: 'cancelled',
      error: { code: 'RUN_TIMEOUT' },
    })
  })

  it('cancels a run whose deadline passed while the engine was closed before it executes again', async () => {
    // Catches a deadline that lives only in memory, or one checked after recovery already
    // scheduled the run.
    const clock = new ManualClock()
    const steps: string[] = []
    const tracked = defineApp({
      workflows: {
        work: async (ctx) => {
          await ctx.step('one', () => void steps.push('one'))
          await ctx.sleep(60_000)
          await ctx.step('two', () => void steps.push('two'))
        },
      },
    })
    const { engine, path } = await openTestEngine(tracked, { clock: clock.now })
    const { runId } = await engine.start('work', null, { timeoutMs: 30_000 })
    await engine.idle()
    expect(await engine.nextWakeAt()).toBe(clock.nowMs + 30_000)
    await engine.close()
    clock.advance(120_000)
    const reopened = await reopen(path, tracked, { clock: clock.now })
    await reopened.idle()
    expect(await reopened.get(runId)).toMatchObject({
      status: 'cancelled',
      error: { code: 'RUN_TIMEOUT' },
    })
    expect(steps).toEqual(['one'])
  })

  it('gives a resumed run a new deadline, timeoutMs from the resume', async () => {
    const clock = new ManualClock()
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('nap', null, { timeoutMs: 1_000 })
    await runUntilQuiet(engine, clock)
    expect((await engine.get(runId)).status).toBe('cancelled')
    const resumed = await engine.resume(runId)
    expect(resumed.deadlineAt).toBe(new Date(clock.nowMs + 1_000).toISOString())
  })

  it('refuses a timeoutMs that is not a positive integer', async () => {
    const { engine } = await openTestEngine(app)
    for (const timeoutMs of [0, -5, 1.5, '10s']) {
      await expect(
        engine.start('nap', null, { timeoutMs: timeoutMs as number }),
      ).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringContaining('timeoutMs'),
      })
    }
    expect(() =>
      defineApp({
        workflows: { a: async () => null },
        workflowOptions: { a: { timeoutMs: 'soon' } },
      }),
    ).toThrow(/timeoutMs/)
  })

  // Catches a timeout or debounce delay so large that its deadline or start time is no date:
  // accepted, it made every get and list that showed the run throw a RangeError (a 500).
  it('refuses a timeoutMs or debounce delayMs past MAX_FLOW_MS, writing nothing', async () => {
    const { engine } = await openTestEngine(app)
    for (const options of [
      { timeoutMs: MAX_FLOW_MS + 1 },
      { timeoutMs: Number.MAX_SAFE_INTEGER },
      { debounce: { key: 'k', delayMs: Number.MAX_SAFE_INTEGER } },
    ]) {
      await expect(engine.start('nap', null, options)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringContaining(String(MAX_FLOW_MS)),
      })
    }
    expect((await engine.list()).runs).toHaveLength(0)
    const { runId } = await engine.start('nap', null, { timeoutMs: MAX_FLOW_MS })
    expect((await engine.get(runId)).deadlineAt).toMatch(/^\d{4}-/)
  })
})
