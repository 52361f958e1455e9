import { join } from 'node:path'
import {
  createTenant,
  expectApiError,
  query,
  startTestServer,
  type TestServer,
} from '@litecell/testkit/e2e'
import { REPO_ROOT } from '@litecell/testkit/server'
import { afterEach, expect, test } from 'vitest'

const APPS = join(REPO_ROOT, 'test/apps')
let servers: TestServer[] = []

afterEach(async () => {
  for (const server of servers) await server.stop()
  await servers[0]?.removeDataDir()
  servers = []
})

async function start(app: string, dataDir?: string): Promise<TestServer> {
  const env = { LITECELL_APPS: `test=${join(APPS, app)}` }
  const server = await startTestServer(dataDir === undefined ? { env } : { env, dataDir })
  servers.push(server)
  return server
}

function crashes(metrics: string): number {
  return Number(/^litecell_worker_crashes_total (\d+)/m.exec(metrics)?.[1] ?? 0)
}

// What it catches (issue 15): a tenant whose app's applied migration was edited waking and
// running anyway (its runs would fail on a table that is not what the app expects), a
// refusal that crash-loops the tenant (counted as crashes, retried with backoff), or an error
// that does not say which migration and what to do.
test('a tenant refuses to wake when an applied migration of its app changed, and says which', async () => {
  const first = await start('test-app.ts')
  await createTenant(first.admin, 'shop')
  const { runId } = await first.admin.startRun('shop', { workflow: 'write', input: { entry: 'a' } })
  expect((await first.admin.runResult('shop', runId, { waitMs: 10_000 })).status).toBe('succeeded')
  await first.admin.hibernateTenant('shop')
  await first.stop()

  const changed = await start('changed-migration.ts', first.dataDir)
  const refused = await changed.admin.send<any>('POST', '/v1/tenants/shop/runs', {
    body: { workflow: 'write', input: { entry: 'b' } },
  })
  expectApiError(refused, 409, 'MIGRATION_MISMATCH', 'litecell tenants upgrade shop --app <name>')
  expect(refused.body.error.message).toMatch(
    /^wake tenant shop: check app migrations: migration #0 \(sha256:[0-9a-f]{12}\) of the app differs/,
  )
  const tenant = await changed.admin.getTenant('shop')
  expect(tenant.state).toBe('failed')
  expect(tenant.failureReason).toBe(refused.body.error.message)
  // Later requests get the reason at once, without starting workers; nothing counted as a crash.
  const again = await changed.admin.send('GET', `/v1/tenants/shop/runs/${runId}`)
  expectApiError(again, 503, 'TENANT_FAILED', 'check app migrations: migration #0')
  expect(crashes(await changed.admin.metrics())).toBe(0)
  await changed.stop()

  // With its app as it was, an admin wake brings the tenant back with its data.
  const restored = await start('test-app.ts', first.dataDir)
  expect((await restored.admin.wakeTenant('shop')).state).toBe('active')
  expect(await query(restored.admin, 'shop', 'SELECT entry FROM ledger')).toEqual([{ entry: 'a' }])
})
