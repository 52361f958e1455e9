import { afterEach, describe, expect, it } from 'vitest'
import { defineApp, type WorkflowFn } from './app.js'
import { TerminalError } from './engine-error.js'
import { backoffMs } from './step.js'
import { cleanup, ManualClock, openTestEngine, reopen, runUntilQuiet } from '@litecell/testkit/engine'

afterEach(cleanup)

function appOf(workflows: Record<string, WorkflowFn>) {
  return defineApp({ migrations: ['CREATE TABLE effects (what TEXT)'], workflows })
}

describe('ctx.step', () => {
  it('retries a failing step with durable backoff waits, then fails the run', async () => {
    const clock = new ManualClock()
    const attemptsAt: number[] = []
    const app = appOf({
      flaky: async (ctx) =>
        ctx.step(
          'boom',
          () => {
            attemptsAt.push(clock.nowMs)
            throw new Error('transient')
          },
          { retries: 2, backoff: { initialMs: 1_000, factor: 3 } },
        ),
    })
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const start = clock.nowMs
    const { runId } = await engine.start('flaky')
    await engine.idle()
    const sleeping = await engine.get(runId)
    expect(sleeping.status).toBe('sleeping')
    expect(sleeping.steps).toMatchObject([{ name: 'boom', status: 'retrying', attempts: 1 }])
    expect(await engine.nextWakeAt()).toBe(start + 1_000)
    await runUntilQuiet(engine, clock)
    expect(attemptsAt.map((at) => at - start)).toEqual([0, 1_000, 4_000])
    const failed = await engine.get(runId)
    expect(failed).toMatchObject({
      status: 'failed',
      error: { name: 'TerminalError', message: 'transient' },
    })
    expect(failed.steps).toMatchObject([{ status: 'failed', attempts: 3 }])
  })

  it('continues a retry wait after a restart', async () => {
    const clock = new ManualClock()
    let calls = 0
    const app = appOf({
      flaky: async (ctx) =>
        ctx.step(
          's',
          () => {
            if (++calls < 2) throw new Error('once')
            return 'ok'
          },
          { backoff: { initialMs: 60_000 } },
        ),
    })
    const { engine, path } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('flaky')
    await engine.idle()
    await engine.close()
    clock.advance(60_000)
    const again = await reopen(path, app, { clock: clock.now })
    await again.idle()
    expect(await again.get(runId)).toMatchObject({ status: 'succeeded', output: 'ok' })
    expect(calls).toBe(2)
  })

  it('does not retry a TerminalError', async () => {
    let calls = 0
    const app = appOf({
      terminal: async (ctx) =>
        ctx.step(
          's',
          () => {
            calls++
            throw new TerminalError('card expired', { code: 'CARD' })
          },
          { retries: 5 },
        ),
    })
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('terminal')
    await engine.idle()
    expect(calls).toBe(1)
    expect(await engine.get(runId)).toMatchObject({
      status: 'failed',
      error: { name: 'TerminalError', message: 'card expired', code: 'CARD' },
    })
  })

  it('fails a step whose result is not JSON with NOT_SERIALIZABLE, without retries', async () => {
    let calls = 0
    const app = appOf({
      bad: async (ctx) =>
        ctx.step('s', () => {
          calls++
          return new Map([[1, 2]])
        }),
    })
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('bad')
    await engine.idle()
    expect(calls).toBe(1)
    expect(await engine.get(runId)).toMatchObject({
      status: 'failed',
      error: { code: 'NOT_SERIALIZABLE' },
      steps: [{ status: 'failed' }],
    })
  })

  it('fails an attempt that exceeds timeoutMs with STEP_TIMEOUT and aborts its signal', async () => {
    let aborted = false
    const app = appOf({
      slow: async (ctx) =>
        ctx.step(
          's',
          ({ signal }) =>
            new Promise((resolve) => {
              signal.addEventListener('abort', () => {
                aborted = true
                resolve('late')
              })
            }),
          { timeoutMs: 20, retries: 0 },
        ),
    })
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('slow')
    const done = await engine.result(runId, { waitMs: 5_000 })
    expect(aborted).toBe(true)
    expect(done).toMatchObject({ status: 'failed', error: { code: 'STEP_TIMEOUT' } })
  })

  it('does not re-execute recorded steps when a run replays after a restart', async () => {
    const clock = new ManualClock()
    const calls: string[] = []
    const app = appOf({
      twoPhase: async (ctx) => {
        const a = await ctx.step('a', () => (calls.push('a'), { v: 1, dropped: undefined }))
        await ctx.sleep('1h')
        const b = await ctx.step('b', () => (calls.push('b'), 2))
        return { a, b }
      },
    })
    const { engine, path } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('twoPhase')
    await engine.idle()
    await engine.close()
    clock.advance(3_600_000)
    const again = await reopen(path, app, { clock: clock.now })
    await again.idle()
    expect(calls).toEqual(['a', 'b'])
    expect((await again.get(runId)).output).toEqual({ a: { v: 1 }, b: 2 })
  })

  it('fails the run with NON_DETERMINISM when a replayed call has another name', async () => {
    const clock = new ManualClock()
    let version = 1
    const app = appOf({
      changing: async (ctx) => {
        await ctx.step(version === 1 ? 'fetch' : 'download', () => 1)
        await ctx.sleep(1_000)
        return 'done'
      },
    })
    const { engine, path } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('changing')
    await engine.idle()
    await engine.close()
    version = 2
    clock.advance(1_000)
    const again = await reopen(path, app, { clock: clock.now })
    await again.idle()
    const run = await again.get(runId)
    expect(run.status).toBe('failed')
    expect(run.error?.code).toBe('NON_DETERMINISM')
    expect(run.error?.message).toContain("step 'download'")
    expect(run.error?.message).toContain("step 'fetch'")
    expect(run.error?.message).toContain(runId)
    expect(run.error?.message).toContain('changing')
  })

  it('fails with NON_DETERMINISM even if the workflow catches the error', async () => {
    let version = 1
    const clock = new ManualClock()
    const app = appOf({
      sneaky: async (ctx) => {
        try {
          await ctx.step(version === 1 ? 'a' : 'b', () => 1)
        } catch {
          return 'swallowed'
        }
        await ctx.sleep(10)
        return 'done'
      },
    })
    const { engine, path } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('sneaky')
    await engine.idle()
    await engine.close()
    version = 2
    clock.advance(10)
    const again = await reopen(path, app, { clock: clock.now })
    await again.idle()
    expect((await again.get(runId)).error?.code).toBe('NON_DETERMINISM')
  })

  it('computes backoff as initialMs * factor^(attempt-1) capped at maxMs', () => {
    expect(
      [1, 2, 3, 4].map((n) => backoffMs(n, { initialMs: 100, factor: 2, maxMs: 500 })),
    ).toEqual([100, 200, 400, 500])
  })
})

