/**
 * The app of the flow-control tests (priority, partitions, deduplication, debounce, run
 * timeouts), registered as `flow`. Admission order is recorded in the tenant's own
 * `admitted` table by a transaction, so it survives the worker and a test reads it with SQL.
 * A plain object, like the test app.
 */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Workflows shared with the retention app (`retention-app.ts`). */
export const workflows = {
  /** Holds its queue slot for `ms` inside a step, then records itself. */
  hold: async (ctx: any, input: { name: string; ms: number }) => {
    await ctx.step('hold', () => pause(input.ms))
    return admit(ctx, input.name)
  },
  /** Records the order in which runs of its queue were admitted. */
  job: async (ctx: any, input: { name: string }) => admit(ctx, input.name),
  /** Waits for `go` (unfinished until told). */
  waiter: async (ctx: any) => ctx.waitForEvent('go'),
  /** Starts a waiting child (and a detached one), then waits itself. */
  parent: async (ctx: any) => {
    const child = await ctx.startChild('waiter')
    const detached = await ctx.startChild('waiter', null, { detached: true })
    await ctx.waitForEvent('go')
    return [child.runId, detached.runId]
  },
  /** Three steps, for load. */
  three: async (ctx: any, input: { n?: number } | null) => {
    const a = await ctx.step('a', () => (input?.n ?? 0) + 1)
    const b = await ctx.step('b', () => a * 2)
    return ctx.step('c', () => b + 1)
  },
}

function admit(ctx: any, name: string): Promise<string> {
  return ctx.transaction('admit', (tx: any) => {
    tx.execute('INSERT INTO admitted (name, run_id) VALUES (?, ?)', [name, ctx.runId])
    return name
  })
}

/** The schema of both apps. */
export const migrations = [
  'CREATE TABLE admitted (seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, run_id TEXT NOT NULL)',
]

export default {
  migrations,
  queues: {
    serial: { concurrency: 1 },
    gpu: { concurrency: 4, partitionConcurrency: 1 },
  },
  workflows,
}
