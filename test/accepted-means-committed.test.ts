import { beforeAll, expect, test } from 'vitest'
import { createTenant, query, useServer, waitForRuns } from '@litecell/testkit/e2e'

const server = useServer({ env: { LITECELL_IDLE_MS: '60000' } })

beforeAll(async () => {
  await createTenant(server.admin, 'intake')
})

async function countRuns(): Promise<number> {
  const rows = await query(server.admin, 'intake', 'SELECT count(*) AS n FROM lc_runs')
  return rows[0].n
}

test('every accepted submission is committed, and a worker killed mid-submission duplicates none', async () => {
  const { admin } = server
  const before = await countRuns()
  const pid = (await admin.get<any>('/v1/tenants/intake')).worker.pid as number
  const accepted: string[] = []
  const refused: number[] = []
  let sent = 0
  const submitter = async () => {
    while (sent < 300) {
      const i = sent++
      if (i === 100) process.kill(pid, 'SIGKILL')
      const response = await admin.send<any>('POST', '/v1/tenants/intake/runs', { body: { workflow: 'write', input: { entry: `e-${i}` } } })
      if (response.status === 202) accepted.push(response.body.runId)
      else refused.push(response.status)
    }
  }
  await Promise.all(Array.from({ length: 12 }, submitter))

  // Refusals are allowed only as a clear 503; everything accepted must exist and finish.
  expect(refused.every((status) => status === 503)).toBe(true)
  const runs = await waitForRuns(admin, 'intake', accepted)
  expect(runs.every((run) => run.status === 'succeeded')).toBe(true)
  // No submission was applied twice: one run and one ledger row per accepted request.
  expect(await countRuns()).toBe(before + accepted.length)
  const ledger = await query(admin, 'intake', 'SELECT count(*) AS n, count(DISTINCT entry) AS d FROM ledger')
  expect(ledger[0]).toEqual({ n: accepted.length, d: accepted.length })
  expect((await admin.get<any>('/v1/tenants/intake')).worker.pid).not.toBe(pid)
})

test('the same idempotency key gives the same run, also when sent concurrently', async () => {
  const { admin } = server
  const before = await countRuns()
  const body = { workflow: 'quick', input: { n: 1 }, idempotencyKey: 'order-42' }
  const responses = await Promise.all(Array.from({ length: 8 }, () => admin.send<any>('POST', '/v1/tenants/intake/runs', { body: body })))
  expect(responses.every((response) => response.status === 202)).toBe(true)
  expect(new Set(responses.map((response) => response.body.runId)).size).toBe(1)
  expect(await countRuns()).toBe(before + 1)

  const batch = await admin.post<any>('/v1/tenants/intake/runs/batch', {
    runs: [body, { workflow: 'quick', input: { n: 2 }, idempotencyKey: 'order-43' }],
  })
  expect(batch.runIds[0]).toBe(responses[0]!.body.runId)
  expect(await countRuns()).toBe(before + 2)
})
