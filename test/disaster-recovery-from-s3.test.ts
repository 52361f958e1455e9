import { readdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { newDataDir, removeDataDir, startServer, type TestServer } from './support/server.js'
import { createTenant, query, waitForRuns } from './support/tenant.js'

const dataDir = newDataDir()
let server: TestServer | undefined

afterAll(async () => {
  await server?.stop()
  await removeDataDir(dataDir)
})

test('with everything but s3/ deleted, the registry and every tenant come back from S3 with their data', async () => {
  server = await startServer({ dataDir })
  const { admin } = server
  const alpha = await createTenant(admin, 'alpha')
  await createTenant(admin, 'beta')
  const { runIds } = await admin.ok<{ runIds: string[] }>('POST', '/v1/tenants/alpha/runs/batch', {
    runs: Array.from({ length: 30 }, (_, i) => ({ workflow: 'write', input: { entry: `a-${i}` } })),
  })
  await waitForRuns(admin, 'alpha', runIds)
  const { runId: betaRun } = await admin.ok('POST', '/v1/tenants/beta/runs', { workflow: 'quick', input: { n: 1 } })
  await waitForRuns(admin, 'beta', [betaRun])

  expect(await server.stop()).toBe(0)
  for (const entry of readdirSync(dataDir)) {
    if (entry !== 's3') await rm(join(dataDir, entry), { recursive: true, force: true })
  }
  expect(readdirSync(dataDir)).toEqual(['s3'])

  server = await startServer({ dataDir })
  const tenants = await server.admin.ok('GET', '/v1/tenants')
  expect(tenants.tenants.map((t: { id: string }) => t.id).sort()).toEqual(['alpha', 'beta'])
  expect(tenants.tenants.every((t: { state: string }) => t.state === 'hibernated')).toBe(true)

  // The tenant token still works: its hash came back with the registry.
  const asAlpha = server.admin.as(alpha.token)
  const rows = await query(asAlpha, 'alpha', 'SELECT count(*) AS n FROM ledger')
  expect(rows[0].n).toBe(30)
  const run = await asAlpha.ok('GET', `/v1/tenants/alpha/runs/${runIds[29]}`)
  expect(run).toMatchObject({ status: 'succeeded', output: 'a-29' })
  const beta = await server.admin.ok('GET', `/v1/tenants/beta/runs/${betaRun}`)
  expect(beta).toMatchObject({ status: 'succeeded', output: 2 })
})
