import { join, resolve } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { removeDataDir, startServer, type TestServer } from './support/server.js'
import { waitFor } from './support/wait-for.js'

const APPS = resolve(import.meta.dirname, 'apps')
let server: TestServer

beforeAll(async () => {
  server = await startServer({
    env: { LITECELL_APPS: `v1=${join(APPS, 'upgrade-v1.ts')},v2=${join(APPS, 'upgrade-v2.ts')}` },
  })
})

afterAll(async () => {
  await server?.stop()
  await removeDataDir(server.dataDir)
})

async function status(runId: string): Promise<string> {
  return (await server.admin.ok('GET', `/v1/tenants/lab/runs/${runId}`)).status
}

// What it catches: an upgrade that loses or repeats work (a step run twice, a run gone), that
// does not switch the code (runs finish as v1), or whose runs in flight break on the new code
// (NON_DETERMINISM: a run past the patch point must keep its old calls, one before it must
// take the new branch).
test('runs started under v1 finish correctly after an upgrade to v2 mid-sleep', async () => {
  const { admin } = server
  await admin.ok('POST', '/v1/tenants', { id: 'lab', app: 'v1' })
  // `early` sleeps before the patch point, `late` has gone past it (sleeps after it).
  const early = await admin.ok('POST', '/v1/tenants/lab/runs', { workflow: 'train', input: { sleepMs: 6_000, sleepAfterMs: 0 } })
  const late = await admin.ok('POST', '/v1/tenants/lab/runs', { workflow: 'train', input: { sleepMs: 0, sleepAfterMs: 6_000 } })
  await waitFor(async () => (await status(early.runId)) === 'sleeping' && (await status(late.runId)) === 'sleeping')
  expect((await admin.ok('GET', `/v1/tenants/lab/runs/${late.runId}`)).steps.map((step: { name: string }) => step.name)).toContain('after')

  const upgraded = await admin.ok('POST', '/v1/tenants/lab/upgrade', { app: 'v2' })
  expect(upgraded).toMatchObject({ id: 'lab', app: 'v2', state: 'active' })

  const [first, second] = await Promise.all(
    [early.runId, late.runId].map((runId) => admin.ok('GET', `/v1/tenants/lab/runs/${runId}/result?waitMs=30000`)),
  )
  expect(first).toMatchObject({ status: 'succeeded', output: { before: 'v1', after: 'v2' }, appVersion: 'v1' })
  expect(first.steps.map((step: { kind: string; name: string }) => `${step.kind}:${step.name}`)).toEqual([
    'step:before',
    'sleep:sleep',
    'patch:notes',
    'transaction:note',
    'step:after-v2',
    'sleep:sleep',
  ])
  expect(second).toMatchObject({ status: 'succeeded', output: { before: 'v1', after: 'v1' }, appVersion: 'v1' })
  expect(second.steps.map((step: { name: string }) => step.name)).toEqual(['before', 'sleep', 'after', 'sleep'])
  // Nothing ran twice: each step once, one note (from the run that took the new branch).
  for (const run of [first, second]) {
    for (const step of run.steps) expect(step.attempts).toBeLessThanOrEqual(1)
  }
  const notes = await admin.ok('POST', '/v1/tenants/lab/query', { sql: 'SELECT run_id FROM notes' })
  expect(notes.rows).toEqual([{ run_id: early.runId }])
  // The new migration ran at the switch; the file records v2; new runs are v2's.
  const app = await admin.ok('POST', '/v1/tenants/lab/query', { sql: 'SELECT name, version FROM lc_app' })
  expect(app.rows).toEqual([{ name: 'v2', version: 'v2' }])
  const fresh = await admin.ok('POST', '/v1/tenants/lab/runs', { workflow: 'quick' })
  expect(await admin.ok('GET', `/v1/tenants/lab/runs/${fresh.runId}/result?waitMs=10000`)).toMatchObject({
    output: 'v2',
    appVersion: 'v2',
  })
})

test('upgrade is admin only and names a known app', async () => {
  const { admin } = server
  const { token } = await admin.ok('POST', '/v1/tenants', { id: 'other', app: 'v1' })
  const asTenant = await admin.as(token).request('POST', '/v1/tenants/other/upgrade', { app: 'v2' })
  expect(asTenant.status).toBe(403)
  const unknown = await admin.request('POST', '/v1/tenants/other/upgrade', { app: 'v3' })
  expect(unknown.status).toBe(400)
  expect(unknown.body.error.code).toBe('UNKNOWN_APP')
  const notString = await admin.request('POST', '/v1/tenants/other/upgrade', { app: 7 })
  expect(notString.status).toBe(400)
  expect(notString.body.error.message).toContain('Expected `app`')
  expect((await admin.ok('GET', '/v1/tenants/other')).app).toBe('v1')
})
