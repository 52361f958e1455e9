/**
 * One writer per tenant (invariant 1): never two Litestream processes on one tenant's file,
 * sampled every 20 ms through every test of the file (each kills or freezes a worker).
 *
 * Mutation check, applied once (issue 9, item 16): the local launcher reporting a worker's
 * exit without waiting for its process group (where its Litestream lives). Result: NOT caught
 * (all four tests passed at load ≈ 25): when the worker alone is SIGKILLed its Litestream was
 * gone before the replacement's started. The staged case stays as a check of the behaviour;
 * catching that mutation needs a Litestream that outlives its worker for longer (e.g. held in
 * a final sync against a slow S3), not done yet.
 * The fence bound is measured from the last lease renewal that succeeded (the `validUntilMs`
 * the worker logs as it fences), not from the moment of the freeze.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { isAlive, replicatorsOf, waitFor } from '@litecell/testkit'
import {
  ReplicatorWatch,
  createTenant,
  query,
  useServer,
  waitForRuns,
} from '@litecell/testkit/e2e'

const LEASE_TTL_MS = 6000
const server = useServer({
  env: { LITECELL_LEASE_TTL_MS: String(LEASE_TTL_MS), LITECELL_IDLE_MS: '60000' },
})
let watch: ReplicatorWatch

beforeAll(() => {
  // Watch, all along, how many Litestream processes replicate the tenant's file.
  watch = new ReplicatorWatch(join(server.dataDir, 'tenants', 'solo'))
})

// Runs before the server's own afterAll (hooks after tests run in reverse order).
afterAll(() => {
  watch.stop()
  process.kill(server.process.pid!, 'SIGCONT')
})

/** The `validUntilMs` of the last fence the tenant's worker logged (its last renewal's end). */
function lastFenceDeadline(tenantId: string): number | undefined {
  const lines = readFileSync(join(server.dataDir, 'logs', `${tenantId}.log`), 'utf8').split('\n')
  const fences = lines
    .map((line) => (line ? JSON.parse(line) : {}))
    .filter((entry) => entry.msg === 'lease lost: fencing')
  return fences.at(-1)?.validUntilMs as number | undefined
}

async function workerPid(): Promise<number> {
  return waitFor(async () => (await server.admin.get<any>('/v1/tenants/solo')).worker?.pid as number | undefined)
}

test('a worker that cannot renew its lease stops writing and exits before the lease runs out', async () => {
  const { admin } = server
  await createTenant(admin, 'solo')
  const { runIds } = await admin.post<{ runIds: string[] }>('/v1/tenants/solo/runs/batch', {
    runs: Array.from({ length: 20 }, (_, i) => ({ workflow: 'write', input: { entry: `before-${i}` } })),
  })
  await waitForRuns(admin, 'solo', runIds)
  const pid = await workerPid()

  // Freeze the control plane: no heartbeat is answered, so no lease is renewed.
  process.kill(server.process.pid!, 'SIGSTOP')
  await waitFor(() => !isAlive(pid) && watch.sample().length === 0, {
    timeoutMs: LEASE_TTL_MS + 2000,
    intervalMs: 20,
    what: 'the worker to fence itself',
  })
  const goneAt = Date.now()
  expect(replicatorsOf(join(server.dataDir, 'tenants', 'solo'))).toEqual([])
  process.kill(server.process.pid!, 'SIGCONT')
  // Bound from the last renewal that succeeded: worker and Litestream gone before its lease
  // ends (the log reaches its file through the control plane, running again now).
  const validUntilMs = await waitFor(() => lastFenceDeadline('solo'), { what: 'the fence line' })
  expect(watch.lastSeenMs!).toBeLessThan(validUntilMs)
  expect(goneAt).toBeLessThanOrEqual(validUntilMs + 20 /* one sample */)

  // Back in charge, the control plane recovers the tenant with a new lease; nothing was lost.
  const { runId } = await admin.post<any>('/v1/tenants/solo/runs', { workflow: 'write', input: { entry: 'after' } })
  await waitForRuns(admin, 'solo', [runId])
  const rows = await query(admin, 'solo', 'SELECT count(*) AS n FROM ledger')
  expect(rows[0].n).toBe(21)
  const tenant = await admin.get<any>('/v1/tenants/solo')
  expect(tenant.worker.pid).not.toBe(pid)
})

test('a hung worker is replaced only after its lease expired and it is gone', async () => {
  const { admin } = server
  const before = await admin.get<any>('/v1/tenants/solo')
  const pid = before.worker.pid as number
  process.kill(pid, 'SIGSTOP')
  const frozenAt = Date.now()

  // A request during the hang waits, then lands on the replacement.
  const { runId } = await admin.post<any>('/v1/tenants/solo/runs', { workflow: 'write', input: { entry: 'during' } })
  expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(LEASE_TTL_MS - 2500)
  expect(isAlive(pid)).toBe(false)
  const after = await admin.get<any>('/v1/tenants/solo')
  expect(after.worker.epoch).toBeGreaterThan(before.worker.epoch)
  await waitForRuns(admin, 'solo', [runId])
  expect((await query(admin, 'solo', 'SELECT count(*) AS n FROM ledger'))[0].n).toBe(22)
})

test('a worker killed alone, its Litestream left running, is replaced only once that Litestream is gone', async () => {
  // The worker process only (not its group): its Litestream outlives it for a moment. A
  // request at once must wait for it; a replacement's Litestream beside it is two writers.
  const { admin } = server
  const before = await admin.get<any>('/v1/tenants/solo')
  const pid = before.worker.pid as number
  expect(watch.sample()).toHaveLength(1)
  process.kill(pid, 'SIGKILL')
  const { runId } = await admin.post<any>('/v1/tenants/solo/runs', { workflow: 'write', input: { entry: 'alone' } })
  await waitForRuns(admin, 'solo', [runId])
  const after = await admin.get<any>('/v1/tenants/solo')
  expect(after.worker.pid).not.toBe(pid)
  expect((await query(admin, 'solo', 'SELECT count(*) AS n FROM ledger'))[0].n).toBe(23)
})

test('never two replicators on one tenant path', () => {
  expect(watch.most, `replicators seen at once: ${watch.together}`).toBe(1)
})
