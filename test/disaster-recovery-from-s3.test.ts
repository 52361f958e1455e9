import { readdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { tempDir } from '@litecell/testkit'
import {
  createTenant,
  query,
  startTestServer,
  waitForRuns,
  type TestServer,
} from '@litecell/testkit/e2e'

const dataDir = tempDir('e2e')
let server: TestServer | undefined

afterAll(async () => {
  await server?.stop()
  await rm(dataDir, { recursive: true, force: true })
})

test('with everything but s3/ deleted, the registry and every tenant come back from S3 with their data', async () => {
  server = await startTestServer({ dataDir })
  const { admin } = server
  const alpha = await createTenant(admin, 'alpha')
  await createTenant(admin, 'beta')
  const { runIds } = await admin.post<{ runIds: string[] }>('/v1/tenants/alpha/runs/batch', {
    runs: Array.from({ length: 30 }, (_, i) => ({ workflow: 'write', input: { entry: `a-${i}` } })),
  })
  await waitForRuns(admin, 'alpha', runIds)
  const { runId: betaRun } = await admin.post<any>('/v1/tenants/beta/runs', { workflow: 'quick', input: { n: 1 } })
  await waitForRuns(admin, 'beta', [betaRun])

  expect((await server.stop()).code).toBe(0)
  for (const entry of readdirSync(dataDir)) {
    if (entry !== 's3') await rm(join(dataDir, entry), { recursive: true, force: true })
  }
  expect(readdirSync(dataDir)).toEqual(['s3'])

  server = await startTestServer({ dataDir })
  const tenants = await server.admin.get<any>('/v1/tenants')
  expect(tenants.tenants.map((t: { id: string }) => t.id).sort()).toEqual(['alpha', 'beta'])
  expect(tenants.tenants.every((t: { state: string }) => t.state === 'hibernated')).toBe(true)

  // The tenant token still works: its hash came back with the registry.
  const asAlpha = server.admin.withToken(alpha.token)
  const rows = await query(asAlpha, 'alpha', 'SELECT count(*) AS n FROM ledger')
  expect(rows[0].n).toBe(30)
  const run = await asAlpha.get<any>(`/v1/tenants/alpha/runs/${runIds[29]}`)
  expect(run).toMatchObject({ status: 'succeeded', output: 'a-29' })
  const beta = await server.admin.get<any>(`/v1/tenants/beta/runs/${betaRun}`)
  expect(beta).toMatchObject({ status: 'succeeded', output: 2 })
})
