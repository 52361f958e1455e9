import { afterEach, expect, test } from 'vitest'
import { cleanup, openTestEngine, waitFor } from '@litecell/testkit/engine'
import { defineApp } from './app.js'

afterEach(cleanup)

const app = defineApp({
  workflows: {
    nap: async (ctx) => ctx.sleep('1h'),
    approval: async (ctx) => ctx.waitForEvent('approve', { timeoutMs: 60_000 }),
    forever: async (ctx) => ctx.waitForEvent('never'),
    parent: async (ctx) => {
      await ctx.startChild('nap', null)
      const child = await ctx.startChild('approval', null)
      return child.result()
    },
    flaky: async (ctx) =>
      ctx.step('call', () => {
        throw new Error('down')
      }, { retries: 3, backoff: { initialMs: 600_000 } }),
  },
})

async function parked(engine: Awaited<ReturnType<typeof openTestEngine>>['engine'], workflow: string) {
  const { runId } = await engine.start(workflow, null)
  await waitFor(async () => ['sleeping', 'waiting'].includes((await engine.get(runId)).status), {
    what: `${workflow} to park`,
  })
  return engine.get(runId)
}

test('a parked run says what it waits for: timer, event, child, retry (issue 15 item 6)', async () => {
  const { engine } = await openTestEngine(app)
  const nap = await parked(engine, 'nap')
  expect(nap.waitingFor).toEqual({ kind: 'timer', until: expect.stringMatching(/^\d{4}-.*Z$/) })
  expect(Date.parse((nap.waitingFor as { until: string }).until) - Date.now()).toBeGreaterThan(3_500_000)

  const approval = await parked(engine, 'approval')
  expect(approval.waitingFor).toEqual({ kind: 'event', event: 'approve', timeoutAt: expect.any(String) })
  expect((await parked(engine, 'forever')).waitingFor).toEqual({ kind: 'event', event: 'never', timeoutAt: null })

  const parent = await parked(engine, 'parent')
  const approvalChild = parent.steps.filter((step) => step.kind === 'child')[1]!.childRunId
  expect(parent.waitingFor).toEqual({ kind: 'child', workflow: 'approval', childRunId: approvalChild })

  const flaky = await parked(engine, 'flaky')
  expect(flaky.waitingFor).toEqual({ kind: 'retry', step: 'call', at: expect.any(String) })

  const { runId } = await engine.start('nap', null)
  await engine.cancel(runId)
  expect((await engine.get(runId)).waitingFor).toBeUndefined()
})

test('a run id may be given by a unique prefix; an ambiguous or unknown one is refused', async () => {
  const { engine } = await openTestEngine(app)
  const { runIds } = await engine.startMany([{ workflow: 'nap' }, { workflow: 'nap' }])
  const [a, b] = runIds as [string, string]
  expect(engine.resolveRunId(a)).toBe(a)
  // UUIDv7s of one millisecond share their first 12 hex digits: the random tail tells them apart.
  let common = 0
  while (a[common] === b[common]) common += 1
  expect(engine.resolveRunId(a.slice(0, common + 1))).toBe(a)
  expect(engine.resolveRunId(b.slice(0, common + 1))).toBe(b)
  expect(() => engine.resolveRunId(a.slice(0, common))).toThrow(
    expect.objectContaining({ code: 'AMBIGUOUS_RUN_ID', message: expect.stringContaining('give more of the id') }),
  )
  expect(() => engine.resolveRunId('ffffffff-')).toThrow(expect.objectContaining({ code: 'RUN_NOT_FOUND' }))
  // Too short to be a prefix: taken as an id (and not found later).
  expect(engine.resolveRunId(a.slice(0, 3))).toBe(a.slice(0, 3))
})
