/**
 * An error in app code fails at most its run, never the worker (issue 9, item 3: an async
 * `ctx.transaction` function's promise rejected unhandled later, Node's default killed the
 * worker, recovery replayed the run, it died again five times and the tenant became `failed`).
 * Breakage caught: without a handler on the returned promise, or without the worker's
 * process-level safety net, the worker pid changes (the worker died) and crash-loops; without
 * the in-SQLite time budget a runaway transaction blocks the worker until it is fenced.
 */
import { beforeAll, expect, test } from 'vitest'
import { createTenant, useServer, waitForRuns } from '@litecell/testkit/e2e'

const server = useServer()

beforeAll(async () => {
  await createTenant(server.admin, 'sloppy')
})

test('an async transaction function, a floating rejection and a throwing timer leave the worker and the other runs alone', async () => {
  const { admin } = server
  const first = await admin.post<any>('/v1/tenants/sloppy/runs', { workflow: 'quick', input: { n: 0 } })
  await waitForRuns(admin, 'sloppy', [first.runId])
  const pid = (await admin.get<any>('/v1/tenants/sloppy')).worker.pid as number

  const asyncTx = await admin.post<any>('/v1/tenants/sloppy/runs', { workflow: 'asyncTransaction' })
  const floating = await admin.post<any>('/v1/tenants/sloppy/runs', { workflow: 'floatingErrors' })
  const runaway = await admin.post<any>('/v1/tenants/sloppy/runs', { workflow: 'runawayTransaction' })
  const [txRun, floatingRun, runawayRun] = await waitForRuns(admin, 'sloppy', [asyncTx.runId, floating.runId, runaway.runId])
  // Its own semantics: the async transaction fails its run (and wrote nothing); the floating
  // errors were never awaited by their run, which succeeds.
  expect(txRun).toMatchObject({ status: 'failed', error: { code: 'INVALID_INPUT' } })
  expect(txRun.error.message).toMatch(/returned a promise/)
  expect(floatingRun).toMatchObject({ status: 'succeeded', output: 'survived' })
  // Runaway SQL in a transaction is interrupted inside SQLite within the budget the lease
  // allows (900 ms with this server's 6 s lease), so the worker's heartbeats went on.
  expect(runawayRun).toMatchObject({ status: 'failed', error: { code: 'STEP_TIMEOUT' } })
  expect(runawayRun.error.message).toMatch(/transactionTimeoutMs 900/)

  // Give the late rejection ("this ctx.transaction has already ended") and the timer time to
  // fire, then show the worker survived them and serves the tenant's other runs.
  await new Promise((resolve) => setTimeout(resolve, 500))
  const others = await Promise.all(
    Array.from({ length: 20 }, (_, n) => admin.post<any>('/v1/tenants/sloppy/runs', { workflow: 'quick', input: { n } })),
  )
  const done = await waitForRuns(admin, 'sloppy', others.map((run) => run.runId))
  expect(done.map((run) => run.status)).toEqual(Array(20).fill('succeeded'))
  const tenant = await admin.get<any>('/v1/tenants/sloppy')
  expect(tenant.state).toBe('active')
  expect(tenant.worker.pid).toBe(pid)
  const ledger = await admin.post<any>('/v1/tenants/sloppy/query', {
    sql: 'SELECT count(*) AS n FROM ledger WHERE run_id = ?',
    args: [asyncTx.runId],
  })
  expect(ledger.rows).toEqual([{ n: 0 }])
  // The safety net logged what the app left behind, at warn, naming app code.
  const lines = (await readTenantLog(server.dataDir, 'sloppy')).split('\n').filter(Boolean).map((line) => JSON.parse(line))
  const caught = lines.filter((line) => line.origin !== undefined)
  expect(caught.map((line) => [line.level, line.origin, line.err.message])).toEqual([
    [40, 'app', 'floating rejection from a step'],
    [40, 'app', 'timer thrown by a step'],
  ])
}, 120_000)

async function readTenantLog(dataDir: string, tenantId: string): Promise<string> {
  const { readFile } = await import('node:fs/promises')
  const { join } = await import('node:path')
  return readFile(join(dataDir, 'logs', `${tenantId}.log`), 'utf8')
}
