/**
 * The app end-to-end tests run in their tenants. A plain object (no import needed). Side
 * effects that must be counted outside the database are appended to files under
 * LITECELL_TEST_EFFECTS_DIR, one line per execution, so a test can tell how often a step ran.
 */
import { appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'

function effect(tenantFile: string, line: string): void {
  const dir = process.env.LITECELL_TEST_EFFECTS_DIR
  if (!dir) return
  mkdirSync(dir, { recursive: true })
  appendFileSync(join(dir, tenantFile), `${line}\n`)
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export default {
  migrations: ['CREATE TABLE ledger (run_id TEXT NOT NULL, entry TEXT NOT NULL)'],
  workflows: {
    /** Two counted steps, one ledger transaction, one slow counted step (its start counted too). */
    counted: async (ctx: any, input: { tenant: string; slowMs?: number }) => {
      await ctx.step('first', () => effect(input.tenant, `${ctx.runId} first`))
      await ctx.transaction('ledger', (tx: any) => {
        tx.execute('INSERT INTO ledger (run_id, entry) VALUES (?, ?)', [ctx.runId, 'paid'])
      })
      await ctx.step('slow', async () => {
        // The workflow got here, so `first` and `ledger` are recorded: never to run again.
        effect(input.tenant, `${ctx.runId} slow-begin`)
        await pause(input.slowMs ?? 100)
        effect(input.tenant, `${ctx.runId} slow`)
      })
      return { done: ctx.runId }
    },
    /** Sleeps durably, then records that it woke. */
    sleeper: async (ctx: any, input: { ms: number }) => {
      const before = await ctx.now()
      await ctx.sleep(input.ms)
      const after = await ctx.step('woke', () => Date.now())
      return { sleptMs: after - before }
    },
    /** Writes one ledger row and returns it. */
    write: async (ctx: any, input: { entry: string }) => {
      await ctx.transaction('write', (tx: any) => {
        tx.execute('INSERT INTO ledger (run_id, entry) VALUES (?, ?)', [ctx.runId, input.entry])
      })
      return input.entry
    },
    /** Kills its own worker process: a crash loop on every recovery. */
    crash: async (ctx: any) => {
      await ctx.step('crash', () => process.exit(3))
    },
    /**
     * Three steps, the middle one a ledger transaction (issue 11's machine-loss tests): its
     * output follows from its input, so a result reported before a loss can be compared after.
     */
    threeSteps: async (ctx: any, input: { n: number }) => {
      const doubled = await ctx.step('double', () => input.n * 2)
      await ctx.transaction('ledger', (tx: any) => {
        tx.execute('INSERT INTO ledger (run_id, entry) VALUES (?, ?)', [ctx.runId, `n-${input.n}`])
      })
      return ctx.step('report', () => ({ n: input.n, doubled }))
    },
    /** A quick workflow for load. */
    quick: async (ctx: any, input: { n?: number } | null) => ctx.step('add', () => (input?.n ?? 0) + 1),
    /** Burns CPU in a tight loop for `ms`. */
    spin: async (ctx: any, input: { ms: number }) =>
      ctx.step('spin', () => {
        const end = Date.now() + input.ms
        let x = 0
        while (Date.now() < end) x += 1
        return x > 0
      }),
    /** Its transaction function is async: the run fails, the worker must not (issue 9). */
    asyncTransaction: async (ctx: any) => {
      await ctx.transaction('async', async (tx: any) => {
        tx.execute('INSERT INTO ledger (run_id, entry) VALUES (?, ?)', [ctx.runId, 'before await'])
        await pause(10)
        tx.execute('INSERT INTO ledger (run_id, entry) VALUES (?, ?)', [ctx.runId, 'after await'])
      })
      return 'unreachable'
    },
    /**
     * Leaves a rejected promise nobody handles and a timer that throws, then succeeds: its own
     * code never awaits either, so the run succeeds and the worker goes on.
     */
    floatingErrors: async (ctx: any) => {
      await ctx.step('leave errors behind', () => {
        void Promise.reject(new Error('floating rejection from a step'))
        setTimeout(() => {
          throw new Error('timer thrown by a step')
        }, 5)
        return 'left'
      })
      await ctx.step('after', () => pause(50))
      return 'survived'
    },
    /** A transaction whose SQL never ends: SQLite interrupts it at the worker's budget. */
    runawayTransaction: async (ctx: any) =>
      ctx.transaction('runaway', (tx: any) =>
        tx.execute('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c'),
      ),
    /** Ends its worker process from inside a step: a poison run, quarantined after 3 deaths. */
    exitInStep: async (ctx: any) => {
      await ctx.step('exit', () => process.exit(1))
      return 'unreachable'
    },
    /** Prints its text from a step (what `litecell logs` shows), then returns it. */
    say: async (ctx: any, input: { text: string }) =>
      ctx.step('say', () => {
        console.log(input.text)
        return input.text
      }),
    /** Waits for an `approve` event (at most `timeoutMs`), then returns its payload. */
    approval: async (ctx: any, input: { timeoutMs?: number } | null) =>
      ctx.waitForEvent('approve', input?.timeoutMs ? { timeoutMs: input.timeoutMs } : undefined),
    /** A step that awaits a promise that never settles: only a stop deadline ends it. */
    hang: async (ctx: any) => {
      await ctx.step('hang', () => new Promise(() => undefined))
      return 'unreachable'
    },
    /** `steps` steps of `stepMs` each (a long workflow that survives its control plane). */
    slowSteps: async (ctx: any, input: { steps: number; stepMs: number }) => {
      for (let i = 0; i < input.steps; i += 1) {
        await ctx.step(`step-${i}`, () => pause(input.stepMs).then(() => process.pid))
      }
      return { steps: input.steps, pid: process.pid }
    },
    /** Allocates until the worker's heap cap kills it. */
    hog: async (ctx: any) =>
      ctx.step('hog', () => {
        const keep: string[][] = []
        for (;;) keep.push(new Array(1_000_000).fill('x'))
      }),
  },
}
