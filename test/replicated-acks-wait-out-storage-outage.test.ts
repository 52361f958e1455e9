/**
 * S3 down for 10 s under a `replicated` tenant (issue 11), end to end with real processes.
 * The tenant starts `local` and is switched by PATCH while its worker runs (the next answer
 * says `replicated`). Then the acknowledgement of a run started during the outage waits for
 * S3, then answers 503
 * `STORAGE_UNAVAILABLE` with the run's id and `committedLocally: true` once
 * LITECELL_REPLICATION_ACK_TIMEOUT_MS has passed; a run that finished locally is not shown as
 * finished; once S3 is back a retry with the same idempotency key returns the same run, and
 * nothing is lost even when the machine is lost right after (the worker's process group
 * SIGKILLed and the tenant's folder deleted: the next wake restores from S3 only).
 *
 * Catches: a 202 sent without S3 (or an acknowledgement that hangs past its timeout), a retry
 * that starts a second run, a final status shown before S3 holds it, and a run committed
 * during the outage that never reaches S3 afterwards.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, onTestFinished, test } from 'vitest'
import { startEmbeddedS3, type EmbeddedS3 } from '@litecell/replica'
import { tempDir, waitFor } from '@litecell/testkit'
import { vanish } from '@litecell/testkit/machine-loss'
import {
  ReplicatorWatch,
  query,
  startTestServer,
  waitForRuns,
  type TestServer,
} from '@litecell/testkit/e2e'

/** How long S3 stays down. */
const OUTAGE_MS = 10_000
/** The acknowledgement timeout, shorter than the outage so the 503 is seen. */
const ACK_TIMEOUT_MS = 4_000

let s3: EmbeddedS3 | undefined
let s3Port = 0
let workDir = ''
let server: TestServer | undefined

beforeAll(async () => {
  workDir = tempDir('e2e')
  s3 = await startEmbeddedS3({ dir: join(workDir, 's3'), port: 0 })
  s3Port = s3.port
  server = await startTestServer({
    env: {
      LITECELL_S3_ENDPOINT: s3.endpoint,
      LITECELL_S3_BUCKET: 'litecell',
      LITECELL_S3_PREFIX: 'outage',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      LITECELL_IDLE_MS: '120000',
      LITECELL_LEASE_TTL_MS: '30000',
      LITECELL_REPLICATION_ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS),
    },
  })
})

afterAll(async () => {
  if (!s3) s3 = await startEmbeddedS3({ dir: join(workDir, 's3'), port: s3Port })
  await server?.stop()
  if (server && !process.env.LITECELL_KEEP_DATA) await server.removeDataDir()
  await s3?.stop()
  if (workDir) rmSync(workDir, { recursive: true, force: true })
})

test('acks wait for S3, then 503 STORAGE_UNAVAILABLE with committedLocally; the same key returns the run once S3 is back; nothing is lost', async () => {
  const admin = server!.admin
  const tenant = 'outage'
  const runs = `/v1/tenants/${tenant}/runs`
  // Created `local`, switched to `replicated` by PATCH while its worker runs.
  await admin.createTenant({ id: tenant, app: 'test' })
  const replicators = new ReplicatorWatch(join(server!.dataDir, 'tenants', tenant))
  onTestFinished(() => replicators.stop())
  const first = await admin.send<any>('POST', runs, { body: { workflow: 'write', input: { entry: 'first' } } })
  expect(first.headers.get('litecell-durability')).toBe('local')
  expect((await admin.updateTenant(tenant, { durability: 'replicated' })).durability).toBe('replicated')
  const before = await admin.send<any>('POST', runs, { body: { workflow: 'write', input: { entry: 'before' } } })
  expect(before.status).toBe(202)
  expect(before.headers.get('litecell-durability')).toBe('replicated')
  expect((await admin.runResult(tenant, before.body.runId, { waitMs: 30_000 })).status).toBe('succeeded')

  await s3!.stop()
  s3 = undefined
  const outageStartedMs = Date.now()
  const startedMs = Date.now()
  const body = { workflow: 'write', input: { entry: 'during' }, idempotencyKey: 'order-7' }
  const refused = await admin.send<any>('POST', runs, { body })
  const heldMs = Date.now() - startedMs
  const batch = await admin.send<any>('POST', `${runs}/batch`, {
    body: { runs: [{ workflow: 'write', input: { entry: 'batched' }, idempotencyKey: 'batch-1' }] },
  })
  const runId = refused.body?.error?.runId as string
  // The run completes on the worker, but is not shown as finished while S3 lacks its end.
  const localEnd = await waitFor(
    async () => {
      const [row] = await query(admin, tenant, 'SELECT status FROM lc_runs WHERE run_id = ?', [
        runId,
      ])
      return row?.status === 'succeeded'
    },
    { timeoutMs: 20_000, what: `run ${runId} to finish on the worker` },
  ).then(() => admin.send<any>('GET', `${runs}/${runId}`))
  await new Promise((resolve) =>
    setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - outageStartedMs))),
  )
  s3 = await startEmbeddedS3({ dir: join(workDir, 's3'), port: s3Port })
  console.log(
    JSON.stringify({ storageDown: { outageMs: Date.now() - outageStartedMs, ackHeldMs: heldMs } }),
  )

  expect(heldMs).toBeGreaterThanOrEqual(ACK_TIMEOUT_MS)
  expect(refused.status).toBe(503)
  expect(refused.body.error).toMatchObject({
    code: 'STORAGE_UNAVAILABLE',
    runId: expect.any(String),
    committedLocally: true,
  })
  expect(batch.status).toBe(503)
  expect(batch.body.error).toMatchObject({
    code: 'STORAGE_UNAVAILABLE',
    runIds: [expect.any(String)],
    committedLocally: true,
  })
  expect(localEnd.status).toBe(200)
  expect(localEnd.body.status).not.toBe('succeeded')
  expect(localEnd.body.output).toBeNull()

  // S3 is back: the retry answers 202 with the same run once Litestream has caught up.
  const retried = await waitFor(
    async () => {
      const reply = await admin.send<any>('POST', runs, { body })
      return reply.status === 202 ? reply : undefined
    },
    { timeoutMs: 60_000, intervalMs: 500, what: 'the retry to be acknowledged once S3 is back' },
  )
  expect(retried.body.runId).toBe(runId)
  expect(retried.headers.get('litecell-durability')).toBe('replicated')
  const batchId = batch.body.error.runIds[0] as string
  const [shown] = await waitForRuns(admin, tenant, [runId], 30_000)
  expect(shown.status).toBe('succeeded')

  // The machine goes: only S3 is left, and it has everything.
  const pid = (await admin.getTenant(tenant)).worker!.pid!
  vanish(pid, join(server!.dataDir, 'tenants', tenant))
  await waitFor(
    async () => (await admin.send('GET', `${runs}?limit=1`).catch(() => undefined))?.status === 200,
    {
      timeoutMs: 120_000,
      intervalMs: 250,
      what: `tenant ${tenant} to wake from S3`,
    },
  )
  const ended = await waitForRuns(admin, tenant, [first.body.runId, before.body.runId, runId, batchId], 60_000)
  expect(ended.map((run) => run.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded'])
  const ledger = await query(admin, tenant, 'SELECT entry FROM ledger ORDER BY entry')
  expect(ledger.map((row) => row.entry)).toEqual(['batched', 'before', 'during', 'first'])
  expect(replicators.mostOnOneReplica, `replicators on one tenant at once: ${replicators.crowded}`).toBe(1)
})
