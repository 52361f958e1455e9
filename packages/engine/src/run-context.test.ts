import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import { cleanup, ManualClock, openTestEngine, reopen, runUntilQuiet } from '@litecell/testkit/engine'

afterEach(cleanup)

describe('ctx.sleep', () => {
  it('sleeps durably: the run leaves memory, nextWakeAt sees the timer, and it survives a restart', async () => {
    const clock = new ManualClock()
    const calls: string[] = []
    const app = defineApp({
      workflows: {
        nap: async (ctx) => {
          await ctx.step('before', () => calls.push('before'))
          await ctx.sleep('10m')
          await ctx.step('after', () => calls.push('after'))
          return 'rested'
        },
      },
    })
    const { engine, path } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('nap')
    await engine.idle()
    expect((await engine.get(runId)).status).toBe('sleeping')
    expect(engine.activeRuns()).toBe(0)
    expect(await engine.nextWakeAt()).toBe(clock.nowMs + 600_000)
    await engine.close()

    clock.advance(599_999)
    const early = await reopen(path, app, { clock: clock.now })
    await early.idle()
    expect((await early.get(runId)).status).toBe('sleeping')
    clock.advance(1)
    await early.idle()
    expect(await early.get(runId)).toMatchObject({ status: 'succeeded', output: 'rested' })
    expect(calls).toEqual(['before', 'after'])
  })

  it('wakes by its in-process timer with the real clock', async () => {
    const app = defineApp({ workflows: { nap: async (ctx) => (await ctx.sleep(30), 'ok') } })
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('nap')
    expect((await engine.result(runId, { waitMs: 5_000 })).status).toBe('succeeded')
  })
})

describe('ctx.waitForEvent', () => {
  const app = defineApp({
    workflows: {
      approval: async (ctx) => {
        await ctx.step('prepare', () => 1)
        const first = await ctx.waitForEvent('approve')
        const second = await ctx.waitForEvent('approve', { timeoutMs: 1_000 })
        return { first, second }
      },
    },
  })

  it('takes an event sent after the wait began', async () => {
    const clock = new ManualClock()
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('approval')
    await engine.idle()
    expect((await engine.get(runId)).status).toBe('waiting')
    await engine.sendEvent(runId, 'approve', { by: 'ana' })
    await engine.sendEvent(runId, 'approve', 'second')
    await engine.idle()
    expect(await engine.get(runId)).toMatchObject({
      status: 'succeeded',
      output: { first: { by: 'ana' }, second: 'second' },
    })
  })

  it('takes an event sent before the wait began', async () => {
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('approval')
    await engine.sendEvent(runId, 'approve', 1)
    await engine.sendEvent(runId, 'approve', 2)
    const done = await engine.result(runId, { waitMs: 5_000 })
    expect(done.output).toEqual({ first: 1, second: 2 })
  })

  it('returns null when its durable timeout passes first', async () => {
    const clock = new ManualClock()
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('approval')
    await engine.idle()
    await engine.sendEvent(runId, 'approve', 'yes')
    await engine.idle()
    expect(await engine.nextWakeAt()).toBe(clock.nowMs + 1_000)
    await runUntilQuiet(engine, clock)
    expect(await engine.get(runId)).toMatchObject({
      status: 'succeeded',
      output: { first: 'yes', second: null },
    })
  })

  it('refuses events for a finished run with INVALID_STATE', async () => {
    const { engine } = await openTestEngine(defineApp({ workflows: { quick: async () => 1 } }))
    const { runId } = await engine.start('quick')
    await engine.idle()
    await expect(engine.sendEvent(runId, 'x')).rejects.toMatchObject({ code: 'INVALID_STATE' })
  })
})

describe('recorded values', () => {
  it('returns the recorded now, random and uuid on replay', async () => {
    const clock = new ManualClock()
    const seen: unknown[] = []
    const app = defineApp({
      workflows: {
        values: async (ctx) => {
          const values = [await ctx.now(), await ctx.random(), await ctx.uuid()]
          seen.push(values)
          await ctx.sleep(1)
          return values
        },
      },
    })
    const { engine, path } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('values')
    await engine.idle()
    await engine.close()
    clock.advance(1)
    const again = await reopen(path, app, { clock: clock.now })
    await again.idle()
    expect(seen).toHaveLength(2)
    expect(seen[1]).toEqual(seen[0])
    expect((await again.get(runId)).output).toEqual(seen[0])
  })
})

describe('child runs', () => {
  const app = defineApp({
    workflows: {
      parent: async (ctx, input: { n: number }) => {
        const handles = []
        for (let i = 0; i < input.n; i++) handles.push(await ctx.startChild<number>('square', i))
        const results: number[] = []
        for (const handle of handles) results.push(await handle.result())
        const direct = await ctx.child<number>('square', 10)
        return { results, direct }
      },
      square: async (ctx, input: number) => {
        await ctx.sleep(5)
        return ctx.step('square', () => input * input)
      },
      failing: async (ctx) => ctx.child('boom'),
      boom: async () => {
        throw new Error('kaput')
      },
    },
  })

  it('runs children with their own records and hands their outputs to the parent', async () => {
    const clock = new ManualClock()
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('parent', { n: 3 })
    await runUntilQuiet(engine, clock)
    const parent = await engine.get(runId)
    expect(parent).toMatchObject({
      status: 'succeeded',
      output: { results: [0, 1, 4], direct: 100 },
    })
    const children = (await engine.list({ workflow: 'square' })).runs
    expect(children).toHaveLength(4)
    expect(
      children.every((child) => child.parentRunId === runId && child.status === 'succeeded'),
    ).toBe(true)
    expect((await engine.get(children[0]?.runId as string)).steps.map((step) => step.kind)).toEqual(
      ['sleep', 'step'],
    )
  })

  it('fails the parent with CHILD_FAILED when a child fails', async () => {
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('failing')
    const done = await engine.result(runId, { waitMs: 5_000 })
    expect(done).toMatchObject({ status: 'failed', error: { code: 'CHILD_FAILED' } })
    expect(done.error?.message).toContain('kaput')
  })
})
