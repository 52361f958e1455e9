import Libsql from 'libsql'
import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import type { RunStatus } from './run.js'
import { cleanup, openTestEngine } from '@litecell/testkit/engine'

afterEach(cleanup)

/**
 * What another connection sees committed: the status and recorded steps of the run `runId`
 * (of the newest run without one).
 */
function committed(path: string, runId?: string): { status: string; steps: string[] } {
  const db = new Libsql(path, { readonly: true })
  try {
    const run = (
      runId === undefined
        ? db.prepare('SELECT run_id, status FROM lc_runs ORDER BY id DESC LIMIT 1').get()
        : db.prepare('SELECT run_id, status FROM lc_runs WHERE run_id = ?').get(runId)
    ) as { run_id: string; status: string } | undefined
    const steps = db
      .prepare('SELECT name FROM lc_steps WHERE run_id = ? ORDER BY seq')
      .all(run?.run_id ?? null) as { name: string }[]
    return { status: run?.status ?? 'absent', steps: steps.map((step) => step.name) }
  } finally {
    db.close()
  }
}

/**
 * An engine whose observer notes every status change and, at every commit once it is open,
 * what another connection sees committed of the newest run.
 */
async function observedEngine(app: Parameters<typeof openTestEngine>[0]) {
  const commits: { status: string; steps: string[] }[] = []
  const statuses: RunStatus[] = []
  let openedPath = ''
  const { engine, path } = await openTestEngine(app, {
    observer: {
      onCommit: () => {
        if (openedPath !== '') commits.push(committed(openedPath))
      },
      onRunStatus: (_runId, _workflow, status) => statuses.push(status),
    },
  })
  openedPath = path
  return { engine, path, commits, statuses }
}

describe('a lone run shares commits where nothing can observe the difference', () => {
  it('commits a 3-step run in 4 transactions: start with its running mark, a, b, then c with the end', async () => {
    const seenAtSteps: { status: string; steps: string[] }[] = []
    let path = ''
    let runId = ''
    const app = defineApp({
      workflows: {
        three: async (ctx, input: number) => {
          const a = await ctx.step('a', () => {
            seenAtSteps.push(committed(path, ctx.runId))
            return input + 1
          })
          const b = await ctx.step('b', () => {
            seenAtSteps.push(committed(path, ctx.runId))
            return a * 2
          })
          return ctx.step('c', () => {
            seenAtSteps.push(committed(path, ctx.runId))
            return b - 1
          })
        },
      },
    })
    const observed = await observedEngine(app)
    path = observed.path
    ;({ runId } = await observed.engine.start('three', 1))
    const run = await observed.engine.result(runId, { waitMs: 5_000 })
    expect(run).toMatchObject({ status: 'succeeded', output: 3 })
    // Each step's side effect runs with everything before it committed: the run `running`
    // (committed with its insert) and the earlier steps' checkpoints.
    expect(seenAtSteps).toEqual([
      { status: 'running', steps: [] },
      { status: 'running', steps: ['a'] },
      { status: 'running', steps: ['a', 'b'] },
    ])
    // What each commit made visible: the start (already `running`), a, b, then c and the end
    // together.
    expect(observed.commits).toEqual([
      { status: 'running', steps: [] },
      { status: 'running', steps: ['a'] },
      { status: 'running', steps: ['a', 'b'] },
      { status: 'succeeded', steps: ['a', 'b', 'c'] },
    ])
    expect(observed.statuses).toEqual(['pending', 'running', 'succeeded'])
    expect(committed(path, runId)).toEqual({ status: 'succeeded', steps: ['a', 'b', 'c'] })
  })

  it('commits a step before the workflow code after it awaits anything else', async () => {
    let path = ''
    let seenAfterTimer: { status: string; steps: string[] } | undefined
    const app = defineApp({
      workflows: {
        waits: async (ctx) => {
          const value = await ctx.step('only', () => 7)
          await new Promise((resolve) => setTimeout(resolve, 1))
          seenAfterTimer = committed(path, ctx.runId)
          return value
        },
      },
    })
    const observed = await observedEngine(app)
    path = observed.path
    const { runId } = await observed.engine.start('waits')
    expect(await observed.engine.result(runId, { waitMs: 5_000 })).toMatchObject({
      status: 'succeeded',
      output: 7,
    })
    expect(seenAfterTimer).toEqual({ status: 'running', steps: ['only'] })
    // The step committed on its own (before the timer), so the end had nothing to share.
    expect(observed.commits).toEqual([
      { status: 'running', steps: [] },
      { status: 'running', steps: ['only'] },
      { status: 'succeeded', steps: ['only'] },
    ])
  })

  it('records the last step with a failed end in one commit when the workflow throws after it', async () => {
    const app = defineApp({
      workflows: {
        throws: async (ctx) => {
          const value = await ctx.step('last', () => 'checked')
          throw new Error(`refused after ${value}`)
        },
      },
    })
    const observed = await observedEngine(app)
    const { runId } = await observed.engine.start('throws')
    const run = await observed.engine.result(runId, { waitMs: 5_000 })
    expect(run.status).toBe('failed')
    expect(run.error?.message).toBe('refused after checked')
    expect(run.steps).toMatchObject([{ name: 'last', status: 'succeeded' }])
    expect(observed.commits).toEqual([
      { status: 'running', steps: [] },
      { status: 'failed', steps: ['last'] },
    ])
    expect(observed.statuses).toEqual(['pending', 'running', 'failed'])
  })
})
