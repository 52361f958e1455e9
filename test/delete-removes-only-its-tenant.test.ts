import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { createTenant, query, storedFiles, useServer, waitForRuns } from '@litecell/testkit/e2e'

const server = useServer()

test('delete removes the tenant, its local files and its replica, and nothing of a tenant whose id it prefixes', async () => {
  const { admin } = server
  for (const id of ['doomed', 'doomed-not']) {
    await createTenant(admin, id)
    const { runId } = await admin.post<any>(`/v1/tenants/${id}/runs`, { workflow: 'write', input: { entry: id } })
    await waitForRuns(admin, id, [runId])
    await admin.post<any>(`/v1/tenants/${id}/hibernate`)
  }
  expect(storedFiles(server.dataDir, 'tenants/doomed/').length).toBeGreaterThan(0)

  const deleted = await admin.delete<any>('/v1/tenants/doomed')
  expect(deleted).toEqual({ id: 'doomed', deleted: true })
  expect((await admin.send<any>('GET', '/v1/tenants/doomed')).status).toBe(404)
  expect(existsSync(join(server.dataDir, 'tenants', 'doomed'))).toBe(false)
  expect(storedFiles(server.dataDir, 'tenants/doomed/')).toEqual([])

  // The neighbour restores from its own replica, intact.
  expect(storedFiles(server.dataDir, 'tenants/doomed-not/').length).toBeGreaterThan(0)
  expect(await query(admin, 'doomed-not', 'SELECT entry FROM ledger')).toEqual([{ entry: 'doomed-not' }])
})

test('an active tenant can be deleted; its id can then be used afresh', async () => {
  const { admin } = server
  await createTenant(admin, 'busy')
  const { runId } = await admin.post<any>('/v1/tenants/busy/runs', { workflow: 'write', input: { entry: 'old' } })
  await waitForRuns(admin, 'busy', [runId])
  await admin.delete<any>('/v1/tenants/busy')
  await createTenant(admin, 'busy')
  expect(await query(admin, 'busy', 'SELECT count(*) AS n FROM ledger')).toEqual([{ n: 0 }])
})
