/**
 * Poison-run quarantine (issue 9, item 3). A process death is simulated in-process by
 * abandoning an engine whose runs hang inside a step (never closing it, as a dead process
 * never does) and opening the same file again; one test kills a real child process with
 * `process.exit` inside a step. Breakage caught: without the crash count every open recovers
 * the poison run again (no `RUN_QUARANTINED`, ever); without probation the innocent runs
 * executing beside it are counted as often as the poison and quarantined with it; without
 * the committed `running` mark a run that exits the process before its batch commits is never
 * counted at all.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Libsql from 'libsql'
import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import { Engine } from './engine.js'
import { QUARANTINE_AFTER_CRASHES } from './recovery.js'
import { cleanup, reopen, tempDir, waitFor } from '@litecell/testkit/engine'

afterEach(cleanup)

const hang = (): Promise<never> => new Promise(() => undefined)

/** Status and crash count of every run, read through a connection of its own. */
function runRows(path: string): Map<string, { status: string; crash_count: number }> {
  const db = new Libsql(path)
  try {
    const rows = db.prepare('SELECT run_id, status, crash_count FROM lc_runs').all() as {
      run_id: string
      status: string
      crash_count: number
    }[]
    return new Map(rows.map((row) => [row.run_id, row]))
  } finally {
    db.close()
  }
}

/** Opens an engine that the test will abandon (a "process" that dies). */
function openAbandoned(path: string, app: ReturnType<typeof defineApp>): Promise<Engine> {
  return Engine.open({ path, app })
}

