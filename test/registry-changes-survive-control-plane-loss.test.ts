/**
 * The registry is replicated-acknowledged (issue 11): a tenant's creation, deletion and app
 * upgrade answer only once the registry change is in S3. The drill: create a tenant, run a
 * workflow in it, delete it while creating another, upgrade a third to another app, and SIGKILL
 * the control plane (and everything it started) right after they answered; then wipe
 * everything but S3 (the data directory: registry, tenant files, logs) and start a new control
 * plane on the same S3. It restores the registry from S3: the deleted tenant stays gone and its
 * token is refused, the created one is there and its token works, the upgraded one runs the
 * app it was upgraded to.
 *
 * Catches: a registry change answered before S3 holds it (the deleted tenant comes back with
 * its old token, the created tenant is missing while its replica sits orphaned in S3, or the
 * upgraded tenant is back on its old app while its file may already record the new one).
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { LitecellClient } from '@litecell/client'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { startEmbeddedS3, type EmbeddedS3 } from '@litecell/replica'
import { tempDir } from '@litecell/testkit'
import { TEST_ADMIN_TOKEN, TEST_APP_PATH, startTestServer, type TestServer } from '@litecell/testkit/e2e'

let s3: EmbeddedS3
let workDir = ''
const servers: TestServer[] = []

beforeAll(async () => {
  workDir = tempDir('e2e')
  s3 = await startEmbeddedS3({ dir: join(workDir, 's3'), port: 0 })
})

afterAll(async () => {
  for (const server of servers) {
    await server.stop()
    if (!process.env.LITECELL_KEEP_DATA) await server.removeDataDir()
  }
  await s3?.stop()
  if (workDir) rmSync(workDir, { recursive: true, force: true })
})

function start(): Promise<TestServer> {
  return startTestServer({
    adminToken: TEST_ADMIN_TOKEN,
    env: {
      LITECELL_S3_ENDPOINT: s3.endpoint,
      LITECELL_S3_BUCKET: 'litecell',
      LITECELL_S3_PREFIX: 'registry-loss',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      LITECELL_IDLE_MS: '120000',
      LITECELL_LEASE_TTL_MS: '30000',
      // A long registry sync interval widens the window a premature answer would fall into.
      LITECELL_REGISTRY_SYNC_INTERVAL_MS: '1000',
      // The same code under a second name: what an upgrade switches to.
      LITECELL_APPS: `test=${TEST_APP_PATH},renamed=${TEST_APP_PATH}`,
    },
  }).then((server) => (servers.push(server), server))
}

test('a tenant deleted, created or upgraded right before the control plane is lost stays so: its token refused or accepted, its new app kept', async () => {
  const phases: Record<string, number> = {}
  let phaseStart = Date.now()
  const phase = (name: string) => {
    phases[name] = Date.now() - phaseStart
    phaseStart = Date.now()
  }
  const first = await start()
  phase('start')
  const admin = first.admin
  const doomed = await admin.createTenant({ id: 'doomed', app: 'test' })
  await admin.createTenant({ id: 'upgraded', app: 'test' })
  const { runId } = await admin.startRun('doomed', { workflow: 'quick', input: { n: 1 } })
  expect((await admin.runResult('doomed', runId, { waitMs: 30_000 })).status).toBe('succeeded')
  const [deleted, fresh] = await Promise.all([
    admin.send('DELETE', '/v1/tenants/doomed'),
    admin.createTenant({ id: 'fresh', app: 'test' }),
  ])
  expect(deleted.status).toBe(200)
  expect(await admin.upgradeTenant('upgraded', { app: 'renamed' })).toMatchObject({ app: 'renamed', state: 'active' })
  phase('run, delete, create and upgrade')
  // The machine goes right after the last answer: the server and everything it started.
  await first.stop({ timeoutMs: 0 })
  rmSync(first.dataDir, { recursive: true, force: true })

  phase('loss')
  const second = await start()
  phase('restart from S3')
  const gone = await second.admin.send<any>('GET', '/v1/tenants/doomed')
  expect(gone.status).toBe(404)
  const withOldToken = new LitecellClient({ baseUrl: second.url, token: doomed.token })
  const refused = await withOldToken.send<any>('GET', '/v1/tenants/doomed/runs')
  expect([401, 403, 404]).toContain(refused.status)

  expect((await second.admin.getTenant('fresh')).id).toBe('fresh')
  const asFresh = new LitecellClient({ baseUrl: second.url, token: fresh.token })
  const started = await asFresh.startRun('fresh', { workflow: 'quick', input: { n: 41 } })
  expect((await asFresh.runResult('fresh', started.runId, { waitMs: 30_000 })).output).toBe(42)

  expect((await second.admin.getTenant('upgraded')).app).toBe('renamed')
  const onNewApp = await second.admin.startRun('upgraded', { workflow: 'quick', input: { n: 1 } })
  expect((await second.admin.runResult('upgraded', onNewApp.runId, { waitMs: 30_000 })).status).toBe('succeeded')
  phase('checks')
  console.log(JSON.stringify({ registryLossPhasesMs: phases }))
}, 300_000)
