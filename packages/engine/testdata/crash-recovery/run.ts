// Child process of the crash-recovery test: `start <db> <workflow> <inputJson>` opens the
// engine and starts a run (then keeps running until killed); `recover <db> <runId>` opens
// the engine, which recovers the run, and prints the finished run as JSON.
import { writeFileSync } from 'node:fs'
import { Engine } from '../../src/index.js'
import app from './app.js'

const [mode, path, ...rest] = process.argv.slice(2)
if (path === undefined) throw new Error('usage: run.ts start|recover <db> …')
const openedAt = performance.now()
const engine = await Engine.open({
  path,
  app,
  synchronous: process.env.SYNCHRONOUS === 'FULL' ? 'FULL' : 'NORMAL',
})

if (mode === 'start') {
  const [workflow = 'crashy', input = 'null'] = rest
  const { runId } = await engine.start(workflow, JSON.parse(input))
  process.stdout.write(`${runId}\n`)
  const markOn = process.env.MARKER_ON_STATUS
  if (markOn !== undefined) {
    // Tell the test once the run reached the status (e.g. `sleeping`), then wait to be killed.
    while ((await engine.get(runId)).status !== markOn) await new Promise((r) => setTimeout(r, 5))
    writeFileSync(process.env.MARKER_FILE ?? '/dev/null', markOn)
  }
  await engine.result(runId, { waitMs: 60_000 })
} else {
  const [runId = ''] = rest
  const run = await engine.result(runId, { waitMs: 30_000 })
  const recoveryMs = performance.now() - openedAt
  await engine.close()
  process.stdout.write(`${JSON.stringify({ run, recoveryMs })}\n`)
}
