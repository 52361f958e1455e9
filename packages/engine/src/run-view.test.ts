import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import type { EngineError } from './engine-error.js'
import { formatIsoMs } from './run-view.js'
import { cleanup, openTestEngine } from '@litecell/testkit/engine'

describe('formatIsoMs', () => {
  it('formats like Date#toISOString', () => {
    const samples = [
      0,
      1,
      999,
      86_399_999,
      86_400_000,
      Date.UTC(2026, 10, 26, 7, 5, 9, 42),
      1_795_674_446_263,
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
    ]
    for (let i = 0; i < 1_000; i++) samples.push(Math.floor(Math.random() * 4_102_444_800_000))
    for (const ms of samples) expect(formatIsoMs(ms)).toBe(new Date(ms).toISOString())
  })
})

afterEach(cleanup)

const app = defineApp({
  workflows: {
    parent: async (ctx) => {
      const child = await ctx.startChild<number>('child', 2)
      const doubled = await child.result()
      await ctx.step('fails-then-recovers', ({ attempt }) => {
        if (attempt === 1) throw new Error('first attempt fails')
        return 'ok'
      }, { retries: 1, backoff: { initialMs: 1 } })
      return ctx.step('add', () => doubled + 1)
    },
    child: async (ctx, n: number) => ctx.step('double', () => n * 2),
  },
})

describe('Engine.step and child links', () => {
  it('lists the child a run started and returns each step with its recorded output', async () => {
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('parent', null)
    const run = await engine.result(runId, { waitMs: 5_000 })
    expect(run.status).toBe('succeeded')
    const started = run.steps.find((step) => step.kind === 'child')
    expect(started?.childRunId).toMatch(/\S+/)
    expect(run.steps.filter((step) => step.childRunId !== undefined)).toHaveLength(1)
    const child = await engine.get(started!.childRunId!)
    expect(child).toMatchObject({ workflow: 'child', parentRunId: runId, output: 4 })

    const add = run.steps.find((step) => step.name === 'add')!
    expect(await engine.step(runId, add.seq)).toMatchObject({ name: 'add', status: 'succeeded', output: 5, error: null })
    const retried = await engine.step(runId, run.steps.find((step) => step.name === 'fails-then-recovers')!.seq)
    expect(retried).toMatchObject({ attempts: 2, output: 'ok' })
    expect(await engine.step(runId, started!.seq)).toMatchObject({ output: started!.childRunId })
  })

  it('answers RUN_NOT_FOUND for an unknown run or step and INVALID_INPUT for a bad seq', async () => {
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('child', 1)
    await engine.result(runId, { waitMs: 5_000 })
    const codeOf = (promise: Promise<unknown>) => promise.then(() => undefined, (err: EngineError) => err.code)
    expect(await codeOf(engine.step(runId, 99))).toBe('RUN_NOT_FOUND')
    expect(await codeOf(engine.step('no-such-run', 1))).toBe('RUN_NOT_FOUND')
    expect(await codeOf(engine.step(runId, 0))).toBe('INVALID_INPUT')
  })
})
