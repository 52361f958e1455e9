import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import { cleanup, ManualClock, openTestEngine, reopen, runUntilQuiet } from '@litecell/testkit/engine'

afterEach(cleanup)

describe('cancel, resume and fork', () => {
  it('cancels a sleeping run and its children; resume continues it', async () => {
    const clock = new ManualClock()
    const app = defineApp({
      workflows: {
        parent: async (ctx) => {
          const child = await ctx.startChild('child')
          await ctx.sleep(1_000)
          return { slept: true, child: child.runId }
        },
        child: async (ctx) => ctx.waitForEvent('never'),
      },
    })
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('parent')
    await engine.idle()
    const cancelled = await engine.cancel(runId)
    expect(cancelled.status).toBe('cancelled')
    const child = (await engine.list({ workflow: 'child' })).runs[0]
    expect(child?.status).toBe('cancelled')
    await expect(engine.cancel(runId)).rejects.toMatchObject({ code: 'INVALID_STATE' })
    clock.advance(1_000)
    await engine.idle()
    expect((await engine.get(runId)).status).toBe('cancelled')

    const resumed = await engine.resume(runId)
    expect(['pending', 'running']).toContain(resumed.status)
    await runUntilQuiet(engine, clock)
    expect(await engine.get(runId)).toMatchObject({
      status: 'succeeded',
      output: { slept: true, child: child?.runId },
    })
    await expect(engine.resume(runId)).rejects.toMatchObject({ code: 'INVALID_STATE' })
  })

  it('stops an executing run at its next ctx call when cancelled', async () => {
    let release = (): void => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const calls: string[] = []
    const app = defineApp({
      workflows: {
        long: async (ctx) => {
          await ctx.step('one', async () => {
            calls.push('one')
            await gate
          })
          await ctx.step('two', () => calls.push('two'))
        },
      },
    })
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('long')
    await new Promise((resolve) => setImmediate(resolve))
    const result = engine.result(runId, { waitMs: 5_000 })
    await engine.cancel(runId)
    release()
    await engine.idle()
    expect((await result).status).toBe('cancelled')
    expect(calls).toEqual(['one'])
    expect((await engine.get(runId)).steps).toMatchObject([{ name: 'one', status: 'succeeded' }])
  })

  it('resumes a failed run from its failed step', async () => {
    let healthy = false
    const calls: string[] = []
    const app = defineApp({
      workflows: {
        fragile: async (ctx) => {
          await ctx.step('setup', () => calls.push('setup'))
          return ctx.step(
            'call',
            () => {
              calls.push('call')
              if (!healthy) throw new Error('down')
              return 'up'
            },
            { retries: 0 },
          )
        },
      },
    })
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('fragile')
    await engine.idle()
    expect((await engine.get(runId)).status).toBe('failed')
    healthy = true
    await engine.resume(runId)
    await engine.idle()
    expect(await engine.get(runId)).toMatchObject({
      status: 'succeeded',
      output: 'up',
      error: null,
    })
    expect(calls).toEqual(['setup', 'call', 'call'])
  })

  it('forks a run from a step: earlier records are reused, later calls run anew', async () => {
    const calls: string[] = []
    const app = defineApp({
      workflows: {
        pipeline: async (ctx) => {
          const a = await ctx.step('a', () => (calls.push('a'), 'A'))
          const b = await ctx.step('b', () => (calls.push('b'), 'B'))
          const c = await ctx.step('c', () => (calls.push('c'), 'C'))
          return a + b + c
        },
      },
    })
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('pipeline')
    await engine.idle()
    const fork = await engine.fork(runId, { fromStep: 2 })
    await engine.idle()
    expect(fork.runId).not.toBe(runId)
    expect(await engine.get(fork.runId)).toMatchObject({ status: 'succeeded', output: 'ABC' })
    expect(calls).toEqual(['a', 'b', 'c', 'b', 'c'])
    await expect(engine.fork(runId, { fromStep: 0 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
    await expect(engine.fork('missing', { fromStep: 1 })).rejects.toMatchObject({
      code: 'RUN_NOT_FOUND',
    })
  })
})

describe('queues and concurrency', () => {
  it('runs a named queue at its own concurrency', async () => {
    let running = 0
    let peak = 0
    const app = defineApp({
      queues: { gpu: { concurrency: 2 } },
      workflows: {
        job: async (ctx) =>
          ctx.step('work', async () => {
            peak = Math.max(peak, ++running)
            await new Promise((resolve) => setTimeout(resolve, 5))
            running--
          }),
      },
    })
    const { engine } = await openTestEngine(app)
    await engine.startMany(Array.from({ length: 8 }, () => ({ workflow: 'job', queue: 'gpu' })))
    await engine.idle()
    expect(peak).toBe(2)
    expect((await engine.list({ status: 'succeeded' })).runs).toHaveLength(8)
  })
})

describe('rate limits', () => {
  it('starts at most `limit` executions of a queue per period', async () => {
    const startedAt: number[] = []
    const app = defineApp({
      queues: { api: { concurrency: 10, rateLimit: { limit: 2, periodMs: 100 } } },
      workflows: { call: async () => void startedAt.push(Date.now()) },
    })
    const { engine } = await openTestEngine(app)
    await engine.startMany(Array.from({ length: 5 }, () => ({ workflow: 'call', queue: 'api' })))
    await engine.idle()
    expect(startedAt).toHaveLength(5)
    expect((startedAt[4] as number) - (startedAt[0] as number)).toBeGreaterThanOrEqual(180)
  })
})

describe('parallel calls', () => {
  it('numbers concurrent ctx calls in call order and replays them deterministically', async () => {
    const clock = new ManualClock()
    const calls: string[] = []
    const app = defineApp({
      workflows: {
        fanout: async (ctx) => {
          const slow = (name: string, ms: number) =>
            ctx.step(name, async () => {
              calls.push(name)
              await new Promise((resolve) => setTimeout(resolve, ms))
              return name
            })
          const results = await Promise.all([slow('a', 15), slow('b', 1), slow('c', 5)])
          await ctx.sleep(10)
          return results
        },
      },
    })
    const { engine, path } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('fanout')
    await engine.idle()
    await engine.close()
    clock.advance(10)
    const again = await reopen(path, app, { clock: clock.now })
    await again.idle()
    const run = await again.get(runId)
    expect(run.output).toEqual(['a', 'b', 'c'])
    expect(run.steps.map((step) => `${step.seq}:${step.name}`)).toEqual([
      '1:a',
      '2:b',
      '3:c',
      '4:sleep',
    ])
    expect(calls.sort()).toEqual(['a', 'b', 'c'])
  })
})

describe('group commit', () => {
  it('shares commits between concurrent runs: far fewer commits than steps', async () => {
    let commits = 0
    let writes = 0
    const app = defineApp({
      workflows: {
        three: async (ctx, input: number) => {
          const a = await ctx.step('a', () => input + 1)
          const b = await ctx.step('b', () => a + 1)
          return ctx.step('c', () => b + 1)
        },
      },
    })
    const { engine } = await openTestEngine(app, {
      observer: { onCommit: (n) => ((commits += 1), (writes += n)) },
    })
    const runs = 200
    await engine.startMany(
      Array.from({ length: runs }, (_, i) => ({ workflow: 'three', input: i })),
    )
    await engine.idle()
    expect((await engine.list({ status: 'succeeded', limit: 1000 })).runs).toHaveLength(runs)
    expect(commits).toBeLessThan(runs / 5)
    expect(writes).toBeGreaterThan(runs * 3)
  })
})

describe('close', () => {
  it('gives up on a hanging step after timeoutMs; the step runs again on the next open', async () => {
    let hang = true
    let attempts = 0
    const app = defineApp({
      workflows: {
        stuck: async (ctx) =>
          ctx.step('wait', () => {
            attempts++
            return hang ? new Promise<string>(() => undefined) : 'free'
          }),
      },
    })
    const { engine, path } = await openTestEngine(app)
    const { runId } = await engine.start('stuck')
    await new Promise((resolve) => setImmediate(resolve))
    await engine.close({ timeoutMs: 20 })
    hang = false
    const again = await reopen(path, app)
    await again.idle()
    expect(await again.get(runId)).toMatchObject({ status: 'succeeded', output: 'free' })
    expect(attempts).toBe(2)
  })

  it('stops in-flight runs at their next ctx call and continues them on the next open', async () => {
    let release = (): void => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const calls: string[] = []
    const app = defineApp({
      workflows: {
        long: async (ctx) => {
          await ctx.step('one', async () => {
            calls.push('one')
            await gate
          })
          await ctx.step('two', () => calls.push('two'))
          return 'done'
        },
      },
    })
    const { engine, path } = await openTestEngine(app)
    const { runId } = await engine.start('long')
    await new Promise((resolve) => setImmediate(resolve))
    const pending = engine.result(runId, { waitMs: 60_000 })
    const closing = engine.close()
    release()
    await closing
    // Stopped at a durable point by a clean close: pending again, not `running` (which the
    // next open would count as a crash of this run).
    expect((await pending).status).toBe('pending')
    expect(calls).toEqual(['one'])
    const again = await reopen(path, app)
    await again.idle()
    expect(await again.get(runId)).toMatchObject({ status: 'succeeded', output: 'done' })
    expect(calls).toEqual(['one', 'two'])
  })
})
