// The app of the crash-recovery test. Steps append a line per execution to EFFECTS_FILE (a
// side effect outside the database) so the test can count how often each one ran.
import { appendFileSync, writeFileSync } from 'node:fs'
import { defineApp } from '../../src/index.js'

const effectsFile = process.env.EFFECTS_FILE ?? '/dev/null'
const markerFile = process.env.MARKER_FILE ?? '/dev/null'
const hang = process.env.HANG === '1'

function effect(what: string): void {
  appendFileSync(effectsFile, `${what}\n`)
}

export default defineApp({
  migrations: ['CREATE TABLE ledger (n INTEGER NOT NULL)'],
  workflows: {
    crashy: async (ctx) => {
      await ctx.step('one', () => effect('one'))
      await ctx.transaction('credit', (tx) => {
        tx.execute('INSERT INTO ledger (n) VALUES (1)')
        return null
      })
      await ctx.step('two', () => effect('two'))
      await ctx.step('hang', async () => {
        effect('hang')
        if (hang) {
          writeFileSync(markerFile, 'hanging')
          await new Promise(() => undefined)
        }
      })
      await ctx.sleep(50)
      await ctx.step('three', () => effect('three'))
      return 'done'
    },
    // Killed while sleeping: the wake time is durable, the next process continues the run.
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
          if (hang) await new Promise((resolve) => setTimeout(resolve, 1))
        })
        if (i === Math.floor(input.count / 4) && hang) writeFileSync(markerFile, 'quarter')
      }
      return 'done'
    },
  },
})
