import { afterEach, expect, test } from 'vitest'
import { z } from 'zod'
import { cleanup, openTestEngine } from '@litecell/testkit/engine'
import { defineApp } from './app.js'
import { closestNames, editDistance } from './closest-names.js'
import { workflow } from './workflow-definition.js'

afterEach(cleanup)

const Train = z.object({ lr: z.number().positive(), epochs: z.number().int().min(1).default(4) })

const app = defineApp({
  queues: { gpu: { concurrency: 2, rateLimit: { limit: 5, periodMs: 1_000 } } },
  workflows: {
    train: workflow(Train, async (ctx, input) => ctx.step('fit', () => input.lr * input.epochs)),
    sweep: { fn: async (_ctx, input: { lrs: number[] }) => input.lrs.length, input: z.object({ lrs: z.array(z.number()).min(1) }) },
    plain: async (_ctx, input: { n: number } | null) => (input?.n ?? 0) + 1,
  },
})

test('a start whose input fails the schema is INVALID_INPUT naming the field, and writes nothing (issue 15 item 3)', async () => {
  const { engine } = await openTestEngine(app)
  await expect(engine.start('train', { lr: '0.1' })).rejects.toMatchObject({
    code: 'INVALID_INPUT',
    message: 'start train: `input.lr`: Invalid input: expected number, received string, got `0.1` (string)',
  })
  await expect(engine.start('train', null)).rejects.toMatchObject({
    code: 'INVALID_INPUT',
    message: expect.stringMatching(/^start train: `input`: .*got `null` \(null\)$/),
  })
  await expect(
    engine.startMany([{ workflow: 'plain', input: { n: 1 } }, { workflow: 'sweep', input: { lrs: [] } }]),
  ).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('runs[1] (sweep): `input.lrs`') })
  expect((await engine.list()).runs).toEqual([])
})

test('a valid input runs with the schema applied (defaults); plain functions are unchanged', async () => {
  const { engine } = await openTestEngine(app)
  const { runId } = await engine.start('train', { lr: 0.5 })
  const run = await engine.result(runId, { waitMs: 10_000 })
  expect(run).toMatchObject({ status: 'succeeded', input: { lr: 0.5, epochs: 4 }, output: 2 })
  const { runIds } = await engine.startMany([{ workflow: 'sweep', input: { lrs: [0.1, 0.2] } }, { workflow: 'plain', input: { n: 2 } }])
  const outputs = await Promise.all(runIds.map(async (id) => (await engine.result(id, { waitMs: 10_000 })).output))
  expect(outputs).toEqual([2, 3])
})

test('describe lists workflows (with JSON Schemas), queues and schedules, by name', async () => {
  const { engine } = await openTestEngine(app)
  expect(engine.describe()).toEqual({
    workflows: [
      { name: 'plain', validatesInput: false, inputSchema: null },
      { name: 'sweep', validatesInput: true, inputSchema: expect.objectContaining({ type: 'object', required: ['lrs'] }) },
      {
        name: 'train',
        validatesInput: true,
        inputSchema: expect.objectContaining({ properties: expect.objectContaining({ lr: expect.objectContaining({ type: 'number' }) }) }),
      },
    ],
    queues: [{ name: 'gpu', concurrency: 2, rateLimit: { limit: 5, periodMs: 1_000 } }],
    schedules: [],
  })
})

test('UNKNOWN_WORKFLOW names the closest workflows, or the ones there are', async () => {
  const { engine } = await openTestEngine(app)
  await expect(engine.start('trian', null)).rejects.toMatchObject({
    code: 'UNKNOWN_WORKFLOW',
    message: 'start: no workflow named `trian` in the app; did you mean `train`?',
  })
  await expect(engine.start('something-else', null)).rejects.toMatchObject({
    message: 'start: no workflow named `something-else` in the app; it has `train`, `sweep`, `plain`',
  })
})

test('a child of an unknown workflow fails its parent with the same hint as a start', async () => {
  const parents = defineApp({
    workflows: {
      train: async () => 1,
      parent: async (ctx) => ctx.child('trian'),
    },
  })
  const { engine } = await openTestEngine(parents)
  const { runId } = await engine.start('parent')
  const done = await engine.result(runId, { waitMs: 5_000 })
  expect(done.status).toBe('failed')
  expect(done.error).toMatchObject({
    code: 'UNKNOWN_WORKFLOW',
    message: expect.stringContaining('no workflow named `trian` in the app; did you mean `train`?'),
  })
})

test('an app entry must be a function or { fn, input } with a schema', () => {
  expect(() => defineApp({ workflows: { bad: { fn: 'nope' } as never } })).toThrow(/app\.workflows\.bad/)
  expect(() => defineApp({ workflows: { bad: { fn: async () => 1, input: { parse: () => 1 } } as never } })).toThrow(
    /app\.workflows\.bad\.input/,
  )
})

test('edit distance counts swaps as one edit; closest names stay within a third of the length', () => {
  expect(editDistance('trian', 'train')).toBe(1)
  expect(editDistance('sweep', 'sleep')).toBe(1)
  expect(closestNames('swep', ['sweep', 'train', 'sleep'])).toEqual(['sweep', 'sleep'])
  expect(closestNames('xyz', ['sweep', 'train'])).toEqual([])
})
