import { expect, test } from 'vitest'
import { waitFor } from '@litecell/testkit'
import { createTenant, useServer } from '@litecell/testkit/e2e'

const server = useServer()

// What it catches: a schedule fire time missing from the nextWakeAt a hibernating worker
// reports (the tenant would sleep through it), or a fire that is not handled at open.
test('a schedule fires in a hibernated tenant with no client request', async () => {
  const { admin } = server
  await createTenant(admin, 'cron')
  await admin.createSchedule('cron', {
    id: 'every10s',
    cron: '*/10 * * * * *',
    workflow: 'write',
    input: { entry: 'tick' },
  })
  const hibernated = await admin.hibernateTenant('cron')
  expect(hibernated.state).toBe('hibernated')
  expect(hibernated.nextWakeAt).not.toBeNull()
  const nextFireAt = Date.parse(hibernated.nextWakeAt as string)
  expect(nextFireAt % 10_000).toBe(0)

  // Only GET /v1/tenants/:id from here on: it shows the tenant without waking it.
  const woken = await waitFor(
    async () => {
      const tenant = await admin.getTenant('cron')
      return tenant.state !== 'hibernated' ? tenant : undefined
    },
    { timeoutMs: 30_000, what: 'the scheduler to wake the tenant for its fire' },
  )
  expect(Date.parse(woken.worker?.startedAt as string)).toBeGreaterThanOrEqual(nextFireAt - 50)
  const schedule = await waitFor(async () => {
    const [first] = await admin.listSchedules('cron')
    return first?.lastRunId ? first : undefined
  })
  expect(Date.parse(schedule.lastFireAt as string)).toBeGreaterThanOrEqual(nextFireAt)
  const run = await admin.runResult('cron', schedule.lastRunId as string, { waitMs: 10_000 })
  expect(run).toMatchObject({ workflow: 'write', status: 'succeeded', output: 'tick' })
})
