import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import { writeConnectionOf } from './engine.js'
import { cleanup, openTestEngine } from '@litecell/testkit/engine'

afterEach(cleanup)

const app = defineApp({
  workflows: {
    train: async (ctx, input: { fail?: boolean }) => {
      if (input?.fail) throw new Error('diverged')
      return ctx.step('fit', () => 'ok')
    },
    spawn: async (ctx) => ctx.child('train', {}, { tags: { role: 'child', lr: '0.5' } }),
  },
})

describe('run tags', () => {
  it('filters runs by tags (AND), newest first, paginated, with other filters; views show them', async () => {
    const { engine } = await openTestEngine(app)
    const grid = [
      { lr: '0.1', dataset: 'cifar' },
      { lr: '0.1', dataset: 'mnist' },
      { lr: '0.2', dataset: 'cifar' },
      { lr: '0.1', dataset: 'cifar' },
      { lr: '0.1', dataset: 'cifar' },
    ]
    const ids: string[] = []
    for (const [i, tags] of grid.entries()) {
      ids.push((await engine.start('train', { fail: i === 3 }, { tags })).runId)
    }
    await engine.start('train', {})
    await engine.idle()
    const both = await engine.list({ tags: { lr: '0.1', dataset: 'cifar' } })
    expect(both.runs.map((run) => run.runId)).toEqual([ids[4], ids[3], ids[0]])
    expect(both.runs[0]?.tags).toEqual({ dataset: 'cifar', lr: '0.1' })
    const lr = await engine.list({ tags: { lr: '0.1' }, limit: 2 })
    expect(lr.runs.map((run) => run.runId)).toEqual([ids[4], ids[3]])
    const rest = await engine.list({
      tags: { lr: '0.1' },
      limit: 2,
      cursor: lr.nextCursor as string,
    })
    expect(rest.runs.map((run) => run.runId)).toEqual([ids[1], ids[0]])
    expect(rest.nextCursor).toBeNull()
    const failed = await engine.list({ tags: { lr: '0.1' }, status: 'failed' })
    expect(failed.runs.map((run) => run.runId)).toEqual([ids[3]])
    expect((await engine.list({ tags: { lr: '0.3' } })).runs).toEqual([])
    expect((await engine.get(ids[2] as string)).tags).toEqual({ lr: '0.2', dataset: 'cifar' })
  })

  it('tags child runs started with tags', async () => {
    const { engine } = await openTestEngine(app)
    await engine.start('spawn')
    await engine.idle()
    const children = await engine.list({ tags: { role: 'child' } })
    expect(children.runs).toHaveLength(1)
    expect(children.runs[0]).toMatchObject({
      workflow: 'train',
      tags: { role: 'child', lr: '0.5' },
    })
  })

  it('answers a tag filter from the tag index, not by scanning runs', async () => {
    const { engine } = await openTestEngine(app)
    await engine.start('train', {}, { tags: { lr: '0.1' } })
    const plan = writeConnectionOf(engine)
      .prepare(
        `EXPLAIN QUERY PLAN SELECT r.id FROM lc_run_tags AS t0 JOIN lc_runs AS r ON r.id = t0.run_id
         WHERE t0.key = ? AND t0.value = ? AND EXISTS (SELECT 1 FROM lc_run_tags AS t WHERE t.key = ? AND t.value = ? AND t.run_id = r.id)
         ORDER BY t0.run_id DESC LIMIT 50`,
      )
      .all('lr', '0.1', 'dataset', 'cifar') as { detail: string }[]
    const details = plan.map((row) => row.detail).join('\n')
    expect(details).toMatch(/SEARCH t0 USING PRIMARY KEY \(key=\? AND value=\?\)/)
    expect(details).not.toMatch(/SCAN r\b/)
    expect(details).not.toMatch(/TEMP B-TREE/)
  })

  it('refuses bad tags with the limits in the message, writing nothing', async () => {
    const { engine } = await openTestEngine(app)
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))
    const bad: unknown[] = [
      'lr=0.1',
      ['lr', '0.1'],
      { lr: 0.1 },
      { lr: null },
      { 'l r': '0.1' },
      { '': 'x' },
      { ['k'.repeat(65)]: 'x' },
      { lr: 'v'.repeat(257) },
      tooMany,
    ]
    for (const tags of bad) {
      await expect(engine.start('train', {}, { tags: tags as never })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringMatching(/tags/),
      })
      await expect(engine.list({ tags: tags as never })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      })
    }
    await expect(
      engine.startMany([
        { workflow: 'train', tags: { ok: 'yes' } },
        { workflow: 'train', tags: { lr: 1 } as never },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    expect((await engine.list()).runs).toHaveLength(0)
  })
})

describe('statuses', () => {
  it('answers the status of each id in order, marking unknown ids not found', async () => {
    const { engine } = await openTestEngine(app)
    const ok = await engine.start('train', {})
    const bad = await engine.start('train', { fail: true })
    await engine.idle()
    const answer = await engine.statuses([bad.runId, 'no-such-run', ok.runId, ok.runId])
    expect(answer).toEqual([
      { runId: bad.runId, status: 'failed', updatedAt: expect.any(String) },
      { runId: 'no-such-run', status: null, notFound: true },
      { runId: ok.runId, status: 'succeeded', updatedAt: expect.any(String) },
      { runId: ok.runId, status: 'succeeded', updatedAt: expect.any(String) },
    ])
  })

  it('refuses an empty list, more than 1,000 ids and ids that are not strings', async () => {
    const { engine } = await openTestEngine(app)
    for (const runIds of [[], Array.from({ length: 1_001 }, (_, i) => `r${i}`), [1], [''], 'r1']) {
      await expect(engine.statuses(runIds as never)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringContaining('runIds'),
      })
    }
    expect(await engine.statuses(Array.from({ length: 1_000 }, (_, i) => `r${i}`))).toHaveLength(
      1_000,
    )
  })
})
