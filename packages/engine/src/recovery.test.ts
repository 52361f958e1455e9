import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Libsql from 'libsql'
import { afterAll, describe, expect, it } from 'vitest'
import type { RunDetail } from './run.js'
import { cleanup, tempDir, waitFor } from './testing.js'

afterAll(cleanup) // not afterEach: the tests below run concurrently

const script = fileURLToPath(new URL('../testdata/crash-recovery/run.ts', import.meta.url))
const tsx = import.meta.resolve('tsx')

interface Child {
  process: ChildProcess
  stdout: () => string
  exited: Promise<number | null>
}

function runScript(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', tsx, script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { process: child, stdout: () => out, exited }
}

async function crashThenRecover(
  workflow: string,
  input: unknown,
  extraEnv: Record<string, string> = {},
) {
  const dir = tempDir()
  const db = join(dir, 'tenant.db')
  const env = { EFFECTS_FILE: join(dir, 'effects.txt'), MARKER_FILE: join(dir, 'marker') }
  const first = runScript(['start', db, workflow, JSON.stringify(input)], {
    ...env,
    ...extraEnv,
    HANG: '1',
  })
  await waitFor(() => existsSync(env.MARKER_FILE) && first.stdout().includes('\n'), {
    timeoutMs: 45_000,
    what: 'the run to reach its marker',
  })
  first.process.kill('SIGKILL')
  expect(await first.exited).toBeNull()
  const runId = first.stdout().trim()
  const effectsAtKill = readFileSync(env.EFFECTS_FILE, 'utf8').trim().split('\n')
  const second = runScript(['recover', db, runId], env)
  expect(await second.exited).toBe(0)
  const { run } = JSON.parse(second.stdout()) as { run: RunDetail }
  const effects = existsSync(env.EFFECTS_FILE)
    ? readFileSync(env.EFFECTS_FILE, 'utf8').trim().split('\n')
    : []
  const ledger = new Libsql(db, { readonly: true })
  const rows = ledger.prepare('SELECT n FROM ledger ORDER BY rowid').all() as { n: number }[]
  ledger.close()
  return { run, effects, effectsAtKill, ledger: rows.map((row) => row.n) }
}

// Concurrent: each test spends most of its time starting `node --import tsx` child processes.
describe.concurrent('recovery after SIGKILL', () => {
  it('completes a killed run in a new process without re-running recorded steps', async () => {
    const { run, effects, ledger } = await crashThenRecover('crashy', null)
    expect(run).toMatchObject({ status: 'succeeded', output: 'done' })
    // `hang` was in flight at the kill, so it runs again (at-least-once); the recorded
    // steps before it do not, and the transaction's row exists once.
    expect(effects).toEqual(['one', 'two', 'hang', 'hang', 'three'])
    expect(ledger).toEqual([1])
    expect(run.steps.map((step) => `${step.name}:${step.status}`)).toEqual([
      'one:succeeded',
      'credit:succeeded',
      'two:succeeded',
      'hang:succeeded',
      'sleep:succeeded',
      'three:succeeded',
    ])
  })

  it('continues a durable sleep in a new process after a kill during the sleep', async () => {
    const sleepMs = 300
    const { run, effects } = await crashThenRecover(
      'sleepy',
      { sleepMs },
      { MARKER_ON_STATUS: 'sleeping' },
    )
    expect(run).toMatchObject({ status: 'succeeded', output: 'rested' })
    expect(effects).toEqual(['before', 'after'])
    const sleep = run.steps.find((step) => step.kind === 'sleep')
    expect(
      Date.parse(sleep?.endedAt ?? '') - Date.parse(sleep?.startedAt ?? ''),
    ).toBeGreaterThanOrEqual(sleepMs)
  })

  it('commits each transaction exactly once across a kill in the middle of many', async () => {
    const count = 200
    const { run, ledger, effects, effectsAtKill } = await crashThenRecover('ledger', { count })
    expect(run.status).toBe('succeeded')
    expect(effectsAtKill.length).toBeGreaterThan(count / 4)
    expect(effectsAtKill.length).toBeLessThan(count)
    expect(new Set(effects).size).toBe(count)
    expect(ledger).toEqual(Array.from({ length: count }, (_, i) => i))
  })
})
