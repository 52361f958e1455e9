import { afterAll, beforeAll, expect, test } from 'vitest'
import { removeDataDir, startServer, type TestServer } from './support/server.js'
import { createTenant, waitForRuns } from './support/tenant.js'

const MAX_WORKERS = 2
let server: TestServer

beforeAll(async () => {
  server = await startServer({ env: { LITECELL_MAX_WORKERS: String(MAX_WORKERS), LITECELL_IDLE_MS: '60000' } })
})

afterAll(async () => {
  await server?.stop()
  await removeDataDir(server.dataDir)
})

async function activeWorkers(): Promise<number> {
  const metrics = await server.admin.request('GET', '/metrics')
  return Number(/^litecell_active_workers (\d+)$/m.exec(String(metrics.body))?.[1] ?? Number.NaN)
}

test('a burst at more tenants than worker slots never runs more workers than the cap, and every run succeeds', async () => {
  const { admin } = server
  const tenants = Array.from({ length: 6 }, (_, i) => `cap-${i}`)
  for (const id of tenants) await createTenant(admin, id)
  let most = 0
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      most = Math.max(most, await activeWorkers())
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()

  // All tenants at once: the fleet evicts idle workers to make room, or makes callers wait.
  const submitted = await Promise.all(
    tenants.map(async (id) => {
      for (;;) {
        const response = await admin.post(`/v1/tenants/${id}/runs/batch`, {
          runs: Array.from({ length: 5 }, (_, n) => ({ workflow: 'quick', input: { n } })),
        })
        if (response.status === 202) return { id, runIds: response.body.runIds as string[] }
        expect(response.status).toBe(429)
      }
    }),
  )
  for (const { id, runIds } of submitted) {
    const runs = await waitForRuns(admin, id, runIds)
    expect(runs.every((run) => run.status === 'succeeded')).toBe(true)
  }
  sampling = false
  await sampler
  expect(most).toBeGreaterThan(0)
  expect(most).toBeLessThanOrEqual(MAX_WORKERS)
})
