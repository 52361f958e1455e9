/**
 * The wake scheduler at fleet scale (issue 12): 1,000 hibernated tenants, each with a durable
 * timer that is due, and `LITECELL_MAX_WORKERS=4`, one of the four slots held the whole time
 * by a busy tenant (a request always in flight). Every timer fires (each tenant's sleeping
 * run ends `succeeded`), no more than 4 workers ever exist, and nothing is left due.
 *
 * It catches a scheduler that loads only some due tenants and forgets the rest, one that
 * starts wakes beyond the cap (429s that are never retried), a fleet that keeps a finished
 * tenant's slot until its idle timeout (then this test times out: in-process workers never
 * hibernate by themselves), and due timers starved behind the busy tenant.
 *
 * In the end-to-end project for its length (two minutes on a loaded machine), though
 * in-process (the real control plane app, fleet, registry, scheduler and engine; workers in
 * this process, replicas as folders): a real process per wake would make 1,000 wakes take many
 * minutes on a loaded 2-core machine. The tenants' files are copies of one tenant's file
 * holding a sleeping run, so setting them up costs a file copy each. Bounds are generous; the
 * create rate is logged, never asserted.
 */
import { cp } from 'node:fs/promises'
import { join } from 'node:path'
import { openSqliteReadOnly } from '@litecell/replica'
import { waitFor } from '@litecell/testkit'
import { useInProcessServer } from '@litecell/testkit/in-process'
import { afterAll, expect, test } from 'vitest'

const TENANTS = 1_000
const MAX_WORKERS = 4

const server = useInProcessServer({ maxWorkers: MAX_WORKERS })
let stopBusy = false
afterAll(() => void (stopBusy = true))

test(`the scheduler fires every due timer of ${TENANTS} hibernated tenants with ${MAX_WORKERS} workers, one held by a busy tenant`, async () => {
  const { registry, app, dataDir } = server.current
  const admin = server.admin
  // One tenant with a run asleep until shortly after its hibernation: the template.
  await admin.createTenant({ id: 'template' })
  const { runId } = await admin.startRun('template', { workflow: 'sleeper', input: { ms: 1_000 } })
  await admin.hibernateTenant('template')
  const dueAt = registry.require('template').nextWakeAt
  expect(dueAt).not.toBeNull()

  const createdMs = Date.now()
  const ids = Array.from({ length: TENANTS }, (_, n) => `due-${String(n).padStart(4, '0')}`)
  for (const id of ids) await admin.createTenant({ id, labels: { fleet: 'timers' } })
  const createsPerSec = Math.round(TENANTS / ((Date.now() - createdMs) / 1000))
  console.log(JSON.stringify({ createdTenants: TENANTS, createsPerSec }))
  const replicas = join(dataDir, 'replicas')
  for (const id of ids) {
    await cp(join(replicas, 'template'), join(replicas, id), { recursive: true })
    registry.setState(id, 'hibernated', { nextWakeAt: dueAt })
  }
  // The template's own timer fires too (1,001 in all).
  ids.push('template')

  // The busy tenant: two staggered long-polls keep a request in flight all along.
  await admin.createTenant({ id: 'busy' })
  const { runId: busyRun } = await admin.startRun('busy', {
    workflow: 'sleeper',
    input: { ms: 3_600_000 },
  })
  const poll = async (delayMs: number) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs))
    while (!stopBusy)
      await admin.runResult('busy', busyRun, { waitMs: 2_000 }).catch(() => undefined)
  }
  const polls = [poll(0), poll(1_000)]

  let mostWorkers = 0
  const sampler = setInterval(() => (mostWorkers = Math.max(mostWorkers, app.fleet.size)), 5)
  const scheduler = server.current.wakeScheduler({ intervalMs: 50, maxWakes: MAX_WORKERS })
  const firedFrom = Date.now()
  scheduler.start()
  try {
    // Done: nothing due or being woken, and each tenant either hibernated with no timer left
    // or awake with its run ended (the last few keep their slots: nobody waits for them).
    await waitFor(
      async () => {
        if (scheduler.waking > 0 || registry.dueTenants(Date.now()).length > 0) return false
        for (const id of ids) {
          const tenant = registry.require(id)
          if (tenant.state === 'hibernated' && tenant.nextWakeAt === null) continue
          if (tenant.state !== 'active') return false
          if ((await admin.runResult(id, runId)).status !== 'succeeded') return false
        }
        return true
      },
      { timeoutMs: 900_000, intervalMs: 250, what: 'every due tenant woken, its run ended' },
    )
  } finally {
    scheduler.stop()
    clearInterval(sampler)
  }
  console.log(
    JSON.stringify({
      firedTimers: ids.length,
      seconds: (Date.now() - firedFrom) / 1000,
      mostWorkers,
    }),
  )
  stopBusy = true
  await Promise.all(polls)
  const awake = ids.filter((id) => registry.require(id).state === 'active')
  for (const id of awake) await admin.hibernateTenant(id)

  expect(mostWorkers).toBeLessThanOrEqual(MAX_WORKERS)
  expect(registry.dueTenants(Date.now())).toEqual([])
  const notSucceeded = ids.filter((id) => {
    const db = openSqliteReadOnly(join(replicas, id, 'tenant.db'))
    try {
      const row = db.prepare('SELECT status FROM lc_runs WHERE run_id = ?').get(runId) as
        { status: string } | undefined
      return row?.status !== 'succeeded'
    } finally {
      db.close()
    }
  })
  expect(notSucceeded).toEqual([])
}, 1_200_000)
