import { afterEach, expect, test } from 'vitest'
import type { ApiClient } from './support/api-client.js'
import { removeDataDir, startServer, type TestServer } from './support/server.js'
import { createTenant } from './support/tenant.js'
import { waitFor } from './support/wait-for.js'

let servers: TestServer[] = []

afterEach(async () => {
  for (const server of servers) await server.stop()
  for (const dataDir of new Set(servers.map((server) => server.dataDir)))
    await removeDataDir(dataDir)
  servers = []
})

async function start(dataDir?: string): Promise<TestServer> {
  const server = await startServer(dataDir === undefined ? {} : { dataDir })
  servers.push(server)
  return server
}

/** The fire times of a schedule's runs (from their idempotency keys), oldest first, and their statuses. */
async function firedRuns(
  admin: ApiClient,
  tenant: string,
  schedule: string,
): Promise<{ at: number; status: string }[]> {
  const prefix = `schedule:${schedule}:`
  const { rows } = await admin.ok('POST', `/v1/tenants/${tenant}/query`, {
    sql: 'SELECT idempotency_key AS key, status FROM lc_runs WHERE idempotency_key LIKE ? ORDER BY idempotency_key',
    args: [`${prefix}%`],
  })
  return rows.map((row: { key: string; status: string }) => ({
    at: Date.parse(row.key.slice(prefix.length)),
    status: row.status,
  }))
}

function everySecondFrom(fires: { at: number }[], stepMs: number): number[] {
  const first = fires[0]?.at ?? 0
  return fires.map((_, i) => first + i * stepMs)
}

// What it catches: a fire lost or started twice when its worker dies (the run and the
// schedule's cursor must commit together, and a fire's key must be the same in every process).
test('a schedule starts exactly one run per fire time across SIGKILLs of its worker', async () => {
  const { admin } = await start()
  await createTenant(admin, 'metronome')
  await admin.ok('POST', '/v1/tenants/metronome/schedules', {
    id: 'tick',
    cron: '* * * * * *',
    workflow: 'write',
    input: { entry: 'tick' },
    overlap: 'allow',
    catchUp: 'all',
  })
  for (let kill = 0; kill < 3; kill++) {
    const pid = await waitFor(
      async () => (await admin.ok('GET', '/v1/tenants/metronome')).worker?.pid,
    )
    await new Promise((resolve) => setTimeout(resolve, 1_000 + Math.floor(Math.random() * 1_500)))
    process.kill(pid, 'SIGKILL')
    // The control plane restarts a crashed worker after a backoff; catch-up `all` owes the
    // fires it missed meanwhile.
    await waitFor(
      async () => {
        const tenant = await admin.ok('GET', '/v1/tenants/metronome')
        return tenant.state === 'active' && tenant.worker?.pid !== pid
      },
      { timeoutMs: 60_000, what: 'a new worker after the kill' },
    )
  }
  await admin.ok('POST', '/v1/tenants/metronome/schedules/tick/pause')
  const fires = await waitFor(
    async () => {
      const runs = await firedRuns(admin, 'metronome', 'tick')
      return runs.every((run) => run.status === 'succeeded') ? runs : undefined
    },
    { timeoutMs: 30_000, what: 'every fired run to finish' },
  )
  expect(fires.length).toBeGreaterThan(3)
  expect(fires.map((fire) => fire.at)).toEqual(everySecondFrom(fires, 1_000))
  const { rows } = await admin.ok('POST', '/v1/tenants/metronome/query', {
    sql: "SELECT count(*) AS n FROM ledger WHERE entry = 'tick'",
  })
  expect(rows[0].n).toBe(fires.length)
})

// What it catches: a tenant that slept through its fire times (the control plane was down)
// and, at its next wake, starts them other than as `catchUp` says.
test('fires missed while the server was down start on wake as catchUp says', async () => {
  const first = await start()
  await createTenant(first.admin, 'sleepy')
  for (const catchUp of ['all', 'latest', 'none']) {
    await first.admin.ok('POST', '/v1/tenants/sleepy/schedules', {
      id: catchUp,
      cron: '*/2 * * * * *',
      workflow: 'write',
      input: { entry: catchUp },
      overlap: 'allow',
      catchUp,
    })
  }
  await first.admin.ok('POST', '/v1/tenants/sleepy/hibernate')
  const downAt = Date.now()
  await first.stop()
  await new Promise((resolve) => setTimeout(resolve, 9_000))
  const { admin } = await start(first.dataDir)
  const all = await waitFor(
    async () => {
      const tenant = await admin.ok('GET', '/v1/tenants/sleepy')
      if (tenant.state !== 'active') return undefined
      const runs = await firedRuns(admin, 'sleepy', 'all')
      return runs.length > 0 && runs.every((run) => run.status === 'succeeded') ? runs : undefined
    },
    { timeoutMs: 60_000, what: 'the scheduler to wake the tenant and the missed fires to run' },
  )
  const wokeAt = Date.now()
  for (const id of ['all', 'latest', 'none'])
    await admin.ok('POST', `/v1/tenants/sleepy/schedules/${id}/pause`)
  // `all`: every fire from the first one missed on (or an earlier one, if the schedule fired
  // before the hibernation), two seconds apart, none skipped.
  expect(all[0]!.at).toBeLessThan(downAt + 2_000)
  expect(all.map((fire) => fire.at)).toEqual(everySecondFrom(all, 2_000))
  expect(all.length).toBeGreaterThanOrEqual(5)
  // `latest`: the most recent missed fire, then on time again; `none` started them only when
  // they were at most a minute late: here that is every one (the server was down 9 s).
  const latest = await firedRuns(admin, 'sleepy', 'latest')
  expect(latest.length).toBeLessThan(all.length)
  expect(latest[0]!.at).toBeGreaterThan(all[0]!.at)
  expect(latest.at(-1)!.at).toBeLessThanOrEqual(wokeAt)
  const none = await firedRuns(admin, 'sleepy', 'none')
  expect(none[0]!.at).toBeLessThanOrEqual(latest[0]!.at)
})
