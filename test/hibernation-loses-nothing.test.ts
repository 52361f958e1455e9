import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { waitFor } from '@litecell/testkit'
import { createTenant, query, useServer, waitForRuns } from '@litecell/testkit/e2e'

const server = useServer()

test('hibernate removes the local files only after a verified sync; wake brings back every run, output and app row', async () => {
  const { admin } = server
  await createTenant(admin, 'keep')
  const { runIds } = await admin.post<{ runIds: string[] }>('/v1/tenants/keep/runs/batch', {
    runs: Array.from({ length: 50 }, (_, i) => ({ workflow: 'write', input: { entry: `row-${i}` } })),
  })
  const before = await waitForRuns(admin, 'keep', runIds)
  expect(before.every((run) => run.status === 'succeeded')).toBe(true)

  const hibernated = await admin.post<any>('/v1/tenants/keep/hibernate')
  expect(hibernated.state).toBe('hibernated')
  // The live files are gone; what stays is the verified copy a wake here may use (issue 12).
  expect(readdirSync(join(server.dataDir, 'tenants', 'keep'))).toEqual(['hibernated'])
  // Without it, the wake below must bring everything back from S3 alone.
  rmSync(join(server.dataDir, 'tenants', 'keep'), { recursive: true })

  const woken = await admin.post<any>('/v1/tenants/keep/wake')
  expect(woken.state).toBe('active')
  expect(woken.worker.pid).toBeGreaterThan(0)
  for (const [index, runId] of runIds.entries()) {
    const run = await admin.get<any>(`/v1/tenants/keep/runs/${runId}`)
    expect(run).toMatchObject({ status: 'succeeded', output: `row-${index}` })
  }
  const rows = await query(admin, 'keep', 'SELECT entry FROM ledger ORDER BY rowid')
  expect(rows.map((row) => row.entry)).toEqual(runIds.map((_, i) => `row-${i}`))
})

test('a tenant-scoped request to a hibernated tenant wakes it first', async () => {
  const { admin } = server
  await createTenant(admin, 'lazy')
  await admin.post<any>('/v1/tenants/lazy/hibernate')
  const { runId } = await admin.post<any>('/v1/tenants/lazy/runs', { workflow: 'quick', input: { n: 41 } })
  const [run] = await waitForRuns(admin, 'lazy', [runId])
  expect(run).toMatchObject({ status: 'succeeded', output: 42 })
  const tenant = await admin.get<any>('/v1/tenants/lazy')
  expect(tenant.state).toBe('active')
})

test('an idle worker hibernates by itself and reports no pending wake', async () => {
  const { admin } = server
  await createTenant(admin, 'idle')
  const { runId } = await admin.post<any>('/v1/tenants/idle/runs', { workflow: 'quick' })
  await waitForRuns(admin, 'idle', [runId])
  const tenant = await waitFor(
    async () => {
      const t = await admin.get<any>('/v1/tenants/idle')
      return t.state === 'hibernated' && t
    },
    { timeoutMs: 30_000, what: 'idle hibernation' },
  )
  expect(tenant.nextWakeAt).toBeNull()
  expect(readdirSync(join(server.dataDir, 'tenants', 'idle'))).toEqual(['hibernated'])
})
