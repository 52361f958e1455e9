/**
 * Retention keeps a tenant's file bounded under a steady workload (issue 13, section 4): 50,000
 * three-step runs in batches through the API, on a real worker with real Litestream, with
 * `retention: { succeeded: '2s' }`: the worker deletes runs 2 s after they ended, in the
 * background. Why the file is bounded, and by what: SQLite puts the pages of deleted runs on
 * its freelist and reuses them, so the file only ever grows to hold the most runs retained at
 * one time. Left to itself that is ≈ 3–4 s of throughput (the retention, a sweep interval and
 * the sweep's lag), so the bound would move with the machine's speed: a faster worker (issue 12:
 * no confirmation per run end in a local tenant) kept three batches at once and reached 18 MB. So the workload is paced
 * by retention itself: batch k is submitted only once batch k − 2 is deleted, so at most two
 * batches (10,000 runs × ≈ 0.5 KB ≈ 5 MB of rows, doubled by B-tree and freelist slack) are
 * ever held, while the sweeps of one batch run beside the next: measured 6.3 MB after the
 * second batch and 6.7 MB after the tenth (the sizes are printed). Without retention the same
 * workload grows the file by ≈ 0.5 KB per run, to ≈ 27 MB after these 50,000 runs and on
 * without bound (and here the pacing would time out). Breakage caught: no retention,
 * retention that never runs in a live worker, or deletes that leave their journal behind. The
 * WAL beside it is not bounded by retention: its size is the high-water mark of the writes
 * between two of Litestream's checkpoints (SQLite reuses a WAL from its start after a
 * checkpoint but never shortens the file), ≈ 70–100 MB under this burst with or without
 * retention; the engine never checkpoints (Litestream owns checkpoints).
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { MAX_STATUS_RUN_IDS } from '@litecell/client'
import { waitFor } from '@litecell/testkit'
import { TEST_APP_PATH, createTenant, query, useServer } from '@litecell/testkit/e2e'
import { REPO_ROOT } from '@litecell/testkit/server'

const RETENTION_APP_PATH = join(REPO_ROOT, 'test/apps/retention-app.ts')
const TOTAL_RUNS = 50_000
const BATCH_RUNS = 5_000
/** The bound: above two batches' worth (measured below), below the ≈ 27 MB without retention. */
const MAX_DATABASE_BYTES = 16 * 1024 * 1024

const server = useServer({
  env: {
    LITECELL_APPS: `test=${TEST_APP_PATH},retention=${RETENTION_APP_PATH}`,
    LITECELL_IDLE_MS: '120000',
  },
})

function fileBytes(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

test('50,000 runs with a 2 s retention: the tenant database stays under 16 MB', async () => {
  const { admin } = server
  await createTenant(admin, 'steady', 'retention')
  const dbPath = join(server.dataDir, 'tenants', 'steady', 'tenant.db')
  const sizes: { db: number; wal: number }[] = []
  let firstRunId = ''
  const batches: string[][] = []
  /** Resolves once every run of `runIds` has ended (`gone`: has been deleted by retention). */
  const untilAll = async (runIds: readonly string[], gone: boolean, what: string) => {
    for (let i = 0; i < runIds.length; i += MAX_STATUS_RUN_IDS) {
      const slice = runIds.slice(i, i + MAX_STATUS_RUN_IDS)
      await waitFor(
        async () =>
          (await admin.runStatuses('steady', slice)).every(
            (entry) => entry.status === null || (!gone && entry.status === 'succeeded'),
          ),
        { timeoutMs: 60_000, intervalMs: 100, what },
      )
    }
  }
  for (let started = 0; started < TOTAL_RUNS; started += BATCH_RUNS) {
    const twoBefore = batches.at(-2)
    if (twoBefore) await untilAll(twoBefore, true, `retention to delete the batch before run ${started - BATCH_RUNS}`)
    const { runIds } = await admin.startRuns(
      'steady',
      Array.from({ length: BATCH_RUNS }, (_, i) => ({
        workflow: 'three',
        input: { n: started + i },
      })),
    )
    firstRunId ||= runIds[0] as string
    batches.push(runIds)
    // Wait for the batch to end (deleted runs count as ended: retention got there first).
    await untilAll(runIds, false, `batch from run ${started} to end`)
    sizes.push({ db: fileBytes(dbPath), wal: fileBytes(`${dbPath}-wal`) })
  }
  // The last sweeps catch up with the last batch.
  await waitFor(async () => (await admin.listRuns('steady', { limit: 1000 })).runs.length === 0, {
    timeoutMs: 30_000,
    what: 'retention to delete the last batch',
  })
  await expect(admin.getRun('steady', firstRunId)).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' })
  const [{ steps }] = await query(admin, 'steady', 'SELECT count(*) AS steps FROM lc_steps')
  expect(steps).toBe(0)
  const db = sizes.map((size) => size.db)
  console.log(JSON.stringify({ retentionDatabaseBytesAfterEachBatch: db }))
  expect(Math.max(...db), `database sizes ${db.join(', ')}`).toBeLessThan(MAX_DATABASE_BYTES)
}, 300_000)
