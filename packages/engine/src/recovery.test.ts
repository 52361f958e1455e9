import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Libsql from 'libsql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunDetail } from './run.js'
import { cleanup, tempDir, waitFor } from '@litecell/testkit/engine'

const script = fileURLToPath(new URL('../testdata/crash-recovery/run.ts', import.meta.url))
const tsx = import.meta.resolve('tsx')
const SLEEP_MS = 1_500
const LEDGER_COUNT = 200

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

function readLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n') : []
}

function readColumn(db: string, table: string): number[] {
  const connection = new Libsql(db, { readonly: true })
  const rows = connection.prepare(`SELECT n FROM ${table} ORDER BY rowid`).all() as { n: number }[]
  connection.close()
  return rows.map((row) => row.n)
}

// One crash for all three scenarios: process 1 starts a run of each workflow and is killed
// with SIGKILL once every run reached its kill point; process 2 opens the same file and
// recovers them. (Each `node --import tsx` start costs seconds on a busy machine.)
let runs: Record<'crashy' | 'sleepy' | 'ledger', RunDetail>
let effects: string[]
let effectsAtKill: string[]
let db: string

beforeAll(async () => {
  const dir = tempDir()
  db = join(dir, 'tenant.db')
  const env = { EFFECTS_FILE: join(dir, 'effects.txt'), MARKER_PREFIX: join(dir, 'marker-') }
  const requests = [
    { workflow: 'crashy', input: null },
    { workflow: 'sleepy', input: { sleepMs: SLEEP_MS } },
    { workflow: 'ledger', input: { count: LEDGER_COUNT } },
  ]
  const first = runScript(['start', db, JSON.stringify(requests)], { ...env, HANG: '1' })
  await waitFor(
    () => ['crashy', 'sleepy', 'ledger'].every((name) => existsSync(`${env.MARKER_PREFIX}${name}`)),
    { timeoutMs: 45_000, what: 'every run to reach its kill point' },
  )
  first.process.kill('SIGKILL')
  expect(await first.exited).toBeNull()
  effectsAtKill = readLines(env.EFFECTS_FILE)
  const runIds = JSON.parse(first.stdout()) as string[]
  const second = runScript(['recover', db, JSON.stringify(runIds)], env)
  expect(await second.exited).toBe(0)
  const recovered = (JSON.parse(second.stdout()) as { runs: RunDetail[] }).runs
  runs = { crashy: recovered[0], sleepy: recovered[1], ledger: recovered[2] } as typeof runs
  effects = readLines(env.EFFECTS_FILE)
}, 90_000)

afterAll(cleanup)

describe('recovery after SIGKILL', () => {
  it('completes a killed run in a new process without re-running recorded steps', () => {
    expect(runs.crashy).toMatchObject({ status: 'succeeded', output: 'done' })
    // `hang` was in flight at the kill, so it runs again (at-least-once); the recorded steps
    // before it do not, and the transaction's row exists once.
    expect(effects.filter((line) => ['one', 'two', 'hang', 'three'].includes(line))).toEqual([
      'one',
      'two',
      'hang',
      'hang',
      'three',
    ])
    expect(readColumn(db, 'credits')).toEqual([1])
    expect(runs.crashy.steps.map((step) => `${step.name}:${step.status}`)).toEqual([
      'one:succeeded',
      'credit:succeeded',
      'two:succeeded',
      'hang:succeeded',
      'sleep:succeeded',
      'three:succeeded',
    ])
  })

  it('continues a durable sleep in a new process after a kill during the sleep', () => {
    expect(runs.sleepy).toMatchObject({ status: 'succeeded', output: 'rested' })
    expect(effectsAtKill).toContain('before')
    expect(effectsAtKill).not.toContain('after')
    expect(effects.filter((line) => line === 'before' || line === 'after')).toEqual([
      'before',
      'after',
    ])
    const sleep = runs.sleepy.steps.find((step) => step.kind === 'sleep')
    const sleptMs = Date.parse(sleep?.endedAt ?? '') - Date.parse(sleep?.startedAt ?? '')
    expect(sleptMs).toBeGreaterThanOrEqual(SLEEP_MS)
  })

  it('commits each transaction exactly once across a kill in the middle of many', () => {
    expect(runs.ledger.status).toBe('succeeded')
    const ticksAtKill = effectsAtKill.filter((line) => line.startsWith('tick-')).length
    expect(ticksAtKill).toBeGreaterThan(LEDGER_COUNT / 4)
    expect(ticksAtKill).toBeLessThan(LEDGER_COUNT)
    expect(new Set(effects.filter((line) => line.startsWith('tick-'))).size).toBe(LEDGER_COUNT)
    expect(readColumn(db, 'ledger')).toEqual(Array.from({ length: LEDGER_COUNT }, (_, i) => i))
  })
})
