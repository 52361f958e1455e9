/**
 * Accepted means committed: a 202 names a run that exists, and no submission is applied twice,
 * also when the worker dies between the commit and the answer.
 *
 * Mutation caught: with the control plane's automatic idempotency key removed
 * (`withIdempotencyKeys` in packages/control-plane/src/worker-proxy.ts), the proxy's retry of a
 * start whose 202 was lost starts the same input a second time: the first test fails (an entry
 * with two runs, the committed run not the one answered). The worker is killed at exactly that
 * moment by the test-only fault `kill-after-commit-once` (packages/worker/src/test-faults.ts),
 * not by a SIGKILL from outside that may or may not land after a commit.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, expect, onTestFinished, test } from 'vitest'
import { ReplicatorWatch, createTenant, query, useServer, waitForRuns } from '@litecell/testkit/e2e'

const server = useServer({
  env: { LITECELL_IDLE_MS: '60000', LITECELL_TEST_FAULTS: 'kill-after-commit-once' },
})

beforeAll(async () => {
  await createTenant(server.admin, 'intake')
})

async function countRuns(): Promise<number> {
  const rows = await query(server.admin, 'intake', 'SELECT count(*) AS n FROM lc_runs')
  return rows[0].n
}

async function workerPid(): Promise<number> {
  return (await server.admin.get<any>('/v1/tenants/intake')).worker.pid as number
}

/** Entries starting with `prefix` of `write` runs started more than once (should be none). */
async function entriesStartedTwice(prefix: string): Promise<unknown[]> {
  return query(
    server.admin,
    'intake',
    `SELECT json_extract(input, '$.entry') AS entry, count(*) AS n FROM lc_runs
     WHERE workflow = 'write' AND json_extract(input, '$.entry') LIKE ? GROUP BY entry HAVING n > 1`,
    [`${prefix}%`],
  )
}

test('a start whose 202 is lost to a worker killed right after the commit is answered with that run, never a second one', async () => {
  const { admin } = server
  const before = await countRuns()
  const pid = await workerPid()
  const replicators = new ReplicatorWatch(join(server.dataDir, 'tenants', 'intake'))
  onTestFinished(() => replicators.stop())
  const accepted = new Map<string, string>()
  const refused: number[] = []
  let sent = 0
  // No idempotency keys from the client: the proxy's own key is what makes its retry safe.
  // The first start the worker commits kills it; the starts in flight with it break too.
  const submitter = async () => {
    while (sent < 60) {
      const entry = `lost-${sent++}`
      const response = await admin.send<any>('POST', '/v1/tenants/intake/runs', {
        body: { workflow: 'write', input: { entry } },
      })
      if (response.status === 202) accepted.set(entry, response.body.runId)
      else refused.push(response.status)
    }
  }
  await Promise.all(Array.from({ length: 12 }, submitter))

  // The kill happened (a new worker serves the tenant) right after this run committed.
  expect(await workerPid()).not.toBe(pid)
  const killedAfter = readFileSync(
    join(server.dataDir, 'tenants', 'intake', 'test-fault-killed-after-commit'),
    'utf8',
  )
  // Its client still got a 202, through the proxy's retry, naming the run that was committed.
  expect([...accepted.values()]).toContain(killedAfter)
  // Refusals are allowed only as a clear 503, and only for the few starts in flight at the
  // kill whose retry failed too (none expected): at least 50 of 60 are accepted.
  expect(refused.every((status) => status === 503)).toBe(true)
  expect(accepted.size).toBeGreaterThanOrEqual(50)
  const runs = await waitForRuns(admin, 'intake', [...accepted.values()])
  expect(runs.every((run) => run.status === 'succeeded')).toBe(true)
  // Every answer names the run of its own submission.
  expect(runs.map((run) => run.output)).toEqual([...accepted.keys()])
  // No input was started twice, and every run is one that was answered.
  expect(await entriesStartedTwice('lost-')).toEqual([])
  // Every run of this test is one submission's; the answered ones all among them.
  const started = (await countRuns()) - before
  expect(started).toBeGreaterThanOrEqual(accepted.size)
  expect(started).toBeLessThanOrEqual(60)
  const ledger = await query(
    admin,
    'intake',
    "SELECT count(*) AS n, count(DISTINCT entry) AS d FROM ledger WHERE entry LIKE 'lost-%'",
  )
  expect(ledger[0]).toEqual({ n: started, d: started })
  expect(replicators.mostOnOneReplica, `replicators on one tenant at once: ${replicators.crowded}`).toBe(1)
})

