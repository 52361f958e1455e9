import { join } from 'node:path'
import { beforeAll, expect, test } from 'vitest'
import { waitFor } from '@litecell/testkit'
import { createTenant, useServer, waitForRuns } from '@litecell/testkit/e2e'

/** A crash loop that no run causes (the app's migration fails at every start) fails the tenant. */
const APPS = join(import.meta.dirname, 'apps')

const server = useServer({
  env: {
    LITECELL_WORKER_MAX_OLD_SPACE_MB: '128',
    LITECELL_APPS: `test=${APPS}/test-app.ts,broken=${APPS}/broken-app.ts`,
  },
})

beforeAll(async () => {
  await createTenant(server.admin, 'steady')
})

/** Runs `count` quick workflows on the steady tenant, one after another; all must succeed. */
async function steadyStream(count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const { runId } = await server.admin.post<any>('/v1/tenants/steady/runs', { workflow: 'quick', input: { n: i } })
    const [run] = await waitForRuns(server.admin, 'steady', [runId])
    expect(run).toMatchObject({ status: 'succeeded', output: i + 1 })
  }
}

test('a crash-looping tenant is backed off and marked failed; the other tenant never notices', async () => {
  const { admin } = server
  await createTenant(admin, 'crashy', 'broken')
  const start = admin.send<any>('POST', '/v1/tenants/crashy/runs', { body: { workflow: 'quick' } })
  const steady = steadyStream(40)

  const failed = await waitFor(
    async () => {
      const tenant = await admin.get<any>('/v1/tenants/crashy')
      return tenant.state === 'failed' && tenant
    },
    { timeoutMs: 90_000, what: 'the crash-looping tenant to be marked failed' },
  )
  expect(failed.failureReason).toMatch(/5 crashes/)
  await start
  await steady

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
  await steadyStream(20)
  await hog
  // The run that killed its worker three times is quarantined; the tenant itself goes on.
  const quarantined = await waitFor(
    async () => {
      const { runs } = await admin.get<any>('/v1/tenants/hungry/runs?workflow=hog')
      return runs[0]?.status === 'failed' && runs[0]
    },
    { timeoutMs: 90_000, what: 'the memory-hungry run to be quarantined' },
  )
  const run = await admin.get<any>(`/v1/tenants/hungry/runs/${quarantined.runId}`)
  expect(run.error.code).toBe('RUN_QUARANTINED')
  expect((await admin.get<any>('/v1/tenants/hungry')).state).not.toBe('failed')
  await steadyStream(10)
})
