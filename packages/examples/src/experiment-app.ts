/**
 * The example app: an experiment sweep, where a SQLite file per tenant pays off. Each tenant
 * is one experiment; its runs write metrics rows into the tenant's own `metrics` table, so a
 * fork of the tenant at an earlier time is a fork of the experiment, data and all.
 *
 * - `train`: epochs as steps (a step's result is never recomputed after a crash), metrics
 *   written with `ctx.transaction` (exactly once), a durable sleep between the warm-up and
 *   the fine-tune phase, and optionally a wait for an `approve` event before it finishes.
 * - `sweep`: fans out `train` children over a grid of learning rates, returns the best. The
 *   children run on the partitioned `gpu` queue (at most 2 GPU jobs of one `owner` at once,
 *   4 in all) and carry tags (`lr`, `sweep`), so `GET …/runs?tag.sweep=<id>` lists a sweep's
 *   trials and `tag.lr=0.1` one learning rate across sweeps.
 * - `flaky`: a step that fails transiently and succeeds on a retry.
 * - `three-steps`: the smallest useful workflow, for benchmarks.
 * - `summarize`: the best loss per learning rate into `summaries`, every night at 03:00 UTC
 *   (the `nightly` schedule; a hibernated tenant is woken for it).
 *
 * Version 2 of the app added the `results` row that `train` writes at its end. Runs that were
 * already past that point under version 1 keep their journal: the write sits behind
 * `ctx.patched('record-result')`, which is false for them (see the engine README, Versioning).
 */
import { defineApp, type WorkflowContext } from '@litecell/engine'

interface TrainInput {
  lr: number
  epochs?: number
  /** Cool-down between the two phases, e.g. `'2s'`. */
  coolDown?: string | number
  /** Wait for an `approve` event (at most this long) before finishing. */
  approvalTimeoutMs?: number
}

/** A deterministic stand-in for one epoch of training: loss falls with epochs, best near lr 0.1. */
function simulateEpoch(lr: number, epoch: number): number {
  const distance = Math.abs(Math.log10(lr) + 1)
  return Number((1 / (epoch + 1) + distance * 0.3).toFixed(6))
}

async function runEpochs(ctx: WorkflowContext, input: TrainInput, phase: string, from: number, to: number) {
  let loss = Number.POSITIVE_INFINITY
  for (let epoch = from; epoch <= to; epoch += 1) {
    loss = await ctx.step(`${phase}-epoch-${epoch}`, () => simulateEpoch(input.lr, epoch))
    const at = await ctx.now()
    await ctx.transaction(`${phase}-metrics-${epoch}`, (tx) => {
      tx.execute('INSERT INTO metrics (run_id, phase, epoch, lr, loss, at) VALUES (?, ?, ?, ?, ?, ?)', [
        ctx.runId,
        phase,
        epoch,
        input.lr,
        loss,
        at,
      ])
      return loss
    })
  }
  return loss
}

export default defineApp({
  version: '2',
  migrations: [
    `CREATE TABLE metrics (
       run_id TEXT NOT NULL, phase TEXT NOT NULL, epoch INTEGER NOT NULL,
       lr REAL NOT NULL, loss REAL NOT NULL, at INTEGER NOT NULL,
       PRIMARY KEY (run_id, phase, epoch))`,
    {
      name: 'results-and-summaries',
      sql: `CREATE TABLE results (run_id TEXT PRIMARY KEY, lr REAL NOT NULL, loss REAL NOT NULL);
            CREATE TABLE summaries (at INTEGER NOT NULL, lr REAL NOT NULL, best_loss REAL NOT NULL, runs INTEGER NOT NULL,
              PRIMARY KEY (at, lr))`,
    },
  ],
  queues: { gpu: { concurrency: 4, partitionConcurrency: 2 } },
  schedules: {
    nightly: { cron: '0 3 * * *', workflow: 'summarize' },
  },
  workflows: {
    train: async (ctx, input: TrainInput) => {
      const epochs = input.epochs ?? 4
      const half = Math.max(1, Math.floor(epochs / 2))
      await runEpochs(ctx, input, 'warmup', 1, half)
      if (input.coolDown !== undefined) await ctx.sleep(input.coolDown)
      const loss = await runEpochs(ctx, input, 'finetune', half + 1, epochs)
      if (await ctx.patched('record-result')) {
        await ctx.transaction('record-result', (tx) => {
          tx.execute('INSERT INTO results (run_id, lr, loss) VALUES (?, ?, ?)', [ctx.runId, input.lr, loss])
          return null
        })
      }
      let approved: boolean | null = null
      if (input.approvalTimeoutMs !== undefined) {
        const approval = await ctx.waitForEvent<{ by?: string }>('approve', { timeoutMs: input.approvalTimeoutMs })
        approved = approval !== null
      }
      return { lr: input.lr, loss, approved }
    },

    sweep: async (ctx, input: { lrs: number[]; epochs?: number; owner?: string }) => {
      const children = []
      for (const lr of input.lrs) {
        const options = {
          queue: 'gpu',
          partitionKey: input.owner ?? 'shared',
          tags: { lr: String(lr), sweep: ctx.runId },
        }
        children.push(await ctx.startChild<{ lr: number; loss: number }>('train', { lr, epochs: input.epochs ?? 4 }, options))
      }
      const results = []
      for (const child of children) results.push(await child.result())
      results.sort((a, b) => a.loss - b.loss)
      return { best: results[0] ?? null, tried: results.length }
    },

    flaky: async (ctx, input: { failures?: number }) => {
      const failures = input?.failures ?? 2
      return ctx.step(
        'call-flaky-service',
        ({ attempt }) => {
          if (attempt <= failures) throw new Error(`transient failure ${attempt} of ${failures}`)
          return { attempt }
        },
        { retries: failures + 1, backoff: { initialMs: 20, factor: 2 } },
      )
    },

    summarize: async (ctx) => {
      const at = await ctx.now()
      return ctx.transaction('summarize', (tx) => {
        tx.execute(
          `INSERT OR REPLACE INTO summaries (at, lr, best_loss, runs)
           SELECT ?, lr, min(loss), count(DISTINCT run_id) FROM metrics GROUP BY lr`,
          [at],
        )
        return tx.execute('SELECT count(*) AS lrs FROM summaries WHERE at = ?', [at])[0]?.lrs ?? 0
      })
    },

    'three-steps': async (ctx, input: { n?: number } | null) => {
      const a = await ctx.step('one', () => (input?.n ?? 0) + 1)
      const b = await ctx.step('two', () => a * 2)
      return ctx.step('three', () => b + 1)
    },
  },
})
