/**
 * Issue 15 item 2: an app that does not load is found at `litecell serve`'s start, with the
 * module's own error, and an app that stops loading later fails its tenant's wake as
 * `APP_LOAD_FAILED` (the error text in the response, a retry hint), without counting as the
 * tenant's crash. Catches: serve starting with a broken app (the error then only shows at a
 * wake, in a log file); a wake answering WORKER_START_FAILED "see logs/…"; the tenant crash-
 * looped (restarted with backoff, crash counter up) for what is the app's fault.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { removeTempDirs, tempDir } from '@litecell/testkit'
import { runCli } from '@litecell/testkit/cli'
import { TEST_APP_PATH, useServer } from '@litecell/testkit/e2e'

const apps = tempDir('app-load')
afterAll(() => removeTempDirs())

/** A copy of the test app that the test breaks and mends. */
const FLAKY_APP = join(apps, 'flaky-app.ts')
copyFileSync(TEST_APP_PATH, FLAKY_APP)
/** Fails to compile: the error names this file and line. */
const SYNTAX_ERROR = 'export default {\n  workflows: {\n    quick: async (ctx: any) => ctx.step(\n'

// No standby worker: each wake loads the app in a fresh process, as after a code change.
const server = useServer({
  env: {
    LITECELL_STANDBY_WORKERS: '0',
    LITECELL_IDLE_MS: '600000',
    LITECELL_APPS: `test=${TEST_APP_PATH},flaky=${FLAKY_APP}`,
  },
})

test('serve refuses to start when an app does not load, with the module error', async () => {
  const broken = join(apps, 'broken-syntax.ts')
  writeFileSync(broken, SYNTAX_ERROR)
  const cwd = join(apps, 'serve-here')
  mkdirSync(cwd)
  const result = await runCli(['serve'], {
    cwd,
    env: {
      LITECELL_PORT: '0',
      LITECELL_DATA_DIR: join(cwd, 'data'),
      LITECELL_APPS: `good=${TEST_APP_PATH},bad=${broken}`,
      LITECELL_ADMIN_TOKEN: 'lca_app-load-test',
    },
  })
  expect(result.code, result.stderr).toBe(1)
  expect(result.stdout).not.toContain('listening')
  expect(result.stderr).toContain('litecell: app `bad` does not load: load app ' + broken)
  // The compiler's own words, with the file and line.
  expect(result.stderr).toMatch(/broken-syntax\.ts:\d+:\d+/)
  expect(result.stderr).not.toContain('app `good`')
  expect(result.stderr).not.toContain('NodeVersionSupportWarning')
})

test('a wake whose app no longer loads is APP_LOAD_FAILED with the error text, not a crash', async () => {
  const admin = server.admin
  await admin.createTenant({ id: 'flaky', app: 'flaky' })
  const { runId } = await admin.startRun('flaky', { workflow: 'quick', input: { n: 1 } })
  expect((await admin.runResult('flaky', runId, { waitMs: 30_000 })).status).toBe('succeeded')
  await admin.hibernateTenant('flaky')
  const crashesBefore = crashCount(await admin.metrics())

  writeFileSync(FLAKY_APP, SYNTAX_ERROR)
  const refused = await admin.send<any>('POST', '/v1/tenants/flaky/runs', {
    body: { workflow: 'quick', input: { n: 2 } },
  })
  expect(refused.status).toBe(503)
  expect(refused.body.error.code).toBe('APP_LOAD_FAILED')
  const message: string = refused.body.error.message
  expect(message).toContain('app `flaky` does not load: load app ' + FLAKY_APP)
  expect(message).toMatch(/flaky-app\.ts:\d+:\d+/)
  expect(message).toContain('retry with `litecell tenants wake flaky`')
  expect(message).not.toContain('logs/')

  const tenant = await admin.getTenant('flaky')
  expect(tenant.state).toBe('failed')
  expect(tenant.failureReason).toContain('litecell tenants wake flaky')
  expect(crashCount(await admin.metrics())).toBe(crashesBefore)
  // Later requests say why, without launching a worker each time.
  const later = await admin.send<any>('GET', '/v1/tenants/flaky/runs')
  expect(later.status).toBe(503)
  expect(later.body.error.message).toContain('does not load')

  copyFileSync(TEST_APP_PATH, FLAKY_APP)
  expect((await admin.wakeTenant('flaky')).state).toBe('active')
  const after = await admin.startRun('flaky', { workflow: 'quick', input: { n: 3 } })
  expect((await admin.runResult('flaky', after.runId, { waitMs: 30_000 })).output).toBe(4)
})

function crashCount(metrics: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith('litecell_worker_crashes_total'))
  return Number(line?.split(' ').at(-1) ?? 0)
}
