/**
 * Flow control is durable (issue 13, section 3): a queue's admission order (priority, then
 * start order) and deduplication ids survive a SIGKILLed worker and a hibernation, because
 * both live in the tenant's file (the order is rebuilt from `lc_runs.priority` and `id` on
 * every open; the dedup rule is a partial unique index). Breakage caught: an order kept only
 * in the dead worker's memory (the recovered runs would run in start order, or in the order
 * recovery finds them), and a dedup check that forgets the unfinished run after a restart.
 * The queue `serial` runs one execution at a time; a blocker holds it while the other runs
 * queue up, and each run records its admission in the tenant's `admitted` table.
 */
import { join } from 'node:path'
import { expect, onTestFinished, test } from 'vitest'
import { waitFor } from '@litecell/testkit'
import {
  ReplicatorWatch,
  TEST_APP_PATH,
  createTenant,
  query,
  useServer,
  waitForRuns,
} from '@litecell/testkit/e2e'
import { REPO_ROOT } from '@litecell/testkit/server'

const FLOW_APP_PATH = join(REPO_ROOT, 'test/apps/flow-app.ts')
/** How long the blocker holds the queue: long enough to queue the others and kill or hibernate. */
const HOLD_MS = 3_000

const server = useServer({
  env: {
    LITECELL_APPS: `test=${TEST_APP_PATH},flow=${FLOW_APP_PATH}`,
    // Nothing hibernates on its own during a test: the hibernation test asks for it.
    LITECELL_IDLE_MS: '120000',
  },
})

/** Names and priorities of the queued runs, in start order. */
const JOBS: readonly (readonly [string, number])[] = [
  ['low-1', 5],
  ['default-1', 0],
  ['urgent-1', -5],
  ['default-2', 0],
  ['urgent-2', -5],
  ['low-2', 5],
]
const EXPECTED = ['blocker', 'urgent-1', 'urgent-2', 'default-1', 'default-2', 'low-1', 'low-2']

/**
 * Starts the blocker, waits until it executes, queues the jobs behind it and a run holding a
 * deduplication id; returns all run ids.
 */
async function queueBehindBlocker(tenant: string): Promise<{ runIds: string[]; holder: string }> {
  const { admin } = server
  await createTenant(admin, tenant, 'flow')
  const blocker = await admin.startRun(tenant, {
    workflow: 'hold',
    input: { name: 'blocker', ms: HOLD_MS },
    queue: 'serial',
    priority: -100,
  })
  await waitFor(async () => (await admin.getRun(tenant, blocker.runId)).status === 'running', {
    what: 'the blocker to execute',
  })
  const { runIds } = await admin.startRuns(
    tenant,
    JOBS.map(([name, priority]) => ({
      workflow: 'job',
      input: { name },
      queue: 'serial',
      priority,
    })),
  )
  const holder = await admin.startRun(tenant, { workflow: 'waiter', deduplicationId: 'exclusive' })
  return { runIds: [blocker.runId, ...runIds], holder: holder.runId }
}

async function admissionOrder(tenant: string): Promise<string[]> {
  return (await query(server.admin, tenant, 'SELECT name FROM admitted ORDER BY seq')).map(
    (row) => row.name,
  )
}

async function expectDuplicateOf(tenant: string, holder: string): Promise<void> {
  const reply = await server.admin.send<any>('POST', `/v1/tenants/${tenant}/runs`, {
    body: { workflow: 'waiter', deduplicationId: 'exclusive' },
  })
  expect(reply.status).toBe(409)
  expect(reply.body.error).toMatchObject({ code: 'DUPLICATE_RUN', runId: holder })
}

test('priority order and a held deduplication id survive a SIGKILL of the worker', async () => {
  const { admin } = server
  const { runIds, holder } = await queueBehindBlocker('killed')
  const { worker } = await admin.getTenant('killed')
  expect(worker?.pid).toEqual(expect.any(Number))
  const replicators = new ReplicatorWatch(join(server.dataDir, 'tenants', 'killed'))
  onTestFinished(() => replicators.stop())
  process.kill(worker?.pid as number, 'SIGKILL')
  // The next requests start a new worker, which recovers the runs from the file.
  const runs = await waitForRuns(admin, 'killed', runIds)
  expect(runs.map((run) => run.status)).toEqual(Array(runIds.length).fill('succeeded'))
  expect((await admin.getTenant('killed')).worker?.pid).not.toBe(worker?.pid)
  expect(await admissionOrder('killed')).toEqual(EXPECTED)
  await expectDuplicateOf('killed', holder)
  expect(replicators.mostOnOneReplica, `replicators on one tenant at once: ${replicators.crowded}`).toBe(1)
}, 120_000)

test('priority order and a held deduplication id survive a hibernation', async () => {
  const { admin } = server
  const { runIds, holder } = await queueBehindBlocker('slept')
  // The hibernation waits for the blocker's step to end; the queued runs stay pending.
  const hibernated = await admin.hibernateTenant('slept')
  expect(hibernated.state).toBe('hibernated')
  await expectDuplicateOf('slept', holder)
  const runs = await waitForRuns(admin, 'slept', runIds)
  expect(runs.map((run) => run.status)).toEqual(Array(runIds.length).fill('succeeded'))
  expect(await admissionOrder('slept')).toEqual(EXPECTED)
}, 120_000)