test('with a worker killed from outside mid-burst, every keyed start is accepted once, and a resend with its key gets the same run', async () => {
  const { admin } = server
  const before = await countRuns()
  const pid = await workerPid()
  const replicators = new ReplicatorWatch(join(server.dataDir, 'tenants', 'intake'))
  onTestFinished(() => replicators.stop())
  const accepted = new Map<string, string>()
  let retries = 0
  let sent = 0
  // A SIGKILL from outside, mid-burst. A client that sees a broken connection or a 503 resends
  // the same body, its own idempotency key included, until it gets a 202 (the proxy's own
  // retry usually hides the kill: `clientRetries` is logged, not asserted).
  const submit = async (entry: string): Promise<string> => {
    const body = { workflow: 'write', input: { entry }, idempotencyKey: `key-${entry}` }
    for (let attempt = 1; ; attempt += 1) {
      const response = await admin
        .send<any>('POST', '/v1/tenants/intake/runs', { body })
        .catch(() => ({ status: 0, body: undefined }))
      if (response.status === 202) return response.body.runId as string
      expect([0, 502, 503]).toContain(response.status)
      expect(attempt).toBeLessThan(20)
      retries += 1
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  const submitter = async () => {
    while (sent < 120) {
      const i = sent++
      if (i === 40) process.kill(pid, 'SIGKILL')
      const entry = `keyed-${i}`
      accepted.set(entry, await submit(entry))
    }
  }
  await Promise.all(Array.from({ length: 12 }, submitter))

  expect(await workerPid()).not.toBe(pid)
  // Every submission ends accepted, once: one run per key, each with its own input.
  expect(accepted.size).toBe(120)
  expect(new Set(accepted.values()).size).toBe(120)
  const runs = await waitForRuns(admin, 'intake', [...accepted.values()])
  expect(runs.every((run) => run.status === 'succeeded')).toBe(true)
  expect(runs.map((run) => run.output)).toEqual([...accepted.keys()])
  expect(await entriesStartedTwice('keyed-')).toEqual([])
  expect(await countRuns()).toBe(before + 120)
  const ledger = await query(
    admin,
    'intake',
    "SELECT count(*) AS n, count(DISTINCT entry) AS d FROM ledger WHERE entry LIKE 'keyed-%'",
  )
  expect(ledger[0]).toEqual({ n: 120, d: 120 })
  // A client that never learnt its answer resends: same key, same run, nothing new started.
  const resent = [...accepted.keys()].slice(30, 60)
  for (const entry of resent) expect(await submit(entry)).toBe(accepted.get(entry))
  expect(await countRuns()).toBe(before + 120)
  expect(replicators.mostOnOneReplica, `replicators on one tenant at once: ${replicators.crowded}`).toBe(1)
  // Logged for the report: how many resends the kill caused (zero if the proxy's retry hid it).
  console.log(JSON.stringify({ clientRetries: retries }))
})

test('the same idempotency key gives the same run, also when sent concurrently', async () => {
  const { admin } = server
  const before = await countRuns()
  const body = { workflow: 'quick', input: { n: 1 }, idempotencyKey: 'order-42' }
  const responses = await Promise.all(
    Array.from({ length: 8 }, () =>
      admin.send<any>('POST', '/v1/tenants/intake/runs', { body: body }),
    ),
  )
  expect(responses.every((response) => response.status === 202)).toBe(true)
  expect(new Set(responses.map((response) => response.body.runId)).size).toBe(1)
  expect(await countRuns()).toBe(before + 1)

  const batch = await admin.post<any>('/v1/tenants/intake/runs/batch', {
    runs: [body, { workflow: 'quick', input: { n: 2 }, idempotencyKey: 'order-43' }],
  })
  expect(batch.runIds[0]).toBe(responses[0]!.body.runId)
  expect(await countRuns()).toBe(before + 2)
})
