// Child process of the crash-recovery test.
//   start <db> <requests>  starts the runs (a JSON array of {workflow, input}), prints their ids
//                          as a JSON array, marks `sleepy` once it sleeps, and waits to be killed.
//   recover <db> <runIds>  opens the engine (which recovers the runs), waits for them to end and
//                          prints {runs, recoveryMs} as JSON.
import { writeFileSync } from 'node:fs'
import { Engine, type StartRequest } from '../../src/index.js'
import app from './app.js'

const [mode, path, list = '[]'] = process.argv.slice(2)
if (path === undefined) throw new Error('usage: run.ts start|recover <db> <json>')
const openedAt = performance.now()
const engine = await Engine.open({ path, app })

if (mode === 'start') {
  const requests = JSON.parse(list) as StartRequest[]
  const { runIds } = await engine.startMany(requests)
  process.stdout.write(`${JSON.stringify(runIds)}\n`)
  const sleepyIndex = requests.findIndex((request) => request.workflow === 'sleepy')
  const sleepyId = runIds[sleepyIndex]
  if (sleepyId !== undefined) {
    while ((await engine.get(sleepyId)).status !== 'sleeping') {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    writeFileSync(`${process.env.MARKER_PREFIX}sleepy`, 'reached')
  }
  await new Promise(() => undefined)
} else {
  const runs = []
  for (const runId of JSON.parse(list) as string[]) {
    runs.push(await engine.result(runId, { waitMs: 30_000 }))
  }
  const recoveryMs = performance.now() - openedAt
  await engine.close()
  process.stdout.write(`${JSON.stringify({ runs, recoveryMs })}\n`)
}
