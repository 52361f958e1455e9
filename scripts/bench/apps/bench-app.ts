/**
 * The app `pnpm bench` runs in its tenants (registered as `bench` through LITECELL_APPS). A
 * plain object, like every app module: `{workflows, migrations}`.
 *
 * - `three-steps`: the smallest useful workflow ({n} → n + 3), for latency and bursts.
 * - `fill`: grows the tenant database by about `bytes` of incompressible rows (random blobs,
 *   so Litestream's compression cannot shrink the replica), `chunkBytes` per transaction.
 * - `timer`: a durable sleep until `dueAt` (epoch ms), then a step that records the wall clock
 *   at which the run resumed and, given `reportUrl`, POSTs `{tenant, dueAt, wokeAt}` there (so
 *   `pnpm bench:fleet --timers` learns of every firing without waking the tenant again).
 */
interface TimerInput {
  dueAt: number
  tenant?: string
  reportUrl?: string
}

interface FillInput {
  bytes: number
  rowBytes?: number
  chunkBytes?: number
}

/** Size of one filler row. */
const DEFAULT_ROW_BYTES = 64 * 1024
/** Bytes written per `ctx.transaction` of a fill. */
const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024

// A recursive CTE instead of generate_series: it is core SQLite, with no extension needed.
const FILL_SQL = `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?)
  INSERT INTO fill (chunk, body) SELECT ?, randomblob(?) FROM n`

export default {
  migrations: ['CREATE TABLE fill (id INTEGER PRIMARY KEY, chunk INTEGER NOT NULL, body BLOB NOT NULL)'],
  workflows: {
    'three-steps': async (ctx: any, input: { n?: number } | null) => {
      const a = await ctx.step('a', () => (input?.n ?? 0) + 1)
      const b = await ctx.step('b', () => a + 1)
      return ctx.step('c', () => b + 1)
    },
    timer: async (ctx: any, input: TimerInput) => {
      const sleptAt: number = await ctx.now()
      await ctx.sleep(Math.max(0, input.dueAt - sleptAt))
      const wokeAt: number = await ctx.step('woke', () => Date.now())
      if (input.reportUrl) {
        // At least once: the bench keeps the first report per tenant.
        await ctx.step('report', async () => {
          const response = await fetch(input.reportUrl!, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ tenant: input.tenant, dueAt: input.dueAt, wokeAt }),
          })
          if (!response.ok) throw new Error(`report: HTTP ${response.status}`)
          return true
        })
      }
      return { dueAt: input.dueAt, wokeAt }
    },
    fill: async (ctx: any, input: FillInput) => {
      const rowBytes = input.rowBytes ?? DEFAULT_ROW_BYTES
      const rowsPerChunk = Math.max(1, Math.floor((input.chunkBytes ?? DEFAULT_CHUNK_BYTES) / rowBytes))
      let rowsLeft = Math.ceil(input.bytes / rowBytes)
      let chunk = 0
      while (rowsLeft > 0) {
        const rows = Math.min(rowsLeft, rowsPerChunk)
        await ctx.transaction(`fill-${chunk}`, (tx: any) => {
          tx.execute(FILL_SQL, [rows, chunk, rowBytes])
        })
        rowsLeft -= rows
        chunk += 1
      }
      return { chunks: chunk, rows: Math.ceil(input.bytes / rowBytes) }
    },
  },
}
