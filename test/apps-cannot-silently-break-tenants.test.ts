import { join, resolve } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { removeDataDir, startServer, type TestServer } from './support/server.js'
import { createTenant } from './support/tenant.js'

const APPS = resolve(import.meta.dirname, 'apps')
let servers: TestServer[] = []

afterEach(async () => {
  for (const server of servers) await server.stop()
  for (const dataDir of new Set(servers.map((server) => server.dataDir))) await removeDataDir(dataDir)
  servers = []
})

async function start(app: string, dataDir?: string): Promise<TestServer> {
  const server = await startServer({ env: { LITECELL_APPS: `test=${join(APPS, app)}` }, ...(dataDir ? { dataDir } : {}) })
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
  const { runId } = await first.admin.ok('POST', '/v1/tenants/shop/runs', { workflow: 'write', input: { entry: 'a' } })
  expect((await first.admin.ok('GET', `/v1/tenants/shop/runs/${runId}/result?waitMs=10000`)).status).toBe('succeeded')
  await first.admin.ok('POST', '/v1/tenants/shop/hibernate')
  await first.stop()

  const changed = await start('changed-migration.ts', first.dataDir)
  const refused = await changed.admin.request('POST', '/v1/tenants/shop/runs', { workflow: 'write', input: { entry: 'b' } })
  expect(refused.status).toBe(409)
  expect(refused.body.error.code).toBe('MIGRATION_MISMATCH')
  expect(refused.body.error.message).toMatch(/^wake tenant shop: check app migrations: migration #0 \(sha256:[0-9a-f]{12}\) of the app differs/)
  expect(refused.body.error.message).toContain('litecell tenants upgrade shop --app <name>')
  const tenant = await changed.admin.ok('GET', '/v1/tenants/shop')
  expect(tenant.state).toBe('failed')
  expect(tenant.failureReason).toBe(refused.body.error.message)
  // Later requests get the reason at once, without starting workers; nothing was counted as a crash.
  const again = await changed.admin.request('GET', `/v1/tenants/shop/runs/${runId}`)
  expect(again.status).toBe(503)
  expect(again.body.error.message).toContain('check app migrations: migration #0')
  expect(crashes((await changed.admin.request('GET', '/metrics')).body)).toBe(0)
  await changed.stop()

  // With its app as it was, an admin wake brings the tenant back with its data.
  const restored = await start('test-app.ts', first.dataDir)
  expect((await restored.admin.ok('POST', '/v1/tenants/shop/wake')).state).toBe('active')
  const { rows } = await restored.admin.ok('POST', '/v1/tenants/shop/query', { sql: 'SELECT entry FROM ledger' })
  expect(rows).toEqual([{ entry: 'a' }])
})
