// Child process of the quarantine test: `run.ts <db>` opens the engine, starts four runs at
// once (so their `running` marks share a batch) and one of them calls process.exit(1) in its
// first step, synchronously, as poison app code does.
import { defineApp, Engine } from '../../src/index.js'

const [path] = process.argv.slice(2)
if (path === undefined) throw new Error('usage: run.ts <db>')
const app = defineApp({
  workflows: {
    work: async (ctx, input: { exit: boolean }) =>
      ctx.step('first', async () => {
        if (input.exit) process.exit(1)
        await new Promise(() => undefined)
      }),
  },
})
const engine = await Engine.open({ path, app })
const { runIds } = await engine.startMany([
  { workflow: 'work', input: { exit: false } },
  { workflow: 'work', input: { exit: false } },
  { workflow: 'work', input: { exit: true } },
  { workflow: 'work', input: { exit: false } },
])
process.stdout.write(`${JSON.stringify(runIds)}\n`)
await new Promise(() => undefined)
