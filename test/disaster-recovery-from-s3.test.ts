/**
 * Disaster recovery from S3 alone: everything but the storage is lost. Two cases.
 *
 * - Clean: the server stopped (every tenant hibernated, verified): everything comes back.
 * - Unclean: SIGKILL of every process (control plane, workers, Litestream), then everything but
 *   S3 wiped. What is promised then, exactly: each tenant comes back as of some point at or
 *   after the last point its replica was *verified* to hold (a fork "now" proves one; so do a
 *   hibernation and a `replicated` acknowledgement), with a prefix of its commits (never a
 *   hole, never a torn row); commits after that point may be lost (up to a sync interval's
 *   worth, 200 ms here, plus whatever S3 had not yet taken). The registry likewise comes back
 *   as of its last sync: a tenant created a few sync intervals before the kill is there.
 */
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

test('after SIGKILL of everything and a wipe of all but s3/, each tenant comes back with every commit up to its last verified point, as a prefix', async () => {
  // A server of its own, on a data directory of its own (the clean case's server stops first).
  await server?.stop()
  const uncleanDir = tempDir('e2e')
  server = await startTestServer({ dataDir: uncleanDir })
  const { admin } = server
  await createTenant(admin, 'gamma')
  const { runIds } = await admin.post<{ runIds: string[] }>('/v1/tenants/gamma/runs/batch', {
    runs: Array.from({ length: 30 }, (_, i) => ({ workflow: 'write', input: { entry: `g-${String(i).padStart(3, '0')}` } })),
  })
  await waitForRuns(admin, 'gamma', runIds)
  // A verified point: a fork "now" makes the source's replica hold everything committed so far.
  await admin.post<any>('/v1/tenants/gamma/fork', { id: 'gamma-copy' })
  // More commits after it: these may or may not survive the kill.
  const { runIds: later } = await admin.post<{ runIds: string[] }>('/v1/tenants/gamma/runs/batch', {
    runs: Array.from({ length: 20 }, (_, i) => ({ workflow: 'write', input: { entry: `g-${String(30 + i).padStart(3, '0')}` } })),
  })
  await waitForRuns(admin, 'gamma', later)
  // The registry's last change (the fork) is several sync intervals old at the kill.
  await new Promise((resolve) => setTimeout(resolve, 2_000))

  await server.stop({ signal: 'SIGKILL' })
  expect(await server.family.killAllAndWait()).toEqual([])
  for (const entry of readdirSync(uncleanDir)) {
    if (entry !== 's3') await rm(join(uncleanDir, entry), { recursive: true, force: true })
  }

  server = await startTestServer({ dataDir: uncleanDir })
  const ids = (await server.admin.get<any>('/v1/tenants')).tenants.map((t: { id: string }) => t.id)
  expect(ids).toEqual(expect.arrayContaining(['gamma', 'gamma-copy']))
  const rows = await query(server.admin, 'gamma', 'SELECT entry FROM ledger ORDER BY rowid')
  const entries = rows.map((row) => row.entry as string)
  // Every commit up to the verified point, and then a prefix of the later ones: no hole.
  expect(entries.length).toBeGreaterThanOrEqual(30)
  expect(entries).toEqual(entries.map((_, i) => `g-${String(i).padStart(3, '0')}`))
  const [check] = await query(server.admin, 'gamma', 'PRAGMA integrity_check')
  expect(check).toEqual({ integrity_check: 'ok' })
  console.log(JSON.stringify({ uncleanRecovery: { verified: 30, committed: 50, recovered: entries.length } }))
}, 400_000) // two servers started and one stopped, on a machine shared with other test runs
