/**
 * A run's deadline (`timeoutMs`) and a debounced start are durable timers (issue 13): the
 * tenant's `nextWakeAt` includes them, so the wake scheduler wakes a hibernated tenant for
 * them with no client request, and the new worker cancels the timed-out run (with its
 * non-detached children) or starts the debounced one with the last input of its burst.
 * Breakage caught: a deadline or delayed start kept only in memory (the hibernated tenant
 * never wakes for it, or the woken worker forgets it), and a deadline left out of
 * `nextWakeAt`. Only `GET /v1/tenants/:id`, which never wakes a tenant, is used while waiting.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { waitFor } from '@litecell/testkit'
import { TEST_APP_PATH, createTenant, query, useServer } from '@litecell/testkit/e2e'
import { REPO_ROOT } from '@litecell/testkit/server'

const FLOW_APP_PATH = join(REPO_ROOT, 'test/apps/flow-app.ts')

const server = useServer({
  env: {
    LITECELL_APPS: `test=${TEST_APP_PATH},flow=${FLOW_APP_PATH}`,
    LITECELL_IDLE_MS: '120000',
  },
})

/** Hibernates the tenant and waits, reading only the tenant record, until a worker woke it. */
async function hibernateUntilWoken(
  tenant: string,
): Promise<{ nextWakeAt: number; wokeAt: number }> {
  const hibernated = await server.admin.hibernateTenant(tenant)
  expect(hibernated.state).toBe('hibernated')
  // The live file is gone (only the verified copy a wake here may use stays, issue 12).
  expect(existsSync(join(server.dataDir, 'tenants', tenant, 'tenant.db'))).toBe(false)
  expect(hibernated.nextWakeAt).not.toBeNull()
  const woken = await waitFor(
    async () => {
      const view = await server.admin.getTenant(tenant)
      return view.state !== 'hibernated' ? view : undefined
    },
    { timeoutMs: 30_000, what: `the scheduler to wake ${tenant}` },
  )
  return {
    nextWakeAt: Date.parse(hibernated.nextWakeAt as string),
    wokeAt: Date.parse(woken.worker?.startedAt as string),
  }
}

test('a run past its timeout on a hibernated tenant is cancelled with its children when the scheduler wakes it', async () => {
  const { admin } = server
  await createTenant(admin, 'deadline', 'flow')
  const startedAt = Date.now()
  const { runId } = await admin.startRun('deadline', { workflow: 'parent', timeoutMs: 4_000 })
  const view = await waitFor(async () => {
    const run = await admin.getRun('deadline', runId)
    return run.status === 'waiting' ? run : undefined
  })
  const [child, detached] = view.steps.flatMap((step) => (step.childRunId ? [step.childRunId] : []))
  const { nextWakeAt, wokeAt } = await hibernateUntilWoken('deadline')
  // It woke for the deadline (the runs wait for events: no other timer is due).
  expect(nextWakeAt).toBe(Date.parse(view.deadlineAt as string))
  expect(nextWakeAt).toBeGreaterThanOrEqual(startedAt + 4_000)
  expect(wokeAt).toBeGreaterThanOrEqual(nextWakeAt - 50)
  const run = await admin.runResult('deadline', runId, { waitMs: 10_000 })
  expect(run).toMatchObject({ status: 'cancelled', error: { code: 'RUN_TIMEOUT' } })
  expect(await admin.getRun('deadline', child as string)).toMatchObject({
    status: 'cancelled',
    error: { code: 'PARENT_CANCELLED' },
  })
  expect(await admin.getRun('deadline', detached as string)).toMatchObject({
    status: 'waiting',
    detached: true,
  })
}, 90_000)

test('a debounced burst on a hibernated tenant starts once, with the last input, when the scheduler wakes it', async () => {
  const { admin } = server
  await createTenant(admin, 'burst', 'flow')
  const debounce = { key: 'doc-1', delayMs: 4_000 }
  const ids = []
  let lastSentAt = 0
  for (const name of ['first', 'second', 'last']) {
    lastSentAt = Date.now()
    ids.push((await admin.startRun('burst', { workflow: 'job', input: { name }, debounce })).runId)
  }
  expect(new Set(ids).size).toBe(1)
  const { nextWakeAt } = await hibernateUntilWoken('burst')
  // The start moved to 4 s after the last start of the burst, not the first.
  expect(nextWakeAt).toBeGreaterThanOrEqual(lastSentAt + 4_000)
  const run = await admin.runResult('burst', ids[0] as string, { waitMs: 10_000 })
  expect(run).toMatchObject({ status: 'succeeded', input: { name: 'last' }, output: 'last' })
  expect(await query(admin, 'burst', 'SELECT name FROM admitted')).toEqual([{ name: 'last' }])
}, 90_000)
