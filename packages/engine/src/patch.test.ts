import { afterEach, describe, expect, it } from 'vitest'
import { defineApp, type WorkflowFn } from './app.js'
import {
  cleanup,
  ManualClock,
  openTestEngine,
  reopen,
  runUntilQuiet,
} from '@litecell/testkit/engine'
import type { WorkflowContext } from './workflow-context.js'

afterEach(cleanup)

const HOUR = 3_600_000

/** Four versions of one workflow, as a team would deploy them. */
const versions = {
  // v1: the original code.
  v1: async (ctx: WorkflowContext) => {
    const a = await ctx.step('a', () => 1)
    await ctx.sleep(HOUR)
    const b = await ctx.step('old', () => 2)
    await ctx.sleep(HOUR)
    return a + b + (await ctx.step('c', () => 100))
  },
  // v2: stage 1, the change behind a patch.
  v2: async (ctx: WorkflowContext) => {
    const a = await ctx.step('a', () => 1)
    await ctx.sleep(HOUR)
    const b = (await ctx.patched('new-b'))
      ? await ctx.step('new', () => 20)
      : await ctx.step('old', () => 2)
    await ctx.sleep(HOUR)
    return a + b + (await ctx.step('c', () => 100))
  },
  // v3: stage 2, the old branch is gone.
  v3: async (ctx: WorkflowContext) => {
    const a = await ctx.step('a', () => 1)
    await ctx.sleep(HOUR)
    await ctx.deprecatePatch('new-b')
    const b = await ctx.step('new', () => 20)
    await ctx.sleep(HOUR)
    return a + b + (await ctx.step('c', () => 100))
  },
  // v4: stage 3, the call is gone.
  v4: async (ctx: WorkflowContext) => {
    const a = await ctx.step('a', () => 1)
    await ctx.sleep(HOUR)
    const b = await ctx.step('new', () => 20)
    await ctx.sleep(HOUR)
    return a + b + (await ctx.step('c', () => 100))
  },
} satisfies Record<string, WorkflowFn>

function appOf(version: keyof typeof versions) {
  return defineApp({ version, workflows: { train: versions[version] } })
}

/** Starts a run under `from` and lets it sleep `sleeps` times, then reopens under `to`. */
async function upgradeAfter(from: keyof typeof versions, to: keyof typeof versions, sleeps: 1 | 2) {
  const clock = new ManualClock()
  const { engine, path } = await openTestEngine(appOf(from), { clock: clock.now })
  const { runId } = await engine.start('train')
  await engine.idle()
  if (sleeps === 2) {
    clock.advance(HOUR)
    await engine.idle()
  }
  expect((await engine.get(runId)).status).toBe('sleeping')
  await engine.close()
  const upgraded = await reopen(path, appOf(to), { clock: clock.now })
  await runUntilQuiet(upgraded, clock)
  return { run: await upgraded.get(runId), upgraded, clock }
}

describe('ctx.patched', () => {
  it('is true for a run that reaches the patch first under the new code, and is recorded', async () => {
    const { run } = await upgradeAfter('v1', 'v2', 1)
    expect(run).toMatchObject({ status: 'succeeded', output: 121, appVersion: 'v1' })
    expect(run.steps.map((step) => [step.kind, step.name])).toEqual([
      ['step', 'a'],
      ['sleep', 'sleep'],
      ['patch', 'new-b'],
      ['step', 'new'],
      ['sleep', 'sleep'],
      ['step', 'c'],
    ])
  })

  it('is false for a run whose journal went past that point without it, which keeps its old calls', async () => {
    const { run } = await upgradeAfter('v1', 'v2', 2)
    expect(run).toMatchObject({ status: 'succeeded', output: 103, error: null })
    expect(run.steps.map((step) => step.name)).toEqual(['a', 'sleep', 'old', 'sleep', 'c'])
  })

  it('stays true on every replay of a run that recorded it', async () => {
    const clock = new ManualClock()
    const { engine, path } = await openTestEngine(appOf('v2'), { clock: clock.now })
    const { runId } = await engine.start('train')
    await engine.idle()
    clock.advance(HOUR)
    await engine.idle()
    await engine.close()
    // The replay after the second sleep passes the patch again: it must take the same branch.
    const again = await reopen(path, appOf('v2'), { clock: clock.now })
    await runUntilQuiet(again, clock)
    expect(await again.get(runId)).toMatchObject({ status: 'succeeded', output: 121 })
  })

  it('deprecatePatch replays past a recorded marker and records none for new runs', async () => {
    const { run, upgraded, clock } = await upgradeAfter('v2', 'v3', 2)
    expect(run).toMatchObject({ status: 'succeeded', output: 121 })
    expect(run.steps.map((step) => step.kind)).toContain('patch')
    const { runId } = await upgraded.start('train')
    await runUntilQuiet(upgraded, clock)
    const fresh = await upgraded.get(runId)
    expect(fresh).toMatchObject({ status: 'succeeded', output: 121, appVersion: 'v3' })
    expect(fresh.steps.map((step) => step.kind)).not.toContain('patch')
  })

  it('after deprecation, runs without a marker replay under code without the call', async () => {
    const { run } = await upgradeAfter('v3', 'v4', 2)
    expect(run).toMatchObject({ status: 'succeeded', output: 121 })
  })

  it('NON_DETERMINISM names the first differing call and both app versions', async () => {
    const { run } = await upgradeAfter('v1', 'v4', 2)
    expect(run.status).toBe('failed')
    expect(run.error?.code).toBe('NON_DETERMINISM')
    expect(run.error?.message).toContain(
      "call #3 is step 'new' but the journal recorded step 'old' (the first call that differs)",
    )
    expect(run.error?.message).toContain('started under app version v1 and replays under v4')
    expect(run.error?.message).toContain("ctx.patched('<name>')")
  })

  it('refuses a bad patch name', async () => {
    const app = defineApp({ workflows: { w: async (ctx) => ctx.patched('' as string) } })
    const { engine } = await openTestEngine(app)
    const { runId } = await engine.start('w')
    const run = await engine.result(runId, { waitMs: 5_000 })
    expect(run.error?.message).toMatch(
      /Expected `patch name` to be a string of 1 to 128 characters/,
    )
  })
})

describe('app version of a run', () => {
  const plain = { workflows: { w: async () => 'ok' } }

  it('is the app version, else a hash of the workflows, unless the engine is given one', async () => {
    const versioned = await openTestEngine(defineApp({ ...plain, version: '2026.1' }))
    expect((await versioned.engine.get((await versioned.engine.start('w')).runId)).appVersion).toBe(
      '2026.1',
    )
    const hashed = await openTestEngine(defineApp(plain))
    expect((await hashed.engine.get((await hashed.engine.start('w')).runId)).appVersion).toMatch(
      /^sha256:[0-9a-f]{12}$/,
    )
    const given = await openTestEngine(defineApp({ ...plain, version: '2026.1' }), {
      appVersion: 'sha256:abc',
    })
    expect((await given.engine.get((await given.engine.start('w')).runId)).appVersion).toBe(
      'sha256:abc',
    )
    expect(given.engine.app).toEqual({ name: 'default', version: 'sha256:abc' })
  })
})
