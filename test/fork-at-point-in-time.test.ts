import { expect, test } from 'vitest'
import { createTenant, query, useServer, waitForRuns } from '@litecell/testkit/e2e'

const server = useServer()

async function writePhase(phase: string, count: number): Promise<void> {
  const { runIds } = await server.admin.post<{ runIds: string[] }>('/v1/tenants/lab/runs/batch', {
    runs: Array.from({ length: count }, (_, i) => ({ workflow: 'write', input: { entry: `${phase}-${i}` } })),
  })
  const runs = await waitForRuns(server.admin, 'lab', runIds)
  expect(runs.every((run) => run.status === 'succeeded')).toBe(true)
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('a fork at a time between two phases holds only phase one; the source is unchanged', async () => {
  const { admin } = server
  await createTenant(admin, 'lab')
  await writePhase('one', 20)
  await pause(1500) // let Litestream ship phase one (sync interval 200 ms in tests)
  const between = new Date().toISOString()
  await pause(1500)
  await writePhase('two', 20)
  await pause(1500)

  const fork = await admin.post<any>('/v1/tenants/lab/fork', { id: 'lab-then', at: between })
  expect(fork).toMatchObject({ id: 'lab-then', token: expect.stringMatching(/^lct_/) })
  const forkRows = await query(admin, 'lab-then', 'SELECT entry FROM ledger ORDER BY entry')
  expect(forkRows.map((row) => row.entry).every((entry: string) => entry.startsWith('one-'))).toBe(true)
  expect(forkRows).toHaveLength(20)

  const sourceRows = await query(admin, 'lab', 'SELECT count(*) AS n FROM ledger')
  expect(sourceRows[0].n).toBe(40)

  // The fork is a tenant of its own: its writes stay in it.
  const { runId } = await admin.post<any>('/v1/tenants/lab-then/runs', { workflow: 'write', input: { entry: 'fork-only' } })
  await waitForRuns(admin, 'lab-then', [runId])
  expect((await query(admin, 'lab', "SELECT count(*) AS n FROM ledger WHERE entry = 'fork-only'"))[0].n).toBe(0)
  expect((await query(admin, 'lab-then', 'SELECT count(*) AS n FROM ledger'))[0].n).toBe(21)
})

test('a fork without a time copies the current state of an active tenant', async () => {
  const { admin } = server
  const fork = await admin.post<any>('/v1/tenants/lab/fork', { id: 'lab-now' })
  expect(fork.id).toBe('lab-now')
  const rows = await query(admin, 'lab-now', 'SELECT count(*) AS n FROM ledger')
  expect(rows[0].n).toBe(40)
})

// Catches a fork "now" that restores the source's replica without first making it current:
// the last runs, committed within the sync interval before the request, would be missing.
test('a fork now of an active tenant holds every run committed before the request', async () => {
  const { admin } = server
  await createTenant(admin, 'busy-lab')
  for (let round = 0; round < 3; round += 1) {
    const { runIds } = await admin.post<{ runIds: string[] }>('/v1/tenants/busy-lab/runs/batch', {
      runs: Array.from({ length: 10 }, (_, i) => ({ workflow: 'write', input: { entry: `r${round}-${i}` } })),
    })
    await waitForRuns(admin, 'busy-lab', runIds)
    const id = `busy-lab-${round}`
    await admin.forkTenant('busy-lab', { id })
    const rows = await query(admin, id, 'SELECT count(*) AS n FROM ledger')
    expect(rows[0].n).toBe(10 * (round + 1))
  }
})

test('a fork into an existing id is refused with 409 and changes nothing', async () => {
  const response = await server.admin.send<any>('POST', '/v1/tenants/lab/fork', { body: { id: 'lab-now' } })
  expect(response.status).toBe(409)
  expect(response.body.error.code).toBe('TENANT_EXISTS')
})
