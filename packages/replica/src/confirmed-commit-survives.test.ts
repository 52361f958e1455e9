import { type ChildProcess, spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { tenantReplica } from './replica-location.js'
import { restore } from './restore.js'
import { openSqlite } from './sqlite-connection.js'
import { TestFixture } from '@litecell/testkit/replica'

const WRITER = fileURLToPath(
  new URL('../testdata/confirmed-commit-survives/write-and-confirm.ts', import.meta.url),
)
/** Commit points per test; each is one machine loss. */
const ROUNDS = 6

// What a confirmation promises: the confirmed commit survives the loss of the machine. A
// writer commits continuously; at a random moment it asks for its last commit to be
// confirmed; the instant the confirmation arrives, the writer and its Litestream are
// SIGKILLed and the local files deleted; a restore from S3 must hold that commit. A watcher
// that confirmed from the local shadow WAL, from a log line or from elapsed time would lose
// the row in most rounds (the upload comes up to a sync interval later).
describe('a confirmed commit survives the loss of the machine', { timeout: 240_000 }, () => {
  let fx: TestFixture
  beforeEach(async () => {
    fx = await TestFixture.create('survives')
  })
  afterEach(async () => {
    await fx.dispose()
  })

  async function lossAfterConfirmation(round: number, intervals: object): Promise<void> {
    const dir = fx.path(`machine-${round}`)
    await mkdir(dir)
    const replica = tenantReplica(fx.s3.storage('test'), `t${round}`)
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        WRITER,
        `${dir}/tenant.db`,
        JSON.stringify(replica),
        JSON.stringify(intervals),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    )
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
      const next = async (): Promise<Record<string, number | string>> => {
        const { value, done } = await lines.next()
        if (done) throw new Error(`writer ${round} exited early`)
        return JSON.parse(value as string) as Record<string, number | string>
      }
      const { litestreamPid } = await next()
      // A random commit point: after 0.3–2 s of writing, anywhere in the sync cycle.
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 1_700))
      child.stdin!.write('confirm\n')
      const answer = await next()
      killHard(child, Number(litestreamPid))
      expect(answer.error).toBeUndefined()
      const confirmed = Number(answer.confirmed)
      expect(confirmed).toBeGreaterThan(0)
      rmSync(dir, { recursive: true, force: true })
      const target = fx.path(`restored-${round}`, 'tenant.db')
      expect(await restore(replica, target)).toEqual({ restored: true })
      const db = openSqlite(target)
      const row = db.prepare('SELECT id FROM items WHERE id = ?').get(confirmed)
      const max = (db.prepare('SELECT max(id) AS id FROM items').get() as { id: number }).id
      db.close()
      expect({ round, confirmed, found: row !== undefined }).toEqual({
        round,
        confirmed,
        found: true,
      })
      expect(max).toBeGreaterThanOrEqual(confirmed)
    } finally {
      child.kill('SIGKILL')
    }
  }

  it('at Litestream default intervals (1 s sync, 1 s monitor)', async () => {
    for (let round = 0; round < ROUNDS / 2; round++) {
      await lossAfterConfirmation(round, { syncIntervalMs: 1_000, monitorIntervalMs: 1_000 })
    }
  })

  it('at tuned intervals (200 ms sync, 100 ms monitor)', async () => {
    for (let round = 0; round < ROUNDS / 2; round++) {
      await lossAfterConfirmation(100 + round, { syncIntervalMs: 200, monitorIntervalMs: 100 })
    }
  })
})

function killHard(child: ChildProcess, litestreamPid: number): void {
  child.kill('SIGKILL')
  try {
    process.kill(litestreamPid, 'SIGKILL')
  } catch {
    // already gone
  }
}
