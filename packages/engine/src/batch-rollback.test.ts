/**
 * Group commit must notice when SQLite ends the open batch transaction by itself (issue 9,
 * item 5). Each test makes a real SQLite rollback happen in a batch that other runs' writes
 * share. Breakage caught: without the check, the other runs' waiters resolve as if their
 * records committed, the next writes autocommit outside any batch, and runs go on with
 * records that no longer exist (the exactly-once counts below then fail, or runs hang).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import { writeConnectionOf, type Engine } from './engine.js'
import { cleanup, openTestEngine, waitFor } from '@litecell/testkit/engine'

afterEach(cleanup)

const VICTIMS = 12

/**
 * Victims write a step and a ledger transaction; the culprit, started last, so that its
 * transaction joins a batch already holding the victims' uncommitted ledger rows, runs
 * `culpritSql`. `hooks.beforeCulprit` runs in the culprit's workflow code just before its
 * transaction, in the same batch.
 */
function rollbackApp(culpritSql: string, hooks: { beforeCulprit?: () => void } = {}) {
  const counts = { victimTransactions: 0, culpritTransactions: 0 }
  const app = defineApp({
    migrations: [
      'CREATE TABLE ledger (run_id TEXT NOT NULL UNIQUE)',
      'CREATE TABLE guarded (n INTEGER)',
      "CREATE TRIGGER refuse_13 BEFORE INSERT ON guarded WHEN NEW.n = 13 BEGIN SELECT RAISE(ROLLBACK, 'thirteen is refused'); END",
      'CREATE TABLE uniq (n INTEGER PRIMARY KEY)',
      'INSERT INTO uniq VALUES (1)',
      'CREATE TABLE blobs (b BLOB)',
    ],
    workflows: {
      victim: async (ctx) => {
        await ctx.step('first', () => 1)
        await ctx.transaction('ledger', (tx) => {
          counts.victimTransactions++
          tx.execute('INSERT INTO ledger (run_id) VALUES (?)', [ctx.runId])
        })
        return ctx.step('last', () => 'done')
      },
      culprit: async (ctx) => {
        await ctx.step('first', () => 1)
        hooks.beforeCulprit?.()
        return ctx.transaction('culprit', (tx) => {
          counts.culpritTransactions++
          tx.execute(culpritSql)
          return 'committed'
        })
      },
    },
  })
  return { app, counts }
}

async function startAll(engine: Engine): Promise<{ victims: string[]; culprit: string }> {
  const { runIds } = await engine.startMany([
    ...Array.from({ length: VICTIMS }, () => ({ workflow: 'victim' })),
    { workflow: 'culprit' },
  ])
  return { victims: runIds.slice(0, VICTIMS), culprit: runIds[VICTIMS] as string }
}

async function expectVictimsSucceededOnce(engine: Engine, victims: string[]): Promise<void> {
  for (const runId of victims) {
    expect(await engine.get(runId)).toMatchObject({ status: 'succeeded', output: 'done' })
  }
  const rows = (await engine.query('SELECT run_id FROM ledger ORDER BY run_id')).rows
  expect(rows).toEqual([...victims].sort().map((runId) => ({ run_id: runId })))
}

describe('a batch SQLite rolls back by itself', () => {
  it.each([
    ["a trigger's RAISE(ROLLBACK)", 'INSERT INTO guarded VALUES (13)', /thirteen is refused/],
    ['INSERT OR ROLLBACK', 'INSERT OR ROLLBACK INTO uniq VALUES (1)', /UNIQUE constraint failed/],
  ])(
    '%s fails only the transaction that caused it; the runs sharing its batch run again and succeed once',
    async (_cause, sql, message) => {
      const { app, counts } = rollbackApp(sql)
      const { engine } = await openTestEngine(app)
      const { victims, culprit } = await startAll(engine)
      await engine.idle()
      const failed = await engine.get(culprit)
      expect(failed).toMatchObject({ status: 'failed', error: { name: 'TerminalError' } })
      expect(failed.error?.message).toMatch(message)
      expect(failed.steps).toMatchObject([
        { name: 'first', status: 'succeeded' },
        { name: 'culprit', status: 'failed' },
      ])
      expect(counts.culpritTransactions).toBe(1)
      await expectVictimsSucceededOnce(engine, victims)
      // Proof that the rollback took other runs' writes along: their transactions ran again.
      expect(counts.victimTransactions).toBeGreaterThan(VICTIMS)
    },
  )

  it('reports a start whose insert the rollback took as failed, never as accepted', async () => {
    let engineRef: Engine | undefined
    let lateStart: Promise<unknown> | undefined
    const { app } = rollbackApp('INSERT INTO guarded VALUES (13)', {
      // Runs synchronously right before the culprit's transaction: the start's insert joins
      // the batch that the trigger is about to roll back.
      beforeCulprit: () => {
        lateStart = engineRef?.start('victim').then(
          (accepted) => ({ accepted }),
          (error: unknown) => ({ error }),
        )
      },
    })
    const { engine } = await openTestEngine(app)
    engineRef = engine
    const { victims } = await startAll(engine)
    await engine.idle()
    const outcome = (await lateStart) as { accepted?: { runId: string }; error?: unknown }
    expect(outcome.error).toMatchObject({ code: 'STORAGE_FAILED' })
    expect((outcome.error as Error).message).toMatch(/SQLite rolled back/)
    expect((await engine.list({ workflow: 'victim', limit: 100 })).runs).toHaveLength(VICTIMS)
    await expectVictimsSucceededOnce(engine, victims)
  })

  it('SQLITE_FULL records no failure: every run of the batch continues once writes succeed again', async () => {
    const blob = 'x'.repeat(200_000)
    const { app, counts } = rollbackApp(`INSERT INTO blobs VALUES (zeroblob(${blob.length}))`)
    const { engine } = await openTestEngine(app)
    const db = writeConnectionOf(engine)
    const pages = (db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count + 4
    // The file may grow by a few pages only: the culprit's 200 kB blob cannot fit.
    db.pragma(`max_page_count = ${pages}`)
    const { victims, culprit } = await startAll(engine)
    await waitFor(() => counts.culpritTransactions >= 3, {
      timeoutMs: 20_000,
      what: 'the culprit to be retried after SQLITE_FULL',
    })
    // While the disk is "full" the culprit is neither failed nor recorded as failed.
    const meanwhile = await engine.get(culprit)
    expect(meanwhile.status).not.toBe('failed')
    expect(meanwhile.steps.map((step) => step.status)).toEqual(['succeeded'])
    db.pragma('max_page_count = 1073741823')
    await engine.idle()
    expect(await engine.get(culprit)).toMatchObject({ status: 'succeeded', output: 'committed' })
    expect((await engine.query('SELECT count(*) AS n FROM blobs')).rows).toEqual([{ n: 1 }])
    await expectVictimsSucceededOnce(engine, victims)
  })
})
