import type { LitecellClient } from '@litecell/client'
import { waitFor } from '@litecell/testkit'
import { join } from 'node:path'
import {
  ReplicatorWatch,
  createTenant,
  query,
  startTestServer,
  type TestServer,
} from '@litecell/testkit/e2e'
import { afterEach, expect, onTestFinished, test } from 'vitest'

let servers: TestServer[] = []

afterEach(async () => {
  for (const server of servers) await server.stop()
  for (const server of servers) await server.removeDataDir()
  servers = []
})

async function start(dataDir?: string): Promise<TestServer> {
  const server = await startTestServer(dataDir === undefined ? {} : { dataDir })
  servers.push(server)
  return server
}

interface Fire {
  at: number
  status: string
}

/** The fire times of a schedule's runs (from their idempotency keys), oldest first. */
async function firedRuns(admin: LitecellClient, tenant: string, schedule: string): Promise<Fire[]> {
  const prefix = `schedule:${schedule}:`
  const rows = await query(
    admin,
    tenant,
    'SELECT idempotency_key AS key, status FROM lc_runs WHERE idempotency_key LIKE ? ORDER BY idempotency_key',
    [`${prefix}%`],
  )
  return rows.map((row: { key: string; status: string }) => ({
    at: Date.parse(row.key.slice(prefix.length)),
    status: row.status,
  }))
}

/** `fires` as they should be: every `stepMs` from the first one, none missing. */
function contiguous(fires: readonly Fire[], stepMs: number): number[] {
  const first = fires[0]?.at ?? 0
  return fires.map((_, i) => first + i * stepMs)
}

async function allFinished(
  admin: LitecellClient,
  tenant: string,
  schedule: string,
): Promise<Fire[]> {
  return waitFor(
    async () => {
      const runs = await firedRuns(admin, tenant, schedule)
      return runs.length > 0 && runs.every((run) => run.status === 'succeeded') ? runs : undefined
    },
    { timeoutMs: 60_000, what: `every run of schedule ${schedule} to finish` },
  )
}

// What it catches: a fire lost or started twice when its worker dies (the run and the
// schedule's cursor must commit together, and a fire's key must be the same in every process).
test('a schedule starts exactly one run per fire time across SIGKILLs of its worker', async () => {
  const { admin, dataDir } = await start()
  await createTenant(admin, 'metronome')
  const replicators = new ReplicatorWatch(join(dataDir, 'tenants', 'metronome'))
  onTestFinished(() => replicators.stop())
  await admin.createSchedule('metronome', {
    id: 'tick',
    cron: '* * * * * *',
    workflow: 'write',
    input: { entry: 'tick' },
    overlap: 'allow',
    catchUp: 'all',
  })
  for (let kill = 0; kill < 3; kill++) {
    const pid = await waitFor(
      async () => (await admin.getTenant('metronome')).worker?.pid ?? undefined,
    )
    await new Promise((resolve) => setTimeout(resolve, 1_000 + Math.floor(Math.random() * 1_500)))
    process.kill(pid, 'SIGKILL')
    // The control plane restarts a crashed worker after a backoff; catch-up `all` owes the
    // fires it missed meanwhile.
    await waitFor(
      async () => {
        const tenant = await admin.getTenant('metronome')
        return tenant.state === 'active' && tenant.worker?.pid !== pid
      },
      { timeoutMs: 60_000, what: 'a new worker after the kill' },
    )
  }
  await admin.pauseSchedule('metronome', 'tick')
  const fires = await allFinished(admin, 'metronome', 'tick')
  expect(fires.length).toBeGreaterThan(3)
  expect(fires.map((fire) => fire.at)).toEqual(contiguous(fires, 1_000))
  const rows = await query(
    admin,
    'metronome',
    "SELECT count(*) AS n FROM ledger WHERE entry = 'tick'",
  )
  expect(rows[0].n).toBe(fires.length)
  expect(
    replicators.mostOnOneReplica,
    `replicators on one tenant at once: ${replicators.crowded}`,
  ).toBe(1)
})

// What it catches: a tenant that slept through its fire times (the control plane was down)
// and, at its next wake, starts them other than as `catchUp` says.
test('fires missed while the server was down start on wake as catchUp says', async () => {
  const first = await start()
  await createTenant(first.admin, 'sleepy')
  for (const catchUp of ['all', 'latest'] as const) {
    await first.admin.createSchedule('sleepy', {
      id: catchUp,
      cron: '*/2 * * * * *',
      workflow: 'write',
      input: { entry: catchUp },
      overlap: 'allow',
      catchUp,
    })
  }
  await first.admin.hibernateTenant('sleepy')
  const downAt = Date.now()
  await first.stop()
  await new Promise((resolve) => setTimeout(resolve, 9_000))
  const { admin } = await start(first.dataDir)
  await waitFor(async () => (await admin.getTenant('sleepy')).state === 'active', {
    timeoutMs: 60_000,
    what: 'the scheduler to wake the tenant',
  })
  const all = await allFinished(admin, 'sleepy', 'all')
  const wokeAt = Date.now()
  for (const id of ['all', 'latest']) await admin.pauseSchedule('sleepy', id)
  // `all`: every fire from the first one missed on (or an earlier one, if the schedule fired
  // before the hibernation), two seconds apart, none skipped.
  expect(all[0]!.at).toBeLessThan(downAt + 2_000)
  expect(all.map((fire) => fire.at)).toEqual(contiguous(all, 2_000))
  expect(all.length).toBeGreaterThanOrEqual(5)
  // `latest`: of the missed ones only the most recent, then on time again.
  const latest = await allFinished(admin, 'sleepy', 'latest')
  expect(latest.length).toBeLessThan(all.length - 2)
  expect(latest.at(-1)!.at).toBeLessThanOrEqual(wokeAt)
  const missedByLatest = all.filter((fire) => fire.at > downAt && fire.at < latest[0]!.at)
  expect(missedByLatest.length).toBeGreaterThanOrEqual(3)
})
