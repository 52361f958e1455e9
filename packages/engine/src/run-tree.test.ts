import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import type { Engine } from './engine.js'
import { cleanup, ManualClock, openTestEngine, runUntilQuiet } from '@litecell/testkit/engine'

afterEach(cleanup)

/** The child run ids a run's journal links to, in call order. */
async function childrenOf(engine: Engine, runId: string): Promise<string[]> {
  return (await engine.get(runId)).steps.flatMap((s) => (s.childRunId ? [s.childRunId] : []))
}

describe('cancel reaches children', () => {
  it('cancels non-detached descendants with PARENT_CANCELLED and leaves detached ones running', async () => {
    const app = defineApp({
      workflows: {
        parent: async (ctx) => {
          await ctx.startChild('middle')
          await ctx.startChild('leaf', null, { detached: true })
          return ctx.waitForEvent('never')
        },
        middle: async (ctx) => {
          await ctx.startChild('leaf')
          return ctx.waitForEvent('never')
        },
        leaf: async (ctx) => ctx.waitForEvent('go'),
      },
    })
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('parent')
    await engine.idle()
    const [middle, detached] = await childrenOf(engine, runId)
    const [grandchild] = await childrenOf(engine, middle as string)
    await engine.cancel(runId)
    for (const id of [middle, grandchild]) {
      expect(await engine.get(id as string)).toMatchObject({
        status: 'cancelled',
        error: { code: 'PARENT_CANCELLED' },
      })
    }
    expect((await engine.get(detached as string)).status).toBe('waiting')
    await engine.sendEvent(detached as string, 'go', 'went')
    await engine.idle()
    expect((await engine.get(detached as string)).status).toBe('succeeded')
  })
})

describe('resume and children', () => {
  it('a resumed parent resumes the children cancelled with it and is woken by their end', async () => {
    // Catches a resumed parent that finds its child cancelled and fails with CHILD_FAILED, or
    // that waits on a child nobody runs.
    const clock = new ManualClock()
    const app = defineApp({
      workflows: {
        parent: async (ctx) => ctx.child<string>('child'),
        child: async (ctx) => {
          await ctx.step('before', () => null)
          await ctx.sleep(1_000)
          return 'child done'
        },
      },
    })
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('parent')
    await engine.idle()
    const [child] = await childrenOf(engine, runId)
    await engine.cancel(runId)
    await engine.resume(runId)
    expect(['pending', 'running', 'sleeping']).toContain((await engine.get(child as string)).status)
    await runUntilQuiet(engine, clock)
    expect(await engine.get(runId)).toMatchObject({ status: 'succeeded', output: 'child done' })
    const childRun = await engine.get(child as string)
    expect(childRun.status).toBe('succeeded')
    // Its journal was kept: `before` ran once.
    expect(childRun.steps.filter((s) => s.name === 'before')).toHaveLength(1)
  })

  it('leaves a child that failed on its own failed: the parent replays CHILD_FAILED', async () => {
    const app = defineApp({
      workflows: {
        parent: async (ctx) => ctx.child('child'),
        child: async (ctx) =>
          ctx.step(
            'boom',
            () => {
              throw new Error('bad')
            },
            { retries: 0 },
          ),
      },
    })
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('parent')
    await engine.idle()
    const [child] = await childrenOf(engine, runId)
    expect((await engine.get(runId)).error?.code).toBe('CHILD_FAILED')
    await engine.resume(runId)
    await engine.idle()
    expect((await engine.get(runId)).status).toBe('failed')
    expect((await engine.get(child as string)).status).toBe('failed')
  })
})

describe('fork and children', () => {
  it('gives the fork its own run of a child that had not ended, and the fork is woken by it', async () => {
    // Before: the fork reused the child run, whose end woke only the original parent, so the
    // fork waited forever.
    const clock = new ManualClock()
    const app = defineApp({
      workflows: {
        parent: async (ctx, input: string) => {
          const handle = await ctx.startChild<string>('child', input)
          await ctx.step('between', () => null)
          return `parent got ${await handle.result()}`
        },
        child: async (ctx, input: string) => {
          await ctx.sleep(1_000)
          return `${input}!`
        },
      },
    })
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('parent', 'x', { tags: { exp: 'a' }, priority: 3 })
    await engine.idle()
    const [child] = await childrenOf(engine, runId)
    // Fork after the child start (seq 1) and `between` (seq 2): the wait (seq 3) runs anew.
    const fork = await engine.fork(runId, { fromStep: 3 })
    await engine.idle()
    const [forkChild] = await childrenOf(engine, fork.runId)
    expect(forkChild).not.toBe(child)
    expect(await engine.get(forkChild as string)).toMatchObject({
      parentRunId: fork.runId,
      input: 'x',
      workflow: 'child',
    })
    expect(await engine.get(fork.runId)).toMatchObject({ tags: { exp: 'a' }, priority: 3 })
    await runUntilQuiet(engine, clock)
    expect(await engine.get(fork.runId)).toMatchObject({
      status: 'succeeded',
      output: 'parent got x!',
    })
    expect((await engine.get(runId)).status).toBe('succeeded')
  })

  it('references a child that ended before the fork point as it is, without running it again', async () => {
    const clock = new ManualClock()
    const runsOfChild: string[] = []
    const app = defineApp({
      workflows: {
        parent: async (ctx) => {
          const got = await ctx.child<string>('child')
          const after = await ctx.step('after', () => 'after')
          return `${got}+${after}`
        },
        child: async (ctx) => ctx.step('work', () => (runsOfChild.push('ran'), 'child')),
      },
    })
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('parent')
    await engine.idle()
    const [child] = await childrenOf(engine, runId)
    // seq 1 child start, seq 2 its result, seq 3 `after`: fork from the result (seq 2).
    const fork = await engine.fork(runId, { fromStep: 2 })
    await engine.idle()
    expect(await childrenOf(engine, fork.runId)).toEqual([child])
    expect(await engine.get(fork.runId)).toMatchObject({
      status: 'succeeded',
      output: 'child+after',
    })
    expect(runsOfChild).toEqual(['ran'])
  })
})
