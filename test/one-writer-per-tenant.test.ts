import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { describeProcess, isAlive, replicatorsOf, waitFor } from '@litecell/testkit'
import { createTenant, query, useServer, waitForRuns } from '@litecell/testkit/e2e'

const LEASE_TTL_MS = 6000
const server = useServer({
  env: { LITECELL_LEASE_TTL_MS: String(LEASE_TTL_MS), LITECELL_IDLE_MS: '60000' },
})
let maxReplicators = 0
let seenTogether: string[] = []
let sampler: NodeJS.Timeout

beforeAll(() => {
  const tenantDir = join(server.dataDir, 'tenants', 'solo')
  // Watch, all along, how many Litestream processes replicate the tenant's file.
  sampler = setInterval(() => {
    const pids = replicatorsOf(tenantDir)
    if (pids.length > maxReplicators) {
      maxReplicators = pids.length
      seenTogether = pids.map((pid) => `${pid} (${describeProcess(pid)})`)
    }
  }, 20)
})

// Runs before the server's own afterAll (hooks after tests run in reverse order).
afterAll(() => {
  clearInterval(sampler)
  process.kill(server.process.pid!, 'SIGCONT')
})

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
  const frozenAt = Date.now()
  process.kill(server.process.pid!, 'SIGSTOP')
  await waitFor(() => !isAlive(pid), { timeoutMs: LEASE_TTL_MS + 2000, what: 'the worker to fence itself' })
  expect(Date.now() - frozenAt).toBeLessThan(LEASE_TTL_MS)
  expect(replicatorsOf(join(server.dataDir, 'tenants', 'solo'))).toEqual([])
  process.kill(server.process.pid!, 'SIGCONT')

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

test('never two replicators on one tenant path', () => {
  expect(maxReplicators, `replicators seen at once: ${seenTogether.join(', ')}`).toBe(1)
})
