// The app of the crash-recovery test. Steps append a line per execution to EFFECTS_FILE (a
// side effect outside the database) so the test can count how often each one ran. With
// HANG=1 (the process that gets killed) each workflow writes `<MARKER_PREFIX><workflow>` once
// it reached the point where the test should kill it.
import { appendFileSync, writeFileSync } from 'node:fs'
import { defineApp } from '../../src/index.js'

const effectsFile = process.env.EFFECTS_FILE ?? '/dev/null'
const markerPrefix = process.env.MARKER_PREFIX
const hang = process.env.HANG === '1'

function effect(what: string): void {
  appendFileSync(effectsFile, `${what}\n`)
}

/** Tells the test that `workflow` reached its kill point (first process only). */
export function mark(workflow: string): void {
  if (hang && markerPrefix !== undefined) writeFileSync(`${markerPrefix}${workflow}`, 'reached')
}

export default defineApp({
  migrations: [
    'CREATE TABLE credits (n INTEGER NOT NULL)',
    'CREATE TABLE ledger (n INTEGER NOT NULL)',
  ],
  workflows: {
    // Killed inside step `hang`: the steps before it must not run again.
    crashy: async (ctx) => {
      await ctx.step('one', () => effect('one'))
      await ctx.transaction('credit', (tx) => {
        tx.execute('INSERT INTO credits (n) VALUES (1)')
        return null
      })
      await ctx.step('two', () => effect('two'))
      await ctx.step('hang', async () => {
        effect('hang')
        if (hang) {
          mark('crashy')
          await new Promise(() => undefined)
        }
      })
      await ctx.sleep(50)
      await ctx.step('three', () => effect('three'))
      return 'done'
    },
    // Killed while sleeping (run.ts marks it once its status is `sleeping`).
    sleepy: async (ctx, input: { sleepMs: number }) => {
      await ctx.step('before', () => effect('before'))
      await ctx.sleep(input.sleepMs)
      await ctx.step('after', () => effect('after'))
      return 'rested'
    },
    // Many transactions in a row, killed at an arbitrary point: each must commit exactly once.
    ledger: async (ctx, input: { count: number }) => {
      for (let i = 0; i < input.count; i++) {
        await ctx.transaction(`credit-${i}`, (tx) => {
          tx.execute('INSERT INTO ledger (n) VALUES (?)', [i])
          return i
        })
        await ctx.step(`tick-${i}`, async () => {
          effect(`tick-${i}`)
          // Slow the first process down so the kill lands in the middle of the loop.
          if (hang) await new Promise((resolve) => setTimeout(resolve, 2))
        })
        if (i === Math.floor(input.count / 4)) mark('ledger')
      }
      return 'done'
    },
  },
})
