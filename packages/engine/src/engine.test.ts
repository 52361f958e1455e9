import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Libsql from 'libsql'
import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import { openConnection } from './connection.js'
import { Engine } from './engine.js'
import type { EngineError } from './engine-error.js'
import { cleanup, openTestEngine, reopen, tempDir } from '@litecell/testkit/engine'

afterEach(cleanup)

const app = defineApp({
  queues: { gpu: { concurrency: 1 } },
  workflows: {
    echo: async (ctx, input) => ctx.step('echo', () => input),
    other: async () => 'other',
  },
})

function countRuns(path: string): number {
  const db = new Libsql(path, { readonly: true })
  try {
    return (db.prepare('SELECT count(*) AS n FROM lc_runs').get() as { n: number }).n
  } finally {
    db.close()
  }
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (error) {
    return (error as EngineError).code
  }
  return undefined
}

describe('Engine', () => {
  it('runs a started workflow to its output and reports it through get and result', async () => {
    const { engine } = await openTestEngine(app)
    const { runId, status, created } = await engine.start('echo', { hello: 'world' })
    expect(status).toBe('pending')
    expect(created).toBe(true)
    const done = await engine.result(runId, { waitMs: 5_000 })
    expect(done).toMatchObject({
      runId,
      workflow: 'echo',
      status: 'succeeded',
      input: { hello: 'world' },
      output: { hello: 'world' },
      error: null,
      queue: null,
    })
    expect(done.steps).toMatchObject([{ seq: 1, name: 'echo', status: 'succeeded', attempts: 1 }])
    expect(Date.parse(done.createdAt)).not.toBeNaN()
    expect(await engine.get(runId)).toEqual(done)
  })

  it('returns the same run for the same idempotency key and starts no second run', async () => {
    const { engine, path } = await openTestEngine(app)
    const first = await engine.start('echo', 1, { idempotencyKey: 'k1' })
    const second = await engine.start('echo', 2, { idempotencyKey: 'k1' })
    expect(second).toMatchObject({ runId: first.runId, created: false })
    await engine.idle()
    expect((await engine.get(first.runId)).output).toBe(1)
    expect(countRuns(path)).toBe(1)
    expect(await codeOf(engine.start('other', null, { idempotencyKey: 'k1' }))).toBe(
      'IDEMPOTENCY_CONFLICT',
    )
  })

  it('starts many runs in one commit, deduplicating idempotency keys', async () => {
    let commits = 0
    const whenAccepted: { commits: number; runs: number }[] = []
    const observer = {
      onCommit: () => commits++,
      onRunStatus: (_runId: string, _workflow: string, status: string) => {
        if (status === 'pending' && whenAccepted.length === 0) {
          whenAccepted.push({ commits, runs: countRuns(path) })
        }
      },
    }
    const path = join(tempDir(), 'many.db')
    const { engine } = await openTestEngine(app, { observer, path })
    const { runIds } = await engine.startMany([
      { workflow: 'echo', input: 1 },
      { workflow: 'echo', input: 2, idempotencyKey: 'x' },
      { workflow: 'echo', input: 3, idempotencyKey: 'x' },
      { workflow: 'other', queue: 'gpu' },
    ])
    // When the first run is announced, one commit has made all three distinct runs durable.
    expect(whenAccepted).toEqual([{ commits: 1, runs: 3 }])
    expect(runIds).toHaveLength(4)
    expect(runIds[1]).toBe(runIds[2])
    await engine.idle()
    expect((await engine.get(runIds[3] as string)).queue).toBe('gpu')
  })

  it('rejects bad input with typed errors and writes nothing', async () => {
    const { engine, path } = await openTestEngine(app)
    expect(await codeOf(engine.start('nope'))).toBe('UNKNOWN_WORKFLOW')
    expect(await codeOf(engine.start('echo', { when: new Date() } as never))).toBe('INVALID_INPUT')
    expect(await codeOf(engine.start('echo', { n: Number.NaN }))).toBe('INVALID_INPUT')
    expect(await codeOf(engine.start('echo', (() => 1) as never))).toBe('INVALID_INPUT')
    expect(await codeOf(engine.start('echo', 1n as never))).toBe('INVALID_INPUT')
    expect(await codeOf(engine.start('echo', 1, { queue: 'cpu' }))).toBe('INVALID_INPUT')
    expect(await codeOf(engine.start('echo', 1, { idempotencyKey: '' }))).toBe('INVALID_INPUT')
    expect(await codeOf(engine.startMany([{ workflow: 'echo' }, { workflow: 'nope' }]))).toBe(
      'UNKNOWN_WORKFLOW',
    )
    expect(await codeOf(engine.list({ limit: 0 }))).toBe('INVALID_INPUT')
    expect(await codeOf(engine.list({ status: 'done' as never }))).toBe('INVALID_INPUT')
    expect(await codeOf(engine.list({ cursor: 'garbage' }))).toBe('INVALID_INPUT')
    expect(await codeOf(engine.get('missing'))).toBe('RUN_NOT_FOUND')
    expect(await codeOf(engine.sendEvent('missing', 'e'))).toBe('RUN_NOT_FOUND')
    expect(countRuns(path)).toBe(0)
  })

  it('writes none of a startMany batch when one request conflicts on its idempotency key', async () => {
    const { engine, path } = await openTestEngine(app)
    await engine.start('other', null, { idempotencyKey: 'taken' })
    const batch = engine.startMany([
      { workflow: 'echo', input: 1 },
      { workflow: 'echo', input: 2, idempotencyKey: 'taken' },
    ])
    expect(await codeOf(batch)).toBe('IDEMPOTENCY_CONFLICT')
    await engine.idle()
    expect(countRuns(path)).toBe(1)
  })

  it('quotes the bad value and its type in validation messages', async () => {
    await expect(openTestEngine(app, { concurrency: 0 })).rejects.toThrow(
      'Expected `concurrency` to be a number from 1 and up, got `0` (number)',
    )
    await expect(openTestEngine({ workflows: { x: 'nope' } } as never)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
  })

  it('lists runs newest first with an opaque cursor and filters', async () => {
    const { engine } = await openTestEngine(app)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await engine.start('echo', i)).runId)
    await engine.start('other')
    await engine.idle()
    const page1 = await engine.list({ workflow: 'echo', limit: 2 })
    expect(page1.runs.map((run) => run.runId)).toEqual([ids[4], ids[3]])
    const page2 = await engine.list({
      workflow: 'echo',
      limit: 2,
      cursor: page1.nextCursor as string,
    })
    const page3 = await engine.list({
      workflow: 'echo',
      limit: 2,
      cursor: page2.nextCursor as string,
    })
    expect(page2.runs.map((run) => run.runId)).toEqual([ids[2], ids[1]])
    expect(page3).toMatchObject({ runs: [{ runId: ids[0] }], nextCursor: null })
    expect((await engine.list({ status: 'succeeded' })).runs).toHaveLength(6)
    expect((await engine.list({ status: 'failed' })).runs).toHaveLength(0)
  })

  it('returns the current state from result when waitMs passes first', async () => {
    const { engine } = await openTestEngine(
      defineApp({ workflows: { wait: async (ctx) => ctx.waitForEvent('never') } }),
    )
    const { runId } = await engine.start('wait')
    const detail = await engine.result(runId, { waitMs: 20 })
    expect(detail.status).toBe('waiting')
  })

  it('applies app migrations once, in order', async () => {
    const migrating = defineApp({
      migrations: ['CREATE TABLE a (x)', 'INSERT INTO a VALUES (1)'],
      workflows: {},
    })
    const { engine, path } = await openTestEngine(migrating)
    await engine.close()
    const again = await reopen(path, migrating)
    expect((await again.query('SELECT count(*) AS n FROM a')).rows).toEqual([{ n: 1 }])
  })

  it('fails to open with MIGRATION_FAILED naming the migration', async () => {
    const broken = defineApp({
      migrations: ['CREATE TABLE a (x)', 'CREATE TABLEX b'],
      workflows: {},
    })
    await expect(openTestEngine(broken)).rejects.toMatchObject({
      code: 'MIGRATION_FAILED',
      message: expect.stringContaining('#1'),
    })
  })

  it('writes a consistent snapshot that opens as a valid database', async () => {
    const { engine } = await openTestEngine(app)
    const running = Array.from({ length: 20 }, (_, i) => engine.start('echo', i))
    const target = join(tempDir(), 'snap.db')
    await engine.snapshot(target)
    await Promise.all(running)
    await engine.idle()
    expect(existsSync(target)).toBe(true)
    const copy = new Libsql(target, { readonly: true })
    expect(
      (copy.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
    ).toBe('ok')
    const n = (copy.prepare('SELECT count(*) AS n FROM lc_runs').get() as { n: number }).n
    copy.close()
    expect(n).toBeLessThanOrEqual(20)
    expect(await codeOf(engine.snapshot(target))).toBe('INVALID_INPUT')
  })

  it('refuses calls after close with ENGINE_CLOSED and closes idempotently', async () => {
    const { engine } = await openTestEngine(app)
    await engine.close()
    await engine.close()
    expect(await codeOf(engine.start('echo'))).toBe('ENGINE_CLOSED')
  })

  it('sets WAL and disables autocheckpoint on its connections', async () => {
    const { path } = await openTestEngine(app)
    for (const readOnly of [false, true]) {
      const db = openConnection(path, { synchronous: 'NORMAL', readOnly })
      const pragma = (name: string) =>
        (db.prepare(`PRAGMA ${name}`).raw(true).get() as unknown[])[0]
      expect([
        pragma('journal_mode'),
        pragma('wal_autocheckpoint'),
        pragma('busy_timeout'),
      ]).toEqual(['wal', 0, 5_000])
      expect(pragma('query_only')).toBe(readOnly ? 1 : 0)
      db.close()
    }
  })

  it('never checkpoints: committed pages stay in the WAL after close', async () => {
    const { engine, path } = await openTestEngine(app)
    await engine.startMany(Array.from({ length: 50 }, (_, i) => ({ workflow: 'echo', input: i })))
    await engine.idle()
    const walBytes = statSync(`${path}-wal`).size
    const dbBytes = statSync(path).size
    await engine.close()
    expect(statSync(`${path}-wal`).size).toBe(walBytes)
    expect(statSync(path).size).toBe(dbBytes)
    expect(walBytes).toBeGreaterThan(statSync(path).size)
  })

  it('reports now as nextWakeAt while work is runnable and null when nothing is left', async () => {
    const { engine } = await openTestEngine(app)
    expect(await engine.nextWakeAt()).toBeNull()
    await engine.start('echo', 1)
    expect(await engine.nextWakeAt()).toBeTypeOf('number')
    expect(engine.activeRuns()).toBe(1)
    await engine.idle()
    expect(engine.activeRuns()).toBe(0)
    expect(await engine.nextWakeAt()).toBeNull()
  })
})
