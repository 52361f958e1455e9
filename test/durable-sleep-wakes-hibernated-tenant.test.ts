import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { removeDataDir, startServer, type TestServer } from './support/server.js'
import { createTenant } from './support/tenant.js'
import { waitFor } from './support/wait-for.js'

let server: TestServer

beforeAll(async () => {
  server = await startServer()
})

afterAll(async () => {
  await server?.stop()
  await removeDataDir(server.dataDir)
})

test('a durable sleep in a hibernated tenant completes with no client request', async () => {
  const { admin } = server
  await createTenant(admin, 'nap')
  const { runId } = await admin.ok('POST', '/v1/tenants/nap/runs', { workflow: 'sleeper', input: { ms: 3000 } })
  await waitFor(async () => (await admin.ok('GET', `/v1/tenants/nap/runs/${runId}`)).status === 'sleeping')

  const hibernated = await admin.ok('POST', '/v1/tenants/nap/hibernate')
  expect(hibernated.state).toBe('hibernated')
  expect(hibernated.nextWakeAt).not.toBeNull()
  expect(existsSync(join(server.dataDir, 'tenants', 'nap'))).toBe(false)

  // Only GET /v1/tenants/:id from here on: it shows the tenant without waking it.
  const woken = await waitFor(
    async () => {
      const tenant = await admin.ok('GET', '/v1/tenants/nap')
      return tenant.state !== 'hibernated' && tenant
    },
    { timeoutMs: 20_000, what: 'the scheduler to wake the tenant' },
  )
  expect(Date.parse(woken.worker.startedAt)).toBeGreaterThanOrEqual(Date.parse(hibernated.nextWakeAt) - 50)

  const run = await admin.ok('GET', `/v1/tenants/nap/runs/${runId}/result?waitMs=10000`)
  expect(run.status).toBe('succeeded')
  expect(run.output.sleptMs).toBeGreaterThanOrEqual(3000)
})