/** Lets pending microtasks and timers of held-back runs run, to show that they do not. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50))

describe('poison-run quarantine', () => {
  it('quarantines the run executing during 3 deaths in a row; runs executing beside it once are recovered', async () => {
    expect(QUARANTINE_AFTER_CRASHES).toBe(3)
    const behaviour = { innocentsHang: true, poisonHangs: true }
    const calls: string[] = []
    const app = defineApp({
      workflows: {
        poison: async (ctx) => {
          await ctx.step('boom', async () => {
            calls.push('poison')
            if (behaviour.poisonHangs) await hang()
            return 'fixed'
          })
          return 'poison survived'
        },
        innocent: async (ctx) => {
          await ctx.step('work', async () => {
            calls.push('innocent')
            if (behaviour.innocentsHang) await hang()
          })
          return ctx.step('more', () => 'done')
        },
      },
    })
    const path = join(tempDir(), 'tenant.db')

    // Life 1: all four execute when the process "dies"; `running` is committed for each.
    const life1 = await openAbandoned(path, app)
    const { runIds } = await life1.startMany([
      { workflow: 'poison' },
      { workflow: 'innocent' },
      { workflow: 'innocent' },
      { workflow: 'innocent' },
    ])
    const [poison, ...innocents] = runIds as [string, ...string[]]
    await waitFor(() => calls.length === 4, { what: 'all four runs to be inside their step' })
    await waitFor(() => [...runRows(path).values()].every((row) => row.status === 'running'))
    behaviour.innocentsHang = false

    // Life 2: every run is a suspect; the poison (oldest) goes first, alone, and "dies" again.
    calls.length = 0
    const life2 = await openAbandoned(path, app)
    expect(life2.recovery).toEqual({ crashed: 4, quarantined: [], suspects: 4 })
    await waitFor(() => calls.length === 1)
    await settle()
    expect(calls).toEqual(['poison'])
    let rows = runRows(path)
    expect(rows.get(poison)).toMatchObject({ status: 'running', crash_count: 1 })
    for (const runId of innocents) expect(rows.get(runId)).toMatchObject({ status: 'pending' })

    // Life 3: only the poison was executing at that death, so only it counts another crash.
    calls.length = 0
    const life3 = await openAbandoned(path, app)
    expect(life3.recovery).toEqual({ crashed: 1, quarantined: [], suspects: 4 })
    rows = runRows(path)
    expect(rows.get(poison)?.crash_count).toBe(2)
    for (const runId of innocents) expect(rows.get(runId)?.crash_count).toBe(1)
    await waitFor(() => calls.length === 1)
    await settle()
    expect(calls).toEqual(['poison'])

    // Life 4: third death in a row: quarantined, and the innocents recover one by one.
    calls.length = 0
    const life4 = await reopen(path, app)
    expect(life4.recovery).toEqual({
      crashed: 1,
      quarantined: [{ runId: poison, workflow: 'poison' }],
      suspects: 3,
    })
    await life4.idle()
    expect(calls).toEqual(['innocent', 'innocent', 'innocent'])
    for (const runId of innocents) {
      expect(await life4.get(runId)).toMatchObject({ status: 'succeeded', output: 'done' })
    }
    const quarantined = await life4.get(poison)
    expect(quarantined).toMatchObject({
      status: 'failed',
      error: { name: 'EngineError', code: 'RUN_QUARANTINED' },
    })
    expect(quarantined.error?.message).toContain(`run ${poison} (workflow poison)`)
    expect(quarantined.error?.message).toMatch(/resume the run to retry it/)
    rows = runRows(path)
    for (const runId of innocents) expect(rows.get(runId)?.crash_count).toBe(0)

    // An admin resumes it once the cause is fixed: it replays with no crash counted.
    behaviour.poisonHangs = false
    await life4.resume(poison)
    await life4.idle()
    expect(await life4.get(poison)).toMatchObject({
      status: 'succeeded',
      output: 'poison survived',
    })
    expect(runRows(path).get(poison)?.crash_count).toBe(0)
  })

  it('clears a suspect’s crash count at its first durable progress, then lets the next one start', async () => {
    const gates = { first: true, second: true }
    const calls: string[] = []
    const secondSteps: (() => void)[] = []
    const app = defineApp({
      workflows: {
        twoSteps: async (ctx, name: string) => {
          await ctx.step('one', async () => {
            calls.push(`${name}:one`)
            if (gates.first) await hang()
          })
          await ctx.step('two', async () => {
            calls.push(`${name}:two`)
            if (gates.second) await new Promise<void>((resolve) => secondSteps.push(resolve))
          })
          return name
        },
      },
    })
    const path = join(tempDir(), 'tenant.db')
    const life1 = await openAbandoned(path, app)
    const { runIds } = await life1.startMany([
      { workflow: 'twoSteps', input: 'a' },
      { workflow: 'twoSteps', input: 'b' },
    ])
    await waitFor(() => calls.length === 2)
    gates.first = false
    calls.length = 0
    const life2 = await reopen(path, app)
    expect(life2.recovery.suspects).toBe(2)
    // `a` recorded step one (progress): its count is cleared and `b` may start, while `a` is
    // still inside step two.
    await waitFor(() => calls.includes('b:one'), { what: 'the second suspect to start' })
    expect(calls.slice(0, 2)).toEqual(['a:one', 'a:two'])
    expect(runRows(path).get(runIds[0] as string)?.crash_count).toBe(0)
    gates.second = false
    for (const release of secondSteps) release()
    await life2.idle()
    expect((await life2.get(runIds[1] as string)).status).toBe('succeeded')
    expect((await life2.get(runIds[0] as string)).status).toBe('succeeded')
  })

  it('a clean close puts stopped runs back to pending; a run it abandons counts as crashed', async () => {
    let releaseStopping = (): void => undefined
    const app = defineApp({
      workflows: {
        stuck: async (ctx) => ctx.step('forever', hang),
        stopping: async (ctx) => {
          await ctx.step('one', () => new Promise<void>((resolve) => (releaseStopping = resolve)))
          return ctx.step('two', () => 'done')
        },
      },
    })
    const path = join(tempDir(), 'tenant.db')
    const engine = await Engine.open({ path, app })
    const { runIds } = await engine.startMany([{ workflow: 'stuck' }, { workflow: 'stopping' }])
    const [stuck, stopping] = runIds as [string, string]
    await waitFor(() => [...runRows(path).values()].every((row) => row.status === 'running'))
    const closed = engine.close({ timeoutMs: 200 })
    releaseStopping()
    await closed
    const rows = runRows(path)
    expect(rows.get(stopping)).toMatchObject({ status: 'pending', crash_count: 0 })
    expect(rows.get(stuck)).toMatchObject({ status: 'running', crash_count: 0 })
    const again = await reopen(path, defineApp({
      workflows: { stuck: async () => 'unstuck', stopping: async (ctx) => ctx.step('two', () => 'done') },
    }))
    expect(again.recovery).toEqual({ crashed: 1, quarantined: [], suspects: 1 })
    await again.idle()
    expect((await again.get(stuck)).status).toBe('succeeded')
  })

  it('counts a run that exits the process in its first step, although its start shared a batch', async () => {
    const path = join(tempDir(), 'tenant.db')
    const script = fileURLToPath(new URL('../testdata/poison-run/run.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), script, path], {
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(code).toBe(1)
    const app = defineApp({
      workflows: { work: async (ctx, input: { exit: boolean }) => (input.exit ? 'was poison' : 'ok') },
    })
    const engine = await reopen(path, app)
    // All four were executing (their `running` marks committed before any step ran).
    expect(engine.recovery).toEqual({ crashed: 4, quarantined: [], suspects: 4 })
    await engine.idle()
    const { runs } = await engine.list({ limit: 10 })
    expect(runs.map((run) => run.status)).toEqual(Array(4).fill('succeeded'))
  }, 60_000)
})
