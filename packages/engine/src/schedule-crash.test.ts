import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Libsql from 'libsql'
import { afterEach, expect, it } from 'vitest'
import app from '../testdata/schedule-crash/app.js'
import { cleanup, reopen, tempDir } from '@litecell/testkit/engine'

afterEach(cleanup)

const script = fileURLToPath(new URL('../testdata/schedule-crash/run.ts', import.meta.url))
const tsx = import.meta.resolve('tsx')
const CRASHES = 4

/**
 * Starts the child, waits until its engine is open, lets it fire for `firingMs`, SIGKILLs it.
 * Returns when the child was seen open.
 */
async function fireThenKill(db: string, firingMs: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', tsx, script, db], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('open') && resolve())
    child.on('exit', (code) =>
      reject(new Error(`child exited with ${code} before its engine opened`)),
    )
  })
  const openedAt = Date.now()
  await new Promise((resolve) => setTimeout(resolve, firingMs))
  child.kill('SIGKILL')
  await exited
  return openedAt
}

// What it catches: a fire whose run and cursor move do not commit together (a crash between
// them either loses the fire, a gap, or starts it twice), and fire keys that are not stable
// across processes (a fire started again under another key).
it('a per-second schedule starts exactly one run per fire time across SIGKILLs at random moments', async () => {
  const db = join(tempDir(), 'tenant.db')
  let firstOpenedAt = 0
  for (let i = 0; i < CRASHES; i++) {
    const openedAt = await fireThenKill(db, 300 + Math.floor(Math.random() * 1_500))
    if (i === 0) firstOpenedAt = openedAt
  }
  const reopenedAt = Date.now()
  const engine = await reopen(db, app)
  await engine.idle()
  await engine.close()
  const connection = new Libsql(db, { readonly: true })
  const runs = connection
    .prepare(
      "SELECT idempotency_key AS key, status FROM lc_runs WHERE idempotency_key LIKE 'schedule:tick:%' ORDER BY idempotency_key",
    )
    .all() as { key: string; status: string }[]
  connection.close()
  const fireTimes = runs.map((run) => Date.parse(run.key.slice('schedule:tick:'.length)))
  // Each fire once, every second from the first to the last (catch-up `all` owes every
  // fire missed while no process ran), from the first second after the schedule was created
  // to the last second before the final reopen, and every run finished. (How many that is
  // depends on how fast the children start, so the count is checked against the clock.)
  expect(new Set(fireTimes).size).toBe(fireTimes.length)
  const first = fireTimes[0] as number
  const last = fireTimes.at(-1) as number
  expect(fireTimes).toEqual(fireTimes.map((_, i) => first + i * 1_000))
  expect(first).toBeLessThanOrEqual(firstOpenedAt + 1_000)
  expect(last).toBeGreaterThan(reopenedAt - 1_000)
  expect(fireTimes.length).toBeGreaterThanOrEqual(Math.floor((reopenedAt - firstOpenedAt) / 1_000))
  expect(runs.every((run) => run.status === 'succeeded')).toBe(true)
})
