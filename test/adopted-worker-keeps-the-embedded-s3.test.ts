/**
 * With the embedded S3 server (no storage configured) a control plane that dies leaves its
 * workers running; the next one on the same data folder adopts them. Their Litestream was
 * given the server's endpoint at launch, so the next control plane must serve S3 on the same
 * port (it remembers it in the data folder). The drill: a tenant active, the control plane
 * SIGKILLed, a new one started on the same folder; a run lands on the adopted worker, then a
 * verified hibernation — which proves by a restore from S3 that the replica holds the run —
 * and a wake that finds both runs.
 *
 * Catches: an embedded S3 server that comes back on a new port (the adopted worker's
 * Litestream can no longer upload: its hibernation cannot be verified, or loses the run).
 */
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { freePort, isAlive, tempDir } from '@litecell/testkit'
import { startTestServer, type TestServer } from '@litecell/testkit/e2e'

const workDir = tempDir('e2e')
const dataDir = join(workDir, 'data')
const servers: TestServer[] = []

afterAll(async () => {
  for (const server of servers.reverse()) {
    await server.stop()
    await server.family.killAllAndWait()
  }
  if (!process.env.LITECELL_KEEP_DATA) rmSync(workDir, { recursive: true, force: true })
})

function start(port: number): Promise<TestServer> {
  return startTestServer({
    dataDir,
    port,
    env: { LITECELL_IDLE_MS: '120000', LITECELL_LEASE_TTL_MS: '30000' },
  }).then((server) => (servers.push(server), server))
}

function s3Endpoints(): string[] {
  const log = readFileSync(join(dataDir, 'logs', 'control-plane.log'), 'utf8')
  return [...log.matchAll(/"endpoint":"(http:\/\/[^"]+)","msg":"embedded S3 started"/g)].map(
    (m) => m[1]!,
  )
}

test('a control plane restarted on the same folder serves its embedded S3 where its adopted workers replicate', async () => {
  const port = await freePort()
  const first = await start(port)
  await first.admin.createTenant({ id: 'kept', app: 'test' })
  const one = await first.admin.startRun('kept', { workflow: 'quick', input: { n: 1 } })
  expect((await first.admin.runResult('kept', one.runId, { waitMs: 30_000 })).status).toBe(
    'succeeded',
  )
  const worker = (await first.admin.get<any>('/v1/tenants/kept')).worker as { pid: number }

  await first.stop({ signal: 'SIGKILL' })
  await new Promise((resolve) => setTimeout(resolve, 500))
  expect(isAlive(worker.pid), 'the worker outlived its control plane').toBe(true)

  const second = await start(port)
  const [before, after] = s3Endpoints()
  expect(after).toBe(before)
  const two = await second.admin.startRun('kept', { workflow: 'quick', input: { n: 2 } })
  expect((await second.admin.runResult('kept', two.runId, { waitMs: 30_000 })).status).toBe(
    'succeeded',
  )
  expect((await second.admin.get<any>('/v1/tenants/kept')).worker?.pid).toBe(worker.pid)

  expect((await second.admin.hibernateTenant('kept')).state).toBe('hibernated')
  await second.admin.wakeTenant('kept')
  for (const { runId } of [one, two]) {
    expect((await second.admin.getRun('kept', runId)).status).toBe('succeeded')
  }
}, 180_000)
