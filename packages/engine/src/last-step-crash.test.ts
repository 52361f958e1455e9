import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Libsql from 'libsql'
import { afterAll, describe, expect, it } from 'vitest'
import type { RecoveryReport } from './recovery.js'
import type { RunDetail } from './run.js'
import { cleanup, tempDir } from '@litecell/testkit/engine'

const script = fileURLToPath(new URL('../testdata/last-step-crash/run.ts', import.meta.url))
const tsx = import.meta.resolve('tsx')

afterAll(cleanup)

/** Runs the script to its end; resolves with its exit code (null if killed) and stdout. */
function runScript(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', tsx, script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  return new Promise<{ code: number | null; stdout: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout: out })),
  )
}

/** The run the killed process left behind, as another connection reads it. */
function leftBehind(db: string): { runId: string; status: string; steps: string[] } {
  const connection = new Libsql(db, { readonly: true })
  try {
    const run = connection.prepare('SELECT run_id, status FROM lc_runs').get() as {
      run_id: string
      status: string
    }
    const steps = connection
      .prepare('SELECT name FROM lc_steps WHERE run_id = ? ORDER BY seq')
      .all(run.run_id) as { name: string }[]
    return { runId: run.run_id, status: run.status, steps: steps.map((step) => step.name) }
  } finally {
    connection.close()
  }
}

/** Kills a lone run right after its last step `b` (as `kill` says), then recovers it. */
async function killAfterLastStep(kill: 'at-once' | 'after-a-turn') {
  const dir = tempDir()
  const db = join(dir, 'tenant.db')
  const effects = join(dir, 'effects.txt')
  const killed = await runScript(['start', db, effects, kill], { KILL: '1' })
  expect(killed.code).toBeNull()
  const atKill = leftBehind(db)
  const recovered = await runScript(['recover', db, effects, atKill.runId])
  expect(recovered.code).toBe(0)
  const { run, recovery } = JSON.parse(recovered.stdout) as {
    run: RunDetail
    recovery: RecoveryReport
  }
  const ran = existsSync(effects) ? readFileSync(effects, 'utf8').trim().split('\n') : []
  return { atKill, run, recovery, ran }
}

describe("a crash between a lone run's last step and its end", () => {
  it('runs the last step again when the process died before the workflow returned (its checkpoint waits for the end)', async () => {
    const { atKill, run, recovery, ran } = await killAfterLastStep('at-once')
    // b's checkpoint was held back to share the end's commit: b counts as in flight.
    expect(atKill).toMatchObject({ status: 'running', steps: ['a'] })
    expect(recovery.crashed).toBe(1)
    expect(run).toMatchObject({ status: 'succeeded', output: 20 })
    expect(run.steps.map((step) => `${step.name}:${step.status}`)).toEqual([
      'a:succeeded',
      'b:succeeded',
    ])
    // a ran once; b ran again, as a step in flight at a crash does (at-least-once).
    expect(ran).toEqual(['a', 'b', 'b'])
  }, 60_000)

  it('never runs the last step again once the workflow awaited something else (committed before the next turn)', async () => {
    const { atKill, run, recovery, ran } = await killAfterLastStep('after-a-turn')
    expect(atKill).toMatchObject({ status: 'running', steps: ['a', 'b'] })
    expect(recovery.crashed).toBe(1)
    expect(run).toMatchObject({ status: 'succeeded', output: 20 })
    expect(ran).toEqual(['a', 'b'])
  }, 60_000)
})
