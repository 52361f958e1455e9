/**
 * A deleted tenant stays deleted (issue 9, item 6; ARCHITECTURE invariant 8). A delete marks
 * the tenant `deleting` before it tears anything down, so no request or timer reaches or wakes
 * it; a crash mid-delete is finished at the next start; and a tenant created again under the
 * id is a new incarnation that starts empty, whatever an older one left in S3 or on disk.
 *
 * Catches (each test names its own): a delete that tears down first and forgets last, so a
 * wake in between restores or recreates the database and replicates it; a delete a crash
 * interrupted that leaves the tenant half there, woken by its timer; a worker that trusts a
 * local `tenant.db` or a replica of a deleted tenant with the same id (the new tenant starts
 * from the old one's data).
 *
 * Mutation checks (applied once each, the named test failed, reverted): a worker that ignores
 * its incarnation (replica at `tenants/<id>`, its folder taken as found): "reused id" restored
 * the old row (n = 1); `Registry.require` serving a `deleting` tenant: "crash interrupted" got
 * 200 for the half-deleted tenant.
 */
import { cpSync, existsSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { openSqlite } from '@litecell/replica'
import { tempDir, waitFor } from '@litecell/testkit'
import {
  createTenant,
  query,
  startTestServer,
  storedFiles,
  waitForRuns,
  type TestServer,
} from '@litecell/testkit/e2e'

const dataDir = tempDir('e2e')
let server: TestServer | undefined

beforeAll(async () => {
  server = await startTestServer({ dataDir })
})
afterAll(async () => {
  await server?.stop()
  await rm(dataDir, { recursive: true, force: true })
})

/** Changes the stopped server's registry as a crash at some point of an old delete left it. */
function editRegistry(sql: string): void {
  const db = openSqlite(join(dataDir, 'registry.db'))
  try {
    db.exec(sql)
  } finally {
    db.close()
  }
}

/** How many workers of the tenant ever reported ready (from its log). */
function workersReady(tenantId: string): number {
  const path = join(dataDir, 'logs', `${tenantId}.log`)
  if (!existsSync(path)) return 0
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"worker ready"')).length
}

async function tenantWithEntry(id: string, entry: string): Promise<void> {
  const { admin } = server!
  await createTenant(admin, id)
  const { runId } = await admin.post<any>(`/v1/tenants/${id}/runs`, {
    workflow: 'write',
    input: { entry },
  })
  await waitForRuns(admin, id, [runId])
}

test('a delete racing requests and a due timer leaves nothing: no row, no folder, no replica, and the id starts afresh', async () => {
  // Catches: tear down first, forget last: a request or the timer in between wakes a worker
  // that restores (or creates) the database and replicates it again.
  const { admin } = server!
  await tenantWithEntry('racer', 'old')
  await admin.post<any>('/v1/tenants/racer/runs', { workflow: 'sleeper', input: { ms: 500 } })
  await admin.post<any>('/v1/tenants/racer/hibernate')
  expect(storedFiles(dataDir, 'tenants/racer/').length).toBeGreaterThan(0)

  const statuses = new Set<number>()
  let deleted = false
  const hammer = async () => {
    // Until well after the delete answered: every wake path, as fast as it answers.
    for (let until = Infinity; Date.now() < until;) {
      const replies = await Promise.all([
        admin.send<any>('POST', '/v1/tenants/racer/runs', { body: { workflow: 'quick' } }),
        admin.send<any>('POST', '/v1/tenants/racer/wake'),
        admin.send<any>('GET', '/v1/tenants/racer/runs'),
      ])
      for (const reply of replies) statuses.add(reply.status)
      if (deleted && until === Infinity) until = Date.now() + 2_000
    }
  }
  const hammering = hammer()
  await new Promise((resolve) => setTimeout(resolve, 300))
  await admin.delete<any>('/v1/tenants/racer')
  deleted = true
  await hammering

  expect([...statuses].filter((status) => status >= 500 && status !== 503)).toEqual([])
  expect((await admin.send<any>('GET', '/v1/tenants/racer')).status).toBe(404)
  expect(existsSync(join(dataDir, 'tenants', 'racer'))).toBe(false)
  expect(storedFiles(dataDir, 'tenants/racer/')).toEqual([])
  await createTenant(admin, 'racer')
  expect(await query(admin, 'racer', 'SELECT count(*) AS n FROM ledger')).toEqual([{ n: 0 }])
  await admin.delete<any>('/v1/tenants/racer')
})

test('a delete a crash interrupted is finished at the next start, and its due timer never wakes it', async () => {
  // Catches: no `deleting` state (the half-deleted tenant is served, and its timer wakes it);
  // no resume at start (it stays half there for good).
  const { admin } = server!
  await tenantWithEntry('half', 'old')
  const { runId } = await admin.post<any>('/v1/tenants/half/runs', {
    workflow: 'sleeper',
    input: { ms: 1_000 },
  })
  await waitFor(
    async () => (await admin.get<any>(`/v1/tenants/half/runs/${runId}`)).status === 'sleeping',
  )
  await admin.post<any>('/v1/tenants/half/hibernate')
  expect((await server!.stop()).code).toBe(0)
  const readyBefore = workersReady('half')

  // The crash came right after the mark: the timer is due, the replica still there.
  editRegistry(`UPDATE cp_tenants SET state = 'deleting' WHERE id = 'half'`)
  server = await startTestServer({ dataDir })
  const restarted = server.admin
  expect((await restarted.send<any>('GET', '/v1/tenants/half')).status).toBe(404)
  expect(
    (await restarted.send<any>('POST', '/v1/tenants/half/runs', { body: { workflow: 'quick' } }))
      .status,
  ).toBe(404)
  await waitFor(() => storedFiles(dataDir, 'tenants/half/').length === 0, {
    timeoutMs: 30_000,
    what: 'the replica to go',
  })
  await waitFor(
    async () =>
      !(await restarted.get<any>('/v1/tenants')).tenants.some((t: any) => t.id === 'half'),
    { timeoutMs: 30_000, what: 'the row to go' },
  )
  expect(workersReady('half')).toBe(readyBefore)
  await createTenant(restarted, 'half')
  expect(await query(restarted, 'half', 'SELECT count(*) AS n FROM ledger')).toEqual([{ n: 0 }])
})

test("a tenant created again under a reused id starts empty, though the old one's replica and local folder survived", async () => {
  // Catches: no incarnation, so a worker restores the replica a deleted tenant left (s3) or
  // serves its local tenant.db (local), and the new tenant starts with the old one's data.
  const { admin } = server!
  await tenantWithEntry('again-s3', 'old')
  await admin.post<any>('/v1/tenants/again-s3/hibernate')
  await tenantWithEntry('again-local', 'old')
  const localDir = join(dataDir, 'tenants', 'again-local')
  expect(existsSync(join(localDir, 'tenant.db'))).toBe(true)
  // Stop cleanly (every tenant hibernates, verified), then put the folder back as a crash
  // would have left it.
  const saved = join(tempDir('again-local'), 'again-local')
  cpSync(localDir, saved, { recursive: true })
  expect((await server!.stop()).code).toBe(0)
  cpSync(saved, localDir, { recursive: true })

  // An old delete that lost its race: the rows are gone, the replicas and the folder are not.
  editRegistry(`DELETE FROM cp_tenants WHERE id IN ('again-s3', 'again-local')`)
  expect(storedFiles(dataDir, 'tenants/again-s3/').length).toBeGreaterThan(0)
  server = await startTestServer({ dataDir })
  for (const id of ['again-s3', 'again-local']) {
    await createTenant(server.admin, id)
    expect(await query(server.admin, id, 'SELECT count(*) AS n FROM ledger'), id).toEqual([
      { n: 0 },
    ])
  }
  const log = readFileSync(join(dataDir, 'logs', 'again-local.log'), 'utf8')
  expect(log).toContain('refused (removed) a local folder of an older incarnation')
})