describe('ctx.transaction', () => {
  it('commits its SQL together with its checkpoint and replays without running again', async () => {
    const clock = new ManualClock()
    let calls = 0
    const app = appOf({
      tx: async (ctx) => {
        const n = await ctx.transaction('insert', (tx) => {
          calls++
          tx.execute('INSERT INTO effects (what) VALUES (?)', ['row'])
          return (tx.execute('SELECT count(*) AS n FROM effects')[0] as { n: number }).n
        })
        await ctx.sleep(5)
        return n
      },
    })
    const { engine, path } = await openTestEngine(app, { clock: clock.now })
    const { runId } = await engine.start('tx')
    await engine.idle()
    await engine.close()
    clock.advance(5)
    const again = await reopen(path, app, { clock: clock.now })
    await again.idle()
    expect(calls).toBe(1)
    expect((await again.get(runId)).output).toBe(1)
    expect((await again.query('SELECT count(*) AS n FROM effects')).rows).toEqual([{ n: 1 }])
  })

  it('rolls back its writes when its function throws and fails the run without retries', async () => {
    const app = appOf({
      tx: async (ctx) => {
        await ctx.step('before', () => 1)
        return ctx.transaction('insert', (tx) => {
          tx.execute('INSERT INTO effects (what) VALUES (?)', ['row'])
          throw new Error('constraint')
        })
      },
    })
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('tx')
    await engine.idle()
    expect(await engine.get(runId)).toMatchObject({
      status: 'failed',
      error: { message: 'constraint' },
      steps: [{ status: 'succeeded' }, { name: 'insert', status: 'failed' }],
    })
    expect((await engine.query('SELECT count(*) AS n FROM effects')).rows).toEqual([{ n: 0 }])
  })

  it('refuses an async transaction function and rolls it back', async () => {
    const app = appOf({
      tx: async (ctx) =>
        ctx.transaction('insert', ((tx: { execute(sql: string): unknown }) => {
          tx.execute("INSERT INTO effects (what) VALUES ('x')")
          return Promise.resolve(1)
        }) as never),
    })
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('tx')
    await engine.idle()
    expect((await engine.get(runId)).error?.message).toContain('synchronous')
    expect((await engine.query('SELECT count(*) AS n FROM effects')).rows).toEqual([{ n: 0 }])
  })
})

describe('ctx.step after its timeout', () => {
  it('leaves no unhandled rejection when the attempt rejects after losing the timeout race', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      let rejectedLate = (): void => undefined
      const late = new Promise<void>((resolve) => (rejectedLate = resolve))
      const app = appOf({
        slow: async (ctx) =>
          ctx.step(
            'slow',
            () =>
              new Promise((_, reject) =>
                setTimeout(() => {
                  reject(new Error('rejected after the timeout'))
                  rejectedLate()
                }, 60),
              ),
            { timeoutMs: 10, retries: 0 },
          ),
      })
      const { engine } = await openTestEngine(app)
      const { runId } = await engine.start('slow')
      await engine.idle()
      await late
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(await engine.get(runId)).toMatchObject({
        status: 'failed',
        error: { code: 'STEP_TIMEOUT' },
      })
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})
