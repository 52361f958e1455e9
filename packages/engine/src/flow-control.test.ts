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

/** A gate a step can wait on, opened from the test. */
function gate(): { wait: () => Promise<void>; open: () => void } {
  let open = (): void => undefined
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { wait: () => opened, open: () => open() }
}

describe('priority', () => {
  it('admits a queue’s waiting runs lower priority first, FIFO within a priority', async () => {
    const order: string[] = []
    const blocker = gate()
    const app = defineApp({
      queues: { serial: { concurrency: 1 } },
      workflows: {
        block: async (ctx) => ctx.step('hold', () => blocker.wait()),
        job: async (ctx, name: string) => ctx.step('run', () => void order.push(name)),
      },
    })
    const { engine } = await openTestEngine(app)
    await engine.start('block', null, { queue: 'serial' })
    await engine.startMany([
      { workflow: 'job', input: 'low-1', queue: 'serial', priority: 10 },
      { workflow: 'job', input: 'default-1', queue: 'serial' },
      { workflow: 'job', input: 'urgent-1', queue: 'serial', priority: -5 },
      { workflow: 'job', input: 'default-2', queue: 'serial', priority: 0 },
      { workflow: 'job', input: 'urgent-2', queue: 'serial', priority: -5 },
      { workflow: 'job', input: 'low-2', queue: 'serial', priority: 10 },
    ])
    blocker.open()
    await engine.idle()
    expect(order).toEqual(['urgent-1', 'urgent-2', 'default-1', 'default-2', 'low-1', 'low-2'])
    const listed = await engine.list({ workflow: 'job' })
    expect(listed.runs.find((run) => run.priority === -5)).toBeDefined()
  })

  it('keeps the admission order across a close and reopen (it is rebuilt from the database)', async () => {
    // Catches an in-memory-only order: after the reopen, recovery must admit the pending runs
    // by (priority, start order), not by whatever order it happens to find them in.
    const order: string[] = []
    const blocker = gate()
    const app = defineApp({
      queues: { serial: { concurrency: 1 } },
      workflows: {
        block: async (ctx) => {
          await ctx.step('hold', () => blocker.wait())
          await ctx.step('after', () => null)
        },
        job: async (ctx, name: string) => ctx.step('run', () => void order.push(name)),
      },
    })
    const { engine, path } = await openTestEngine(app)
    await engine.start('block', null, { queue: 'serial', priority: -100 })
    const names = ['c-low', 'a-urgent', 'd-default', 'b-urgent', 'e-default']
    const priorities = [7, -3, 0, -3, 0]
    for (const [i, name] of names.entries()) {
      await engine.start('job', name, { queue: 'serial', priority: priorities[i] as number })
    }
    const closing = engine.close()
    // Released once the close is under way (its first steps take microtasks only), so `block`
    // stops at its next ctx call and still holds the queue's slot when the file reopens: a
    // run that gets there in fewer hops (a lone run's step does not wait for its commit)
    // would otherwise finish before the close begins.
    await new Promise((resolve) => setImmediate(resolve))
    blocker.open()
    await closing
    expect(order).toEqual([])
    const reopened = await reopen(path, app)
    await reopened.idle()
    expect(order).toEqual(['a-urgent', 'b-urgent', 'd-default', 'e-default', 'c-low'])
  })

  it('refuses a priority that is not an integer in range, writing nothing', async () => {
    const app = defineApp({ workflows: { job: async () => null } })
    const { engine } = await openTestEngine(app)
    for (const priority of [1.5, '1', 2_000_000, -2_000_000, Number.NaN]) {
      await expect(
        engine.start('job', null, { priority: priority as number }),
      ).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringContaining('priority'),
      })
    }
    expect((await engine.list()).runs).toHaveLength(0)
  })
})

