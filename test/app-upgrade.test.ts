import { join } from 'node:path'
import { callRaw, expectApiError, query, useServer } from '@litecell/testkit/e2e'
import { REPO_ROOT } from '@litecell/testkit/server'
import { waitFor } from '@litecell/testkit'
import { expect, test } from 'vitest'

const APPS = join(REPO_ROOT, 'test/apps')
const server = useServer({
  env: { LITECELL_APPS: `v1=${join(APPS, 'upgrade-v1.ts')},v2=${join(APPS, 'upgrade-v2.ts')}` },
})

async function status(runId: string): Promise<string> {
  return (await server.admin.getRun('lab', runId)).status
}

// What it catches: an upgrade that loses or repeats work (a step run twice, a run gone), that
// does not switch the code (runs finish as v1), or whose runs in flight break on the new code
// (NON_DETERMINISM: a run past the patch point must keep its old calls, one before it must
// take the new branch).
test('runs started under v1 finish correctly after an upgrade to v2 mid-sleep', async () => {
  const { admin } = server
  await admin.createTenant({ id: 'lab', app: 'v1' })
  // `early` sleeps before the patch point, `late` has gone past it (sleeps after it).
  const early = await admin.startRun('lab', {
    workflow: 'train',
    input: { sleepMs: 6_000, sleepAfterMs: 0 },
  })
  const late = await admin.startRun('lab', {
    workflow: 'train',
    input: { sleepMs: 0, sleepAfterMs: 6_000 },
  })
  await waitFor(
    async () =>
      (await status(early.runId)) === 'sleeping' && (await status(late.runId)) === 'sleeping',
  )
  expect((await admin.getRun('lab', late.runId)).steps.map((step) => step.name)).toContain('after')

  const upgraded = await admin.upgradeTenant('lab', { app: 'v2' })
  expect(upgraded).toMatchObject({ id: 'lab', app: 'v2', state: 'active' })

  const [first, second] = await Promise.all(
    [early.runId, late.runId].map((runId) => admin.runResult('lab', runId, { waitMs: 30_000 })),
  )
  expect(first).toMatchObject({
    status: 'succeeded',
    output: { before: 'v1', after: 'v2' },
    appVersion: 'v1',
  })
  expect(first!.steps.map((step) => `${step.kind}:${step.name}`)).toEqual([
    'step:before',
    'sleep:sleep',
    'patch:notes',
    'transaction:note',
    'step:after-v2',
    'sleep:sleep',
  ])
  expect(second).toMatchObject({
    status: 'succeeded',
    output: { before: 'v1', after: 'v1' },
    appVersion: 'v1',
  })
  expect(second!.steps.map((step) => step.name)).toEqual(['before', 'sleep', 'after', 'sleep'])
  // Nothing ran twice: each step once, one note (from the run that took the new branch).
  for (const run of [first!, second!]) {
    for (const step of run.steps) expect(step.attempts).toBeLessThanOrEqual(1)
  }
  expect(await query(admin, 'lab', 'SELECT run_id FROM notes')).toEqual([{ run_id: early.runId }])
  // The new migration ran at the switch; the file records v2; new runs are v2's.
  expect(await query(admin, 'lab', 'SELECT name, version FROM lc_app')).toEqual([
    { name: 'v2', version: 'v2' },
  ])
  const fresh = await admin.startRun('lab', { workflow: 'quick' })
  expect(await admin.runResult('lab', fresh.runId, { waitMs: 10_000 })).toMatchObject({
    output: 'v2',
    appVersion: 'v2',
  })
})

test('upgrade is admin only and names a known app', async () => {
  const { admin } = server
  const { token } = await admin.createTenant({ id: 'other', app: 'v1' })
  const asTenant = await callRaw(server, 'POST', '/v1/tenants/other/upgrade', `Bearer ${token}`, {
    app: 'v2',
  })
  expectApiError(asTenant, 403, 'FORBIDDEN')
  const bearer = `Bearer ${server.adminToken}`
  expectApiError(
    await callRaw(server, 'POST', '/v1/tenants/other/upgrade', bearer, { app: 'v3' }),
    400,
    'UNKNOWN_APP',
    'v3',
  )
  expectApiError(
    await callRaw(server, 'POST', '/v1/tenants/other/upgrade', bearer, { app: 7 }),
    400,
    'BAD_REQUEST',
    'Expected `app`',
  )
  expectApiError(
    await callRaw(server, 'POST', '/v1/tenants/nobody/upgrade', bearer, {}),
    404,
    'TENANT_NOT_FOUND',
  )
  expect((await admin.getTenant('other')).app).toBe('v1')
})
