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

// What it catches: a schedule fire time missing from the nextWakeAt a hibernating worker
// reports (the tenant would sleep through it), or a fire that is not handled at open.
test('a schedule fires in a hibernated tenant with no client request', async () => {
  const { admin } = server
  await createTenant(admin, 'cron')
  await admin.ok('POST', '/v1/tenants/cron/schedules', {
    id: 'every10s',
    cron: '*/10 * * * * *',
    workflow: 'write',
    input: { entry: 'tick' },
  })
  const hibernated = await admin.ok('POST', '/v1/tenants/cron/hibernate')
  expect(hibernated.state).toBe('hibernated')
  expect(hibernated.nextWakeAt).not.toBeNull()
  const nextFireAt = Date.parse(hibernated.nextWakeAt)
  expect(nextFireAt % 10_000).toBe(0)

  // Only GET /v1/tenants/:id from here on: it shows the tenant without waking it.
  const woken = await waitFor(
    async () => {
      const tenant = await admin.ok('GET', '/v1/tenants/cron')
      return tenant.state !== 'hibernated' && tenant
    },
    { timeoutMs: 30_000, what: 'the scheduler to wake the tenant for its fire' },
  )
  expect(Date.parse(woken.worker.startedAt)).toBeGreaterThanOrEqual(nextFireAt - 50)
  const schedule = await waitFor(async () => {
    const { schedules } = await admin.ok('GET', '/v1/tenants/cron/schedules')
    return schedules[0]?.lastRunId && schedules[0]
  })
  expect(Date.parse(schedule.lastFireAt)).toBeGreaterThanOrEqual(nextFireAt)
  const run = await admin.ok(
    'GET',
    `/v1/tenants/cron/runs/${schedule.lastRunId}/result?waitMs=10000`,
  )
  expect(run).toMatchObject({ workflow: 'write', status: 'succeeded', output: 'tick' })
})
