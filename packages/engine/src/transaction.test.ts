import { afterEach, describe, expect, it } from 'vitest'
import { defineApp, type WorkflowFn } from './app.js'
import { writeConnectionOf } from './engine.js'
import type { TransactionClient } from './workflow-context.js'
import { cleanup, openTestEngine } from '@litecell/testkit/engine'

afterEach(cleanup)

function appOf(workflows: Record<string, WorkflowFn>) {
  return defineApp({
    migrations: ['CREATE TABLE effects (what TEXT, n INTEGER)'],
    workflows,
  })
}

/** A workflow whose only call is `ctx.transaction('tx', fn)`. */
function txWorkflow(fn: (tx: TransactionClient) => unknown): WorkflowFn {
  return async (ctx) => ctx.transaction('tx', fn as never)
}

async function count(engine: { query(sql: string): Promise<{ rows: unknown[] }> }) {
  return ((await engine.query('SELECT count(*) AS n FROM effects')).rows[0] as { n: number }).n
}

describe('tx.execute', () => {
  it('takes the { sql, args } statement form with positional and named arguments', async () => {
    const app = appOf({
      forms: txWorkflow((tx) => {
        tx.execute({ sql: 'INSERT INTO effects VALUES (?, ?)', args: ['positional', 1] })
        tx.execute({ sql: 'INSERT INTO effects VALUES (:what, :n)', args: { what: 'named', n: 2 } })
        // @libsql/client users may keep the prefix in the key.
        tx.execute({ sql: 'INSERT INTO effects VALUES ($what, @n)', args: { $what: 'prefixed', '@n': 3 } })
        tx.execute({ sql: "INSERT INTO effects VALUES ('no args', 4)" })
        tx.execute('INSERT INTO effects VALUES (:what, :n)', { ':what': 'pair', n: true })
        return tx.execute({ sql: 'SELECT what, n FROM effects ORDER BY n' })
      }),
    })
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('forms')
    await engine.idle()
    expect(await engine.get(runId)).toMatchObject({
      status: 'succeeded',
      output: [
        { what: 'positional', n: 1 },
        { what: 'pair', n: 1 },
        { what: 'named', n: 2 },
        { what: 'prefixed', n: 3 },
        { what: 'no args', n: 4 },
      ],
    })
  })

  it.each([
    'BEGIN',
    'BEGIN IMMEDIATE',
    'COMMIT',
    'END',
    'ROLLBACK',
    'SAVEPOINT mine',
    'RELEASE lc_transaction',
    'ROLLBACK TO lc_transaction',
    "ATTACH ':memory:' AS other",
    'DETACH main',
    'PRAGMA journal_mode=DELETE',
    'PRAGMA wal_checkpoint(TRUNCATE)',
    'PRAGMA foreign_keys=OFF',
    'PRAGMA user_version=7',
    'VACUUM',
    "INSERT INTO effects VALUES ('a', 1); COMMIT",
  ])('refuses `%s` with a clear error that fails the run, not the batch', async (sql) => {
    const app = appOf({
      bad: txWorkflow((tx) => {
        tx.execute("INSERT INTO effects VALUES ('bad', 0)")
        try {
          tx.execute(sql)
        } catch {
          // Caught: the transaction must still fail.
        }
        return 'went on'
      }),
      good: txWorkflow((tx) => tx.execute("INSERT INTO effects VALUES ('good', 1)")),
    })
    const { engine } = await openTestEngine(app)
    const { runIds } = await engine.startMany([
      { workflow: 'good' },
      { workflow: 'bad' },
      { workflow: 'good' },
    ])
    await engine.idle()
    const [before, bad, after] = await Promise.all(runIds.map((id) => engine.get(id)))
    expect(before?.status).toBe('succeeded')
    expect(after?.status).toBe('succeeded')
    expect(bad?.status).toBe('failed')
    expect(bad?.error).toMatchObject({ code: 'INVALID_INPUT' })
    expect(bad?.error?.message).toMatch(/tx\.execute (refuses|runs one statement)/)
    expect((await engine.query("SELECT what FROM effects ORDER BY what")).rows).toEqual([
      { what: 'good' },
      { what: 'good' },
    ])
    expect(writeConnectionOf(engine).prepare('PRAGMA journal_mode').get()).toEqual({
      journal_mode: 'wal',
    })
  })

  it('allows the schema-reading pragmas', async () => {
    const app = appOf({
      schema: txWorkflow((tx) =>
        tx.execute('PRAGMA table_info(effects)').map((column) => column.name),
      ),
    })
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('schema')
    await engine.idle()
    expect((await engine.get(runId)).output).toEqual(['what', 'n'])
  })

  it('refuses named arguments for a plain ? parameter instead of letting the driver abort the process', async () => {
    // libsql 0.6 panics (and aborts the process) when an object binds a nameless parameter.
    const app = appOf({
      typo: txWorkflow((tx) => tx.execute('INSERT INTO effects VALUES (?, 1)', { what: 'x' })),
      buffer: txWorkflow((tx) =>
        tx.execute('INSERT INTO effects VALUES (:what, 1)', new Uint8Array([1]) as never),
      ),
    })
    const { engine } = await openTestEngine(app)
    const { runIds } = await engine.startMany([{ workflow: 'typo' }, { workflow: 'buffer' }])
    await engine.idle()
    for (const runId of runIds) {
      expect(await engine.get(runId)).toMatchObject({
        status: 'failed',
        error: { code: 'INVALID_INPUT' },
      })
    }
    expect(await count(engine)).toBe(0)
  })
})

