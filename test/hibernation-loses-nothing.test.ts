import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { removeDataDir, startServer, type TestServer } from './support/server.js'
import { createTenant, query, waitForRuns } from './support/tenant.js'

let server: TestServer

beforeAll(async () => {
  server = await startServer()
})

afterAll(async () => {
  await server?.stop()
  await removeDataDir(server.dataDir)
})

test('hibernate removes the local files only after a verified sync; wake brings back every run, output and app row', async () => {
  const { admin } = server
  await createTenant(admin, 'keep')
  const { runIds } = await admin.ok<{ runIds: string[] }>('POST', '/v1/tenants/keep/runs/batch', {
    runs: Array.from({ length: 50 }, (_, i) => ({ workflow: 'write', input: { entry: `row-${i}` } })),
  })
  const before = await waitForRuns(admin, 'keep', runIds)
  expect(before.every((run) => run.status === 'succeeded')).toBe(true)

  const hibernated = await admin.ok('POST', '/v1/tenants/keep/hibernate')
  expect(hibernated.state).toBe('hibernated')
  expect(existsSync(join(server.dataDir, 'tenants', 'keep'))).toBe(false)

  const woken = await admin.ok('POST', '/v1/tenants/keep/wake')
  expect(woken.state).toBe('active')
  expect(woken.worker.pid).toBeGreaterThan(0)
  for (const [index, runId] of runIds.entries()) {
    const run = await admin.ok('GET', `/v1/tenants/keep/runs/${runId}`)
    expect(run).toMatchObject({ status: 'succeeded', output: `row-${index}` })
  }
  const rows = await query(admin, 'keep', 'SELECT entry FROM ledger ORDER BY rowid')
  expect(rows.map((row) => row.entry)).toEqual(runIds.map((_, i) => `row-${i}`))
})

test('a tenant-scoped request to a hibernated tenant wakes it first', async () => {
  const { admin } = server
  await createTenant(admin, 'lazy')
  await admin.ok('POST', '/v1/tenants/lazy/hibernate')
  const { runId } = await admin.ok('POST', '/v1/tenants/lazy/runs', { workflow: 'quick', input: { n: 41 } })
  const [run] = await waitForRuns(admin, 'lazy', [runId])
  expect(run).toMatchObject({ status: 'succeeded', output: 42 })
  const tenant = await admin.ok('GET', '/v1/tenants/lazy')
  expect(tenant.state).toBe('active')
})

test('an idle worker hibernates by itself and reports no pending wake', async () => {
  const { admin } = server
  await createTenant(admin, 'idle')
  const { runId } = await admin.ok('POST', '/v1/tenants/idle/runs', { workflow: 'quick' })
  await waitForRuns(admin, 'idle', [runId])
  const { waitFor } = await import('./support/wait-for.js')
  const tenant = await waitFor(
    async () => {
      const t = await admin.ok('GET', '/v1/tenants/idle')
      return t.state === 'hibernated' && t
    },
    { timeoutMs: 30_000, what: 'idle hibernation' },
  )
  expect(tenant.nextWakeAt).toBeNull()
  expect(existsSync(join(server.dataDir, 'tenants', 'idle'))).toBe(false)
})
