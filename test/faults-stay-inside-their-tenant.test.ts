/**
 * Faults stay inside their tenant (invariant 5): a crash-looping tenant and a tenant that
 * exhausts its heap cap affect neither the success nor the latency of another tenant's runs.
 * The steady tenant runs one workflow after another *for as long as the fault lasts* (until
 * the crash loop is marked failed, until the hog is quarantined), each bounded in latency.
 *
 * The bound, {@link STEADY_RUN_BOUND_MS}, holds on a loaded machine (a quick run takes
 * ≈ 20 ms idle, well under a second at load 15–20 on 2 cores); what it catches is a stall of
 * the other tenant's work (its worker blocked, killed or waiting behind the faulty tenant:
 * a 10 s stall fails it). The ratios of p99 latencies are measured, not tested: see
 * `fault-isolation-latency.test.ts` and the README.
 *
 * Mutation checks: a steady stream that stops early (the old 40 runs in 1–2 s against a crash
 * loop of ≈ 7.5 s) is caught by asserting the stream overlapped the fault; the memory death is
 * checked to be the heap cap's (V8's out-of-memory report in the tenant's log). The mutation
 * "no heap cap" was not applied: it lets a test eat the shared machine's memory.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, expect, test } from 'vitest'
import { waitFor } from '@litecell/testkit'
import { createTenant, useServer, waitForRuns } from '@litecell/testkit/e2e'

/** A crash loop that no run causes (the app's migration fails at every start) fails the tenant. */
const APPS = join(import.meta.dirname, 'apps')

const server = useServer({
  env: {
    LITECELL_WORKER_MAX_OLD_SPACE_MB: '128',
    // The steady tenant stays awake between the tests: its latency is its runs', not a wake's.
    LITECELL_IDLE_MS: '60000',
    LITECELL_APPS: `test=${APPS}/test-app.ts,broken=${APPS}/broken-app.ts`,
  },
})

beforeAll(async () => {
  await createTenant(server.admin, 'steady')
})

/** Longest one steady run may take, submission to result, while another tenant faults. */
const STEADY_RUN_BOUND_MS = 5_000

/**
 * Runs quick workflows on the steady tenant, one after another, at least `count` and until
 * `until()` (checked between runs); each must succeed within {@link STEADY_RUN_BOUND_MS}.
 * Resolves with how many ran and the slowest.
 */
async function steadyStream(count: number, until: () => boolean = () => true): Promise<{ runs: number; slowestMs: number }> {
  // Awake first (a wake from S3 takes seconds on a loaded machine, and is not what is bounded).
  await server.admin.post<any>('/v1/tenants/steady/wake')
  let slowestMs = 0
  let i = 0
  for (; i < count || !until(); i += 1) {
    const startedAt = Date.now()
    const { runId } = await server.admin.post<any>('/v1/tenants/steady/runs', { workflow: 'quick', input: { n: i } })
    const [run] = await waitForRuns(server.admin, 'steady', [runId])
    const tookMs = Date.now() - startedAt
    expect(run).toMatchObject({ status: 'succeeded', output: i + 1 })
    expect(tookMs, `steady run ${i}`).toBeLessThan(STEADY_RUN_BOUND_MS)
    slowestMs = Math.max(slowestMs, tookMs)
  }
  return { runs: i, slowestMs }
}

test('a crash-looping tenant is backed off and marked failed; the other tenant never notices', async () => {
  const { admin } = server
  await createTenant(admin, 'crashy', 'broken')
  const start = admin.send<any>('POST', '/v1/tenants/crashy/runs', { body: { workflow: 'quick' } })
  let crashyFailed = false
  const steady = steadyStream(40, () => crashyFailed)

  const failed = await waitFor(
    async () => {
      const tenant = await admin.get<any>('/v1/tenants/crashy')
      return tenant.state === 'failed' && tenant
    },
    { timeoutMs: 90_000, what: 'the crash-looping tenant to be marked failed' },
  )
  crashyFailed = true
  expect(failed.failureReason).toMatch(/5 crashes/)
  await start
  const { runs, slowestMs } = await steady
  console.log(JSON.stringify({ crashLoop: { steadyRuns: runs, slowestMs } }))

  const refused = await admin.send<any>('POST', '/v1/tenants/crashy/runs', { body: { workflow: 'quick' } })
  expect(refused.status).toBe(503)
  expect(refused.body.error.code).toBe('TENANT_FAILED')
  expect((await admin.get<any>('/v1/tenants/steady')).state).not.toBe('failed')
})

test('a tenant that exhausts its memory cap dies alone', async () => {
  const { admin } = server
  await createTenant(admin, 'hungry')
  // The hog can kill its worker before the response leaves it, so its own submission may fail.
  const hog = admin.send<any>('POST', '/v1/tenants/hungry/runs', { body: { workflow: 'hog', idempotencyKey: 'hog' } })
  let quarantinedYet = false
  const steady = steadyStream(20, () => quarantinedYet)
  await hog
  // The run that killed its worker three times is quarantined; the tenant itself goes on.
  const quarantined = await waitFor(
    async () => {
      const { runs } = await admin.get<any>('/v1/tenants/hungry/runs?workflow=hog')
      return runs[0]?.status === 'failed' && runs[0]
    },
    { timeoutMs: 90_000, what: 'the memory-hungry run to be quarantined' },
  )
  quarantinedYet = true
  const { runs, slowestMs } = await steady
  console.log(JSON.stringify({ memoryHog: { steadyRuns: runs, slowestMs } }))
  // The deaths were the heap cap's doing: V8 reports running out of its (capped) heap.
  const log = readFileSync(join(server.dataDir, 'logs', 'hungry.log'), 'utf8')
  expect(log).toMatch(/heap out of memory|Reached heap limit/)
  const run = await admin.get<any>(`/v1/tenants/hungry/runs/${quarantined.runId}`)
  expect(run.error.code).toBe('RUN_QUARANTINED')
  expect((await admin.get<any>('/v1/tenants/hungry')).state).not.toBe('failed')
  await steadyStream(10)
})
