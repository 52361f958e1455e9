/**
 * Fencing also holds while a worker hibernates (issue 9, item 11; invariant 1). The control
 * plane freezes (SIGSTOP) while a tenant with a large write backlog is hibernating: the worker
 * can no longer renew its lease, so its Litestream must be gone before the lease ends (the
 * control plane may start a successor from then on), and the hibernation, cut short, keeps the
 * tenant's files. The bound is measured from the last lease renewal that succeeded (the
 * `validUntilMs` the worker logs as it fences), not from the freeze.
 *
 * Catches: a fence that returns early because a hibernation is already under way (its verified
 * stop may take up to the sync budget, 100 s, against a 10 s lease), leaving Litestream
 * uploading past the lease, beside a successor.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { waitFor } from '@litecell/testkit'
import { ReplicatorWatch, createTenant, query, useServer, waitForRuns } from '@litecell/testkit/e2e'

const LEASE_TTL_MS = 6_000
const server = useServer({
  env: {
    LITECELL_LEASE_TTL_MS: String(LEASE_TTL_MS),
    LITECELL_IDLE_MS: '60000',
    // The hibernation waits this long for the run stuck in its step: it is under way when
    // the control plane freezes, and would stay so well past the lease.
    LITECELL_STOP_TIMEOUT_MS: '60000',
  },
})
let frozen = false

// Runs before the server's own afterAll: never leave the control plane stopped.
afterAll(() => {
  if (frozen) process.kill(server.process.pid!, 'SIGCONT')
})

/** The `validUntilMs` the worker logged when it fenced itself. */
function fenceDeadline(tenantId: string): number | undefined {
  const lines = readFileSync(join(server.dataDir, 'logs', `${tenantId}.log`), 'utf8').split('\n')
  const fence = lines
    .map((line) => (line ? JSON.parse(line) : {}))
    .find((entry) => entry.msg === 'lease lost: fencing')
  return fence?.validUntilMs as number | undefined
}

test('a worker that loses its lease while hibernating has its Litestream gone before the lease ends, and keeps its files', async () => {
  const { admin } = server
  const tenantDir = join(server.dataDir, 'tenants', 'backlog')
  await createTenant(admin, 'backlog')
  const payload = 'x'.repeat(4_000)
  const { runIds } = await admin.post<{ runIds: string[] }>('/v1/tenants/backlog/runs/batch', {
    runs: Array.from({ length: 200 }, (_, i) => ({
      workflow: 'write',
      input: { entry: `${i}-${payload}` },
    })),
  })
  await waitForRuns(admin, 'backlog', runIds)
  const { runId: stuck } = await admin.post<any>('/v1/tenants/backlog/runs', { workflow: 'hang' })
  await waitFor(
    async () => (await admin.get<any>(`/v1/tenants/backlog/runs/${stuck}`)).status === 'running',
  )

  const watch = new ReplicatorWatch(tenantDir)
  const hibernate = admin.send<any>('POST', '/v1/tenants/backlog/hibernate', { body: {} })
  // Awaited below; a failure before that must not surface as an unhandled rejection.
  hibernate.catch(() => undefined)
  await waitFor(async () => (await admin.get<any>('/v1/tenants/backlog')).state === 'stopping')
  expect(watch.sample()).toHaveLength(1)

  process.kill(server.process.pid!, 'SIGSTOP')
  frozen = true
  try {
    await waitFor(() => watch.sample().length === 0 && watch.lastSeenMs !== null, {
      timeoutMs: 2 * LEASE_TTL_MS,
      intervalMs: 20,
      what: "the worker's Litestream to be gone",
    })
    // The hibernation was cut short: the files are all still there.
    expect(existsSync(join(tenantDir, 'tenant.db'))).toBe(true)
  } finally {
    process.kill(server.process.pid!, 'SIGCONT')
    frozen = false
    watch.stop()
  }

  // The worker's log reaches its file through the control plane, which runs again now.
  const validUntilMs = await waitFor(() => fenceDeadline('backlog'), {
    what: 'the fence line in the log',
  })
  expect(watch.lastSeenMs!).toBeLessThan(validUntilMs)
  expect(watch.most, `replicators seen at once: ${watch.together}`).toBe(1)
  expect((await hibernate).status).not.toBe(200)

  // Back in charge, the control plane recovers the tenant from the files it kept: nothing lost.
  const rows = await waitFor(
    async () => (await query(admin, 'backlog', 'SELECT count(*) AS n FROM ledger'))[0],
    { timeoutMs: 60_000, what: 'the tenant to answer again' },
  )
  expect(rows.n).toBe(200)
  // Its stuck run would hold the server's shutdown for the stop timeout.
  await admin.delete<any>('/v1/tenants/backlog')
})