describe('ctx.transaction with an async function', () => {
  it('fails the run without an unhandled rejection when the promise later uses tx', async () => {
    // Issue 9: the promise rejected ("this ctx.transaction has already ended") with no handler,
    // and Node's unhandled-rejection default killed the worker, on every recovery again.
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      let settled = (): void => undefined
      const late = new Promise<void>((resolve) => (settled = resolve))
      const app = appOf({
        async: txWorkflow(async (tx) => {
          tx.execute("INSERT INTO effects VALUES ('before await', 1)")
          await new Promise((resolve) => setTimeout(resolve, 20))
          try {
            tx.execute("INSERT INTO effects VALUES ('after await', 2)")
          } finally {
            settled()
          }
        }),
      })
      const { engine } = await openTestEngine(app)
      const { runId } = await engine.start('async')
      await engine.idle()
      await late
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(await engine.get(runId)).toMatchObject({
        status: 'failed',
        error: { code: 'INVALID_INPUT' },
      })
      expect((await engine.get(runId)).error?.message).toMatch(/returned a promise/)
      expect(await count(engine)).toBe(0)
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})

describe('ctx.transaction time budget', () => {
  const RUNAWAY_SELECT =
    'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c'
  const RUNAWAY_INSERT =
    'INSERT INTO effects (what, n) SELECT \'runaway\', x FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c)'

  it.each([
    ['SELECT', RUNAWAY_SELECT],
    ['INSERT…SELECT', RUNAWAY_INSERT],
  ])(
    'interrupts a runaway %s inside SQLite and fails its run with STEP_TIMEOUT; the other runs of its batch succeed',
    async (_kind, sql) => {
      const TIMEOUT_MS = 150
      let othersExecuted = 0
      const app = appOf({
        runaway: async (ctx) => {
          await ctx.step('first', () => 1)
          return ctx.transaction('loop', (tx) => {
            tx.execute("INSERT INTO effects VALUES ('runaway-before', 0)")
            return tx.execute(sql)
          })
        },
        other: async (ctx) => {
          await ctx.step('first', () => 1)
          await ctx.transaction('write', (tx) => {
            othersExecuted++
            tx.execute("INSERT INTO effects VALUES ('other', 1)")
          })
          return ctx.step('last', () => 'done')
        },
      })
      const { engine } = await openTestEngine(app, { transactionTimeoutMs: TIMEOUT_MS })
      // The runaway goes last so that the others' transactions already sit in its batch.
      const { runIds } = await engine.startMany([
        ...Array.from({ length: 5 }, () => ({ workflow: 'other' })),
        { workflow: 'runaway' },
      ])
      const runawayId = runIds[5] as string
      const startedAt = performance.now()
      await engine.idle()
      const elapsedMs = performance.now() - startedAt
      const runaway = await engine.get(runawayId)
      expect(runaway).toMatchObject({ status: 'failed', error: { code: 'STEP_TIMEOUT' } })
      expect(runaway.error?.message).toMatch(/transactionTimeoutMs 150/)
      expect(runaway.steps).toMatchObject([
        { name: 'first', status: 'succeeded' },
        { name: 'loop', status: 'failed' },
      ])
      for (const runId of runIds.slice(0, 5)) {
        expect(await engine.get(runId)).toMatchObject({ status: 'succeeded', output: 'done' })
      }
      // Exactly once per other run, even when the interrupted write took their batch along.
      const rows = (await engine.query('SELECT what, count(*) AS n FROM effects GROUP BY what'))
        .rows
      expect(rows).toEqual([{ what: 'other', n: 5 }])
      if (sql === RUNAWAY_INSERT) {
        // SQLite rolled back the whole batch: the others whose transaction was in it (all or
        // most of them, depending on how the batches fell) ran it again.
        expect(othersExecuted).toBeGreaterThan(5)
        expect(othersExecuted).toBeLessThanOrEqual(10)
      } else {
        expect(othersExecuted).toBe(5)
      }
      // The bound is the budget plus scheduling, not the runaway: generous for a busy machine.
      expect(elapsedMs).toBeLessThan(TIMEOUT_MS + 10_000)
    },
  )
})