describe('deduplication', () => {
  it('rejects a second start while the first is unfinished with DUPLICATE_RUN naming it, then frees the id', async () => {
    const clock = new ManualClock()
    const app = defineApp({
      workflows: { report: async (ctx) => ctx.sleep(1_000) },
    })
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const first = await engine.start('report', { user: 1 }, { deduplicationId: 'user-1' })
    await engine.idle()
    const duplicate = engine.start('report', { user: 1 }, { deduplicationId: 'user-1' })
    await expect(duplicate).rejects.toMatchObject({
      code: 'DUPLICATE_RUN',
      details: { runId: first.runId },
      message: expect.stringContaining(first.runId),
    })
    // Another id is independent; a batch with a held id writes nothing at all.
    await engine.start('report', null, { deduplicationId: 'user-2' })
    await expect(
      engine.startMany([
        { workflow: 'report', deduplicationId: 'user-3' },
        { workflow: 'report', deduplicationId: 'user-1' },
      ]),
    ).rejects.toMatchObject({ code: 'DUPLICATE_RUN', details: { runId: first.runId } })
    expect((await engine.list()).runs).toHaveLength(2)
    await runUntilQuiet(engine, clock)
    expect((await engine.get(first.runId)).status).toBe('succeeded')
    const again = await engine.start('report', null, { deduplicationId: 'user-1' })
    expect(again.runId).not.toBe(first.runId)
    expect((await engine.get(again.runId)).deduplicationId).toBe('user-1')
  })

  it('keeps dedup state across a reopen and refuses the same id twice in one batch', async () => {
    const app = defineApp({ workflows: { wait: async (ctx) => ctx.waitForEvent('go') } })
    const { engine, path } = await openTestEngine(app)
    const first = await engine.start('wait', null, { deduplicationId: 'only-one' })
    await engine.close()
    const reopened = await reopen(path, app)
    await expect(
      reopened.start('wait', null, { deduplicationId: 'only-one' }),
    ).rejects.toMatchObject({ code: 'DUPLICATE_RUN', details: { runId: first.runId } })
    await expect(
      reopened.startMany([
        { workflow: 'wait', deduplicationId: 'twin' },
        { workflow: 'wait', deduplicationId: 'twin' },
      ]),
    ).rejects.toMatchObject({ code: 'DUPLICATE_RUN' })
    expect((await reopened.list()).runs).toHaveLength(1)
  })

  it('differs from an idempotency key: the key returns the same run even after it ended', async () => {
    const app = defineApp({ workflows: { job: async () => 'done' } })
    const { engine } = await openTestEngine(app)
    const a = await engine.start('job', null, { idempotencyKey: 'k', deduplicationId: 'd' })
    await engine.idle()
    const b = await engine.start('job', null, { idempotencyKey: 'k', deduplicationId: 'd' })
    expect(b).toMatchObject({ runId: a.runId, created: false })
    const c = await engine.start('job', null, { deduplicationId: 'd' })
    expect(c.created).toBe(true)
  })

  it('refuses to resume a run whose deduplication id another unfinished run took', async () => {
    const app = defineApp({ workflows: { wait: async (ctx) => ctx.waitForEvent('go') } })
    const { engine } = await openTestEngine(app)
    const first = await engine.start('wait', null, { deduplicationId: 'slot' })
    await engine.cancel(first.runId)
    const second = await engine.start('wait', null, { deduplicationId: 'slot' })
    await expect(engine.resume(first.runId)).rejects.toMatchObject({
      code: 'DUPLICATE_RUN',
      details: { runId: second.runId },
    })
    expect((await engine.get(first.runId)).status).toBe('cancelled')
  })
})

describe('partitions', () => {
  it('runs at most partitionConcurrency runs of one partition at once, other partitions alongside', async () => {
    const running = new Map<string, number>()
    const peak = new Map<string, number>()
    let total = 0
    let peakTotal = 0
    const app = defineApp({
      queues: { gpu: { concurrency: 8, partitionConcurrency: 1 } },
      workflows: {
        train: async (ctx, user: string) =>
          ctx.step('epoch', async () => {
            running.set(user, (running.get(user) ?? 0) + 1)
            peak.set(user, Math.max(peak.get(user) ?? 0, running.get(user) as number))
            peakTotal = Math.max(peakTotal, ++total)
            await new Promise((resolve) => setTimeout(resolve, 5))
            running.set(user, (running.get(user) as number) - 1)
            total--
          }),
      },
    })
    const { engine } = await openTestEngine(app)
    const users = ['alice', 'alice', 'alice', 'bob', 'bob', 'carol']
    await engine.startMany(
      users.map((user) => ({ workflow: 'train', input: user, queue: 'gpu', partitionKey: user })),
    )
    await engine.idle()
    expect(Object.fromEntries(peak)).toEqual({ alice: 1, bob: 1, carol: 1 })
    expect(peakTotal).toBe(3)
    const run = (await engine.list({ workflow: 'train' })).runs[0]
    expect(run?.partitionKey).toBeDefined()
  })

  it('refuses a partition key on a queue without partitionConcurrency', async () => {
    const app = defineApp({
      queues: { plain: { concurrency: 2 } },
      workflows: { job: async () => null },
    })
    const { engine } = await openTestEngine(app)
    await expect(engine.start('job', null, { partitionKey: 'u1' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('partitionConcurrency'),
    })
    await expect(
      engine.start('job', null, { queue: 'plain', partitionKey: 'u1' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    expect(() =>
      defineApp({
        queues: { bad: { concurrency: 2, partitionConcurrency: 0 } },
        workflows: { job: async () => null },
      }),
    ).toThrow(/partitionConcurrency/)
  })
})
