// Child process of last-step-crash.test.ts: one lone run whose process dies right after its
// last step, before the workflow returns.
//   start <db> <effects> <kill>  starts a run of `ends`; with KILL=1 the
//                                workflow SIGKILLs this process after step `b`: at once
//                                (`kill` = "at-once") or after awaiting a timer ("after-a-turn").
//   recover <db> <effects> <id>  opens the engine (which recovers the run), waits for its end and
//                                prints {run, recovery} as JSON.
import { appendFileSync } from 'node:fs'
import { defineApp, Engine } from '../../src/index.js'

const [mode, path, effectsFile, arg = ''] = process.argv.slice(2)
if (path === undefined || effectsFile === undefined)
  throw new Error('usage: run.ts start|recover <db> <effects> <kill|runId>')

/** A side effect outside the database: one line per execution of a step. */
function effect(what: string): void {
  appendFileSync(effectsFile as string, `${what}\n`)
}

const app = defineApp({
  workflows: {
    ends: async (ctx, input: { kill: 'at-once' | 'after-a-turn' }) => {
      await ctx.step('a', () => effect('a'))
      const b = await ctx.step('b', () => {
        effect('b')
        return 2
      })
      if (process.env.KILL === '1') {
        if (input.kill === 'after-a-turn') await new Promise((resolve) => setTimeout(resolve, 1))
        process.kill(process.pid, 'SIGKILL')
      }
      return b * 10
    },
  },
})

const engine = await Engine.open({ path, app })
if (mode === 'start') {
  const { runId } = await engine.start('ends', { kill: arg })
  await engine.result(runId, { waitMs: 30_000 })
} else {
  const run = await engine.result(arg, { waitMs: 30_000 })
  const recovery = engine.recovery
  await engine.close()
  process.stdout.write(`${JSON.stringify({ run, recovery })}\n`)
}
