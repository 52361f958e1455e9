import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { removeDataDir, startServer, type TestServer } from './support/server.js'
import { createTenant, waitForRuns } from './support/tenant.js'
import { waitFor } from './support/wait-for.js'

/** A crash loop that no run causes (the app's migration fails at every start) fails the tenant. */
const APPS = join(import.meta.dirname, 'apps')

let server: TestServer

beforeAll(async () => {
  server = await startServer({
    env: {
      LITECELL_WORKER_MAX_OLD_SPACE_MB: '128',
      LITECELL_APPS: `test=${APPS}/test-app.ts,broken=${APPS}/broken-app.ts`,
    },
  })
  await createTenant(server.admin, 'steady')
})

afterAll(async () => {
  await server?.stop()
  await removeDataDir(server.dataDir)
})

/** Runs `count` quick workflows on the steady tenant, one after another; all must succeed. */
async function steadyStream(count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const { runId } = await server.admin.ok('POST', '/v1/tenants/steady/runs', { workflow: 'quick', input: { n: i } })
    const [run] = await waitForRuns(server.admin, 'steady', [runId])
    expect(run).toMatchObject({ status: 'succeeded', output: i + 1 })
  }
}

test('a crash-looping tenant is backed off and marked failed; the other tenant never notices', async () => {
  const { admin } = server
  await createTenant(admin, 'crashy', 'broken')
  const start = admin.post('/v1/tenants/crashy/runs', { workflow: 'quick' })
  const steady = steadyStream(40)

  const failed = await waitFor(
    async () => {
      const tenant = await admin.ok('GET', '/v1/tenants/crashy')
      return tenant.state === 'failed' && tenant
    },
    { timeoutMs: 90_000, what: 'the crash-looping tenant to be marked failed' },
  )
  expect(failed.failureReason).toMatch(/5 crashes/)
  await start
  await steady

  const refused = await admin.post('/v1/tenants/crashy/runs', { workflow: 'quick' })
  expect(refused.status).toBe(503)
  expect(refused.body.error.code).toBe('TENANT_FAILED')
  expect((await admin.ok('GET', '/v1/tenants/steady')).state).not.toBe('failed')
})

test('a tenant that exhausts its memory cap dies alone', async () => {
  const { admin } = server
  await createTenant(admin, 'hungry')
  // The hog can kill its worker before the response leaves it, so its own submission may fail.
  const hog = admin.post('/v1/tenants/hungry/runs', { workflow: 'hog', idempotencyKey: 'hog' })
  await steadyStream(20)
  await hog
  // The run that killed its worker three times is quarantined; the tenant itself goes on.
  const quarantined = await waitFor(
    async () => {
      const { runs } = await admin.ok('GET', '/v1/tenants/hungry/runs?workflow=hog')
      return runs[0]?.status === 'failed' && runs[0]
    },
    { timeoutMs: 90_000, what: 'the memory-hungry run to be quarantined' },
  )
  const run = await admin.ok('GET', `/v1/tenants/hungry/runs/${quarantined.runId}`)
  expect(run.error.code).toBe('RUN_QUARANTINED')
  expect((await admin.ok('GET', '/v1/tenants/hungry')).state).not.toBe('failed')
  await steadyStream(10)
})
