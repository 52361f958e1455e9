/**
 * Hibernation loses nothing (invariant 2): local files are deleted only after the replica is
 * proven to hold the last commit. The S3 server is the test's own ({@link OutageS3}), so it
 * can make the replica miss the last commit: the hibernation must then fail and keep the files,
 * and the tenant still has that commit afterwards.
 *
 * Mutation check: with the verified stop replaced by a plain one (`stopVerified` → `stop` in
 * the worker's Shutdown: no proof before the files go), "a hibernation whose replica misses
 * the last commit…" fails: the hibernation reports success, the folder is gone, the row lost.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { waitFor } from '@litecell/testkit'
import { OutageS3, createTenant, query, useServer, waitForRuns } from '@litecell/testkit/e2e'

let s3: OutageS3
beforeAll(async () => {
  s3 = await OutageS3.start()
})
const server = useServer(() => ({
  // A short sync budget: a hibernation that cannot reach S3 gives up (keeping its files) soon.
  env: { ...s3.env('hibernation'), LITECELL_SYNC_TIMEOUT_MS: '5000', LITECELL_IDLE_MS: '3000' },
}))
afterAll(async () => {
  await s3.restart()
  await s3.dispose()
})

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
  // The live files are gone; what stays is the verified copy a wake here may use (issue 12),
  // in a folder marked with the tenant's incarnation.
  expect(readdirSync(join(server.dataDir, 'tenants', 'keep')).sort()).toEqual(['hibernated', 'incarnation'])
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
  expect(readdirSync(join(server.dataDir, 'tenants', 'idle')).sort()).toEqual(['hibernated', 'incarnation'])
})

test('a hibernation whose replica misses the last commit fails and keeps the files; the commit survives', async () => {
  const { admin } = server
  await createTenant(admin, 'unsynced')
  const { runIds } = await admin.post<{ runIds: string[] }>('/v1/tenants/unsynced/runs/batch', {
    runs: Array.from({ length: 20 }, (_, i) => ({ workflow: 'write', input: { entry: `row-${i}` } })),
  })
  await waitForRuns(admin, 'unsynced', runIds)
  // Busy so it does not hibernate by itself meanwhile: a run sleeping well past the test.
  await admin.post<any>('/v1/tenants/unsynced/runs', { workflow: 'sleeper', input: { ms: 600_000 } })

  // The replica stops taking anything: the last commit is only in the local files.
  await s3.stop()
  try {
    const { runId } = await admin.post<any>('/v1/tenants/unsynced/runs', {
      workflow: 'write',
      input: { entry: 'last' },
    })
    await waitForRuns(admin, 'unsynced', [runId])
    const hibernate = await admin.send<any>('POST', '/v1/tenants/unsynced/hibernate', { body: {} })
    expect(hibernate.status, JSON.stringify(hibernate.body)).toBeGreaterThanOrEqual(500)
    // The files stay (the registry shows the tenant hibernated and due: its next worker
    // starts from them, never from the replica that lacks the last commit).
    expect(existsSync(join(server.dataDir, 'tenants', 'unsynced', 'tenant.db'))).toBe(true)
  } finally {
    await s3.restart()
  }

  // With S3 back the tenant hibernates for real, and wakes with every row, the last included.
  await waitFor(async () => {
    const reply = await admin.send<any>('POST', '/v1/tenants/unsynced/hibernate', { body: {} })
    if (reply.status !== 200) throw new Error(`hibernate answered ${reply.status}: ${JSON.stringify(reply.body)}`)
    return true
  }, {
    // Generous: each try may restart the worker from its files (a storage backoff of up to
    // 15 s first) and sync, on a machine shared by other test runs.
    timeoutMs: 180_000,
    intervalMs: 1_000,
    what: 'a verified hibernation once S3 is back',
  })
  // The live files are gone (a verified copy may stay for the next wake here).
  expect(existsSync(join(server.dataDir, 'tenants', 'unsynced', 'tenant.db'))).toBe(false)
  const rows = await query(admin, 'unsynced', 'SELECT entry FROM ledger ORDER BY rowid')
  expect(rows.map((row) => row.entry)).toEqual([...runIds.map((_, i) => `row-${i}`), 'last'])
})
