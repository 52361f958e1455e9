import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { waitFor } from '@litecell/testkit'
import { createTenant, useServer } from '@litecell/testkit/e2e'

const server = useServer()

test('a durable sleep in a hibernated tenant completes with no client request', async () => {
  const { admin } = server
  await createTenant(admin, 'nap')
  const { runId } = await admin.post<any>('/v1/tenants/nap/runs', { workflow: 'sleeper', input: { ms: 3000 } })
  await waitFor(async () => (await admin.get<any>(`/v1/tenants/nap/runs/${runId}`)).status === 'sleeping')

  const hibernated = await admin.post<any>('/v1/tenants/nap/hibernate')
  expect(hibernated.state).toBe('hibernated')
  expect(hibernated.nextWakeAt).not.toBeNull()
  // Only the verified copy a wake here may use stays (issue 12).
  expect(readdirSync(join(server.dataDir, 'tenants', 'nap')).sort()).toEqual(['hibernated', 'incarnation'])

  // Only GET /v1/tenants/:id from here on: it shows the tenant without waking it.
  const woken = await waitFor(
    async () => {
      const tenant = await admin.get<any>('/v1/tenants/nap')
      return tenant.state !== 'hibernated' && tenant
    },
    { timeoutMs: 20_000, what: 'the scheduler to wake the tenant' },
  )
  expect(Date.parse(woken.worker.startedAt)).toBeGreaterThanOrEqual(Date.parse(hibernated.nextWakeAt) - 50)

  const run = await admin.get<any>(`/v1/tenants/nap/runs/${runId}/result?waitMs=10000`)
  expect(run.status).toBe('succeeded')
  expect(run.output.sleptMs).toBeGreaterThanOrEqual(3000)
})
