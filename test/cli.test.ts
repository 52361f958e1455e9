import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { tempDir } from '@litecell/testkit'
import { runCli, type CliResult } from '@litecell/testkit/cli'
import { createTenant, query, useServer } from '@litecell/testkit/e2e'

// Tenants stay active between the CLI calls of a test (each call is a process start).
const server = useServer({ env: { LITECELL_IDLE_MS: '600000' } })
const scratch = tempDir('cli')
/** A data dir without an admin-token file, so no test picks up a developer's local token. */
const emptyDataDir = join(scratch, 'no-data-dir')
/** Where the commands run: a folder of the user's, not the repository. */
const workDir = join(scratch, 'work')
mkdirSync(workDir)
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/**
 * Runs the built `litecell` command (the bin, as installed) as a child process in
 * {@link workDir} against the test server, with the admin token unless `token` says otherwise
 * (`null`: no token at all).
 */
function cli(
  args: readonly string[],
  options: { token?: string | null; env?: Record<string, string>; stdin?: string; cwd?: string } = {},
): Promise<CliResult> {
  return runCli(args, {
    cwd: options.cwd ?? workDir,
    env: {
      LITECELL_URL: server.url,
      LITECELL_DATA_DIR: emptyDataDir,
      LITECELL_TOKEN: options.token === null ? undefined : (options.token ?? server.adminToken),
      ...options.env,
    },
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
  })
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((listening) => probe.listen(0, '127.0.0.1', listening))
  const { port } = probe.address() as AddressInfo
  await new Promise((closed) => probe.close(closed))
  return port
}

/** The CLI's stderr must be exactly one `litecell: …` line: no stack trace, no noise. */
function expectOneErrorLine(result: CliResult, pattern: RegExp): void {
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines, result.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^litecell: /)
  expect(lines[0]).toMatch(pattern)
  expect(result.stdout).toBe('')
}

describe('help and usage', () => {
  test('--help lists the command groups and documents the exit codes', async () => {
    const result = await cli(['--help'])
    expect(result.code).toBe(0)
    for (const word of [
      'serve',
      'tenants',
      'runs',
      'query',
      'snapshot',
      '--json',
      'Exit codes',
      'LITECELL_URL',
    ]) {
      expect(result.stdout).toContain(word)
    }
    expect(result.stdout).toMatch(/3 +not found/)
    expect(result.stdout).toMatch(/4 +auth/)
  })

  test('bad usage exits 2: unknown command, missing argument, input that is not JSON', async () => {
    expect((await cli(['tenantz'])).code).toBe(2)
    const missing = await cli(['runs', 'show', 'only-tenant'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^litecell: missing required argument 'run'/)
    const badJson = await cli(['runs', 'start', 'x', 'quick', '{n:'])
    expect(badJson.code).toBe(2)
    expectOneErrorLine(badJson, /Expected input to be JSON, got `\{n:`/)
    const badLimit = await cli(['runs', 'list', 'x', '--limit', 'ten'])
    expect(badLimit.code).toBe(2)
  })
})

describe('tenants', () => {
  test('create prints the token once; --json prints {id, token, state}', async () => {
    const human = await cli([
      'tenants',
      'create',
      'cli-a',
      '--app',
      'test',
      '--label',
      'team=ml',
      '--label',
      'env=dev',
    ])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/created tenant cli-a \(hibernated\)/)
    expect(human.stdout).toMatch(/token \(shown only this once/)
    expect(human.stdout).toMatch(/^ {2}lct_\S+$/m)

    const json = await cli(['--json', 'tenants', 'create', 'cli-b', '--app', 'test'])
    expect(json.code).toBe(0)
    expect(json.json).toEqual({
      id: 'cli-b',
      token: expect.stringMatching(/^lct_/),
      state: 'hibernated',
    })
  })

  test('list shows a table, --json the API body (flag after the command works too)', async () => {
    const human = await cli(['tenants', 'list'])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^ID +APP +STATE +LABELS/)
    expect(human.stdout).toMatch(/^cli-a +test +\w+ +team=ml,env=dev/m)

    const json = await cli(['tenants', 'list', '--json'])
    expect(json.code).toBe(0)
    const tenant = json.json.tenants.find((t: any) => t.id === 'cli-a')
    expect(tenant).toMatchObject({ id: 'cli-a', app: 'test', labels: { team: 'ml', env: 'dev' } })
    expect(tenant.state).toEqual(expect.any(String))
  })

  test('wake and hibernate report the new state; show includes worker and restore points', async () => {
    const woken = await cli(['--json', 'tenants', 'wake', 'cli-a'])
    expect(woken.code).toBe(0)
    expect(woken.json).toMatchObject({
      id: 'cli-a',
      state: 'active',
      worker: { pid: expect.any(Number) },
    })

    const shown = await cli(['tenants', 'show', 'cli-a'])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toMatch(/^state: +active$/m)
    expect(shown.stdout).toMatch(/^worker: +pid \d+, epoch \d+/m)
    expect(shown.stdout).toMatch(/^restore points: /m)

    const shownJson = await cli(['--json', 'tenants', 'show', 'cli-a'])
    expect(shownJson.json).toMatchObject({
      id: 'cli-a',
      state: 'active',
      replica: expect.any(Object),
    })

    const hibernated = await cli(['tenants', 'hibernate', 'cli-a'])
    expect(hibernated.code).toBe(0)
    expect(hibernated.stdout).toMatch(/^tenant cli-a: hibernated \(/)
  })

  test('query prints rows as a table (also as a top-level alias); --json prints {columns, rows, truncated}', async () => {
    await createTenant(server.admin, 'cli-q')
    const { runIds } = await server.admin.post<any>('/v1/tenants/cli-q/runs/batch', {
      runs: ['alpha', 'beta'].map((entry) => ({ workflow: 'write', input: { entry } })),
    })
    for (const runId of runIds)
      await server.admin.get<any>(`/v1/tenants/cli-q/runs/${runId}/result?waitMs=30000`)

    const human = await cli([
      'tenants',
      'query',
      'cli-q',
      'SELECT entry FROM ledger ORDER BY entry',
    ])
    expect(human.code).toBe(0)
    expect(human.stdout.split('\n').map((line) => line.trim())).toEqual([
      'ENTRY',
      'alpha',
      'beta',
      '',
    ])
    expect(human.stderr).toContain('(2 rows)')

    const json = await cli([
      '--json',
      'query',
      'cli-q',
      'SELECT entry FROM ledger WHERE entry = ?',
      '--args',
      '["beta"]',
    ])
    expect(json.code).toBe(0)
    expect(json.json).toEqual({ columns: ['entry'], rows: [{ entry: 'beta' }], truncated: false })

    const write = await cli(['query', 'cli-q', 'DELETE FROM ledger'])
    expect(write.code).toBe(1)
    expectOneErrorLine(write, /^litecell: 400 QUERY_NOT_READ_ONLY: /)
  })

  test('snapshot streams a consistent SQLite file to -o, replacing it atomically', async () => {
    const target = join(scratch, 'cli-q.db')
    writeFileSync(target, 'old contents')
    const human = await cli(['tenants', 'snapshot', 'cli-q', '-o', target])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^wrote .+ snapshot of cli-q to /)
    expect(readFileSync(target).subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0')
    expect(readdirSync(scratch).filter((name) => name.includes('partial'))).toEqual([])

    const json = await cli(['--json', 'snapshot', 'cli-q', '-o', join(scratch, 'again.db')])
    expect(json.code).toBe(0)
    expect(json.json).toEqual({
      tenant: 'cli-q',
      path: join(scratch, 'again.db'),
      bytes: expect.any(Number),
    })
    expect(json.json.bytes).toBe(readFileSync(join(scratch, 'again.db')).length)
  })

  test('fork makes a new tenant with its own token and the source state', async () => {
    const forked = await cli(['--json', 'tenants', 'fork', 'cli-q', 'cli-q-fork'])
    expect(forked.code).toBe(0)
    expect(forked.json).toEqual({
      id: 'cli-q-fork',
      token: expect.stringMatching(/^lct_/),
      state: expect.any(String),
    })
    const rows = await query(server.admin, 'cli-q-fork', 'SELECT entry FROM ledger ORDER BY entry')
    expect(rows.map((row) => row.entry)).toEqual(['alpha', 'beta'])

    const badAt = await cli(['tenants', 'fork', 'cli-q', 'x', '--at', 'yesterday'])
    expect(badAt.code).toBe(2)
  })

  test('delete refuses without --yes when stdin is not a terminal, and deletes with it', async () => {
    const refused = await cli(['tenants', 'delete', 'cli-q-fork'])
    expect(refused.code).toBe(2)
    expectOneErrorLine(refused, /refusing without --yes \(stdin is not a terminal\)/)
    expect((await server.admin.send<any>('GET', '/v1/tenants/cli-q-fork')).status).toBe(200)

    const deleted = await cli(['--json', 'tenants', 'delete', 'cli-q-fork', '--yes'])
    expect(deleted.code).toBe(0)
    expect(deleted.json).toEqual({ id: 'cli-q-fork', deleted: true })
    expect((await server.admin.send<any>('GET', '/v1/tenants/cli-q-fork')).status).toBe(404)
  })
})

describe('runs', () => {
  beforeAll(async () => {
    await createTenant(server.admin, 'cli-r')
  })

  test('start prints the run id; --wait prints the output; --json shapes are the API bodies', async () => {
    const started = await cli(['runs', 'start', 'cli-r', 'quick', '{"n": 1}'])
    expect(started.code).toBe(0)
    expect(started.stdout).toMatch(/^started run \S+ \((pending|running|succeeded)\)$/m)

    const json = await cli(['--json', 'runs', 'start', 'cli-r', 'quick', '{"n": 2}'])
    expect(json.json).toEqual({ runId: expect.any(String), status: expect.any(String) })

    const waited = await cli(['runs', 'start', 'cli-r', 'quick', '{"n": 41}', '--wait'])
    expect(waited.code).toBe(0)
    expect(waited.stdout).toMatch(/^run \S+ succeeded in /m)
    expect(waited.stdout).toMatch(/^output: 42$/m)

    const inputFile = join(scratch, 'input.json')
    writeFileSync(inputFile, '{"n": 9}')
    const fromFile = await cli([
      '--json',
      'runs',
      'start',
      'cli-r',
      'quick',
      '--input-file',
      inputFile,
      '--wait',
    ])
    expect(fromFile.code).toBe(0)
    expect(fromFile.json).toMatchObject({
      workflow: 'quick',
      status: 'succeeded',
      input: { n: 9 },
      output: 10,
    })
  })

  test('start --wait exits 5 and prints the error when the run fails', async () => {
    const failed = await cli(['runs', 'start', 'cli-r', 'write', '{"entry": null}', '--wait'])
    expect(failed.code).toBe(5)
    expect(failed.stdout).toMatch(/^run \S+ failed after \S+: TerminalError: .*NOT NULL/m)
    const json = await cli([
      '--json',
      'runs',
      'start',
      'cli-r',
      'write',
      '{"entry": null}',
      '--wait',
    ])
    expect(json.code).toBe(5)
    expect(json.json).toMatchObject({ status: 'failed', error: { name: 'TerminalError' } })
  })

  test('the same --idempotency-key starts the same run', async () => {
    const args = [
      '--json',
      'runs',
      'start',
      'cli-r',
      'quick',
      '{"n": 5}',
      '--idempotency-key',
      'once',
    ]
    const first = await cli(args)
    const second = await cli(args)
    expect(second.json.runId).toBe(first.json.runId)
  })

  test('list shows runs newest first with filters; --json is {runs, nextCursor}', async () => {
    const json = await cli([
      '--json',
      'runs',
      'list',
      'cli-r',
      '--workflow',
      'quick',
      '--limit',
      '2',
    ])
    expect(json.code).toBe(0)
    expect(json.json.runs).toHaveLength(2)
    expect(json.json.runs[0]).toMatchObject({ runId: expect.any(String), workflow: 'quick' })
    expect(json.json.nextCursor).toEqual(expect.any(String))

    const next = await cli([
      '--json',
      'runs',
      'list',
      'cli-r',
      '--limit',
      '2',
      '--cursor',
      json.json.nextCursor,
    ])
    expect(next.json.runs[0].runId).not.toBe(json.json.runs[0].runId)

    const human = await cli(['runs', 'list', 'cli-r', '--status', 'succeeded'])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^RUN +WORKFLOW +STATUS +CREATED +UPDATED/)
    expect(human.stdout).toMatch(/ quick +succeeded /)
  })

  test('show prints the run and its steps as a timeline', async () => {
    const started = await cli([
      '--json',
      'runs',
      'start',
      'cli-r',
      'counted',
      '{"tenant": "cli-r", "slowMs": 200}',
      '--wait',
    ])
    expect(started.json.status).toBe('succeeded')
    const runId = started.json.runId

    const human = await cli(['runs', 'show', 'cli-r', runId])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^status: +succeeded$/m)
    expect(human.stdout).toMatch(/^SEQ +NAME +STATUS +ATTEMPTS +DURATION +TIMELINE$/m)
    expect(human.stdout).toMatch(/^1 +first +succeeded +1 +\S+ +█/m)
    expect(human.stdout).toMatch(/^3 +slow +succeeded +1 +\d+ms +\s*█+$/m)

    const json = await cli(['--json', 'runs', 'show', 'cli-r', runId])
    expect(json.json).toMatchObject({
      runId,
      workflow: 'counted',
      status: 'succeeded',
      output: { done: runId },
    })
    expect(json.json.steps.map((step: any) => step.name)).toEqual(['first', 'ledger', 'slow'])
  })

  test('wait exits 6 on timeout and 5 for a cancelled run; cancel, resume and event steer a run', async () => {
    const started = await cli(['--json', 'runs', 'start', 'cli-r', 'sleeper', '{"ms": 600000}'])
    const runId = started.json.runId

    const timedOut = await cli(['runs', 'wait', 'cli-r', runId, '--timeout-ms', '300'])
    expect(timedOut.code).toBe(6)
    expect(timedOut.stdout).toMatch(/still (pending|running|sleeping)/)
    expect(timedOut.stderr).toMatch(/^litecell: timed out after 300ms waiting for run /)

    const event = await cli(['--json', 'runs', 'event', 'cli-r', runId, 'approve', '{"ok": true}'])
    expect(event.code).toBe(0)
    expect(event.json).toEqual({ delivered: true })

    const cancelled = await cli(['--json', 'runs', 'cancel', 'cli-r', runId])
    expect(cancelled.code).toBe(0)
    expect(cancelled.json).toMatchObject({ runId, status: 'cancelled' })

    const waited = await cli(['runs', 'wait', 'cli-r', runId])
    expect(waited.code).toBe(5)
    expect(waited.stdout).toMatch(/cancelled/)
    const waitedJson = await cli(['--json', 'runs', 'wait', 'cli-r', runId])
    expect(waitedJson.code).toBe(5)
    expect(waitedJson.json).toMatchObject({ runId, status: 'cancelled' })

    const again = await cli(['runs', 'cancel', 'cli-r', runId])
    expect(again.code).toBe(1)
    expectOneErrorLine(again, /^litecell: 409 INVALID_STATE: /)

    const resumed = await cli(['runs', 'resume', 'cli-r', runId])
    expect(resumed.code).toBe(0)
    expect(resumed.stdout).toMatch(new RegExp(`^run ${runId}: (pending|running|sleeping)$`, 'm'))
    await cli(['runs', 'cancel', 'cli-r', runId])
  })

  test('fork --from-step starts a new run that reuses the earlier steps', async () => {
    const started = await cli(['--json', 'runs', 'start', 'cli-r', 'quick', '{"n": 7}', '--wait'])
    const forked = await cli([
      '--json',
      'runs',
      'fork',
      'cli-r',
      started.json.runId,
      '--from-step',
      '1',
    ])
    expect(forked.code).toBe(0)
    expect(forked.json).toEqual({ runId: expect.any(String) })
    expect(forked.json.runId).not.toBe(started.json.runId)
    const waited = await cli(['--json', 'runs', 'wait', 'cli-r', forked.json.runId])
    expect(waited.json).toMatchObject({ status: 'succeeded', output: 8 })

    expect((await cli(['runs', 'fork', 'cli-r', started.json.runId])).code).toBe(2)
  })
})

describe('runs batch', () => {
  beforeAll(async () => {
    await createTenant(server.admin, 'cli-batch')
  })

  test('streams a JSONL file in chunks and waits for every run', async () => {
    const file = join(scratch, 'inputs.jsonl')
    const lines = Array.from({ length: 300 }, (_, n) => JSON.stringify({ n }))
    writeFileSync(file, `${lines.slice(0, 150).join('\n')}\n\n${lines.slice(150).join('\n')}\n`)

    const result = await cli([
      '--json',
      'runs',
      'batch',
      'cli-batch',
      'quick',
      '--inputs',
      file,
      '--chunk',
      '64',
    ])
    expect(result.code, result.stderr).toBe(0)
    expect(result.json).toMatchObject({
      tenant: 'cli-batch',
      workflow: 'quick',
      submitted: 300,
      waited: true,
      succeeded: 300,
      failed: 0,
      cancelled: 0,
      failedRunIds: [],
    })
    expect(result.stderr).toBe('')
    const outputs = await query(
      server.admin,
      'cli-batch',
      "SELECT output FROM lc_runs WHERE workflow = 'quick' AND status = 'succeeded' ORDER BY CAST(output AS INTEGER)",
    )
    expect(outputs.map((row) => Number(row.output))).toEqual(
      Array.from({ length: 300 }, (_, n) => n + 1),
    )
  })

  test('without a terminal prints plain progress lines on stderr and a summary line', async () => {
    const file = join(scratch, 'small.jsonl')
    writeFileSync(file, Array.from({ length: 20 }, (_, n) => JSON.stringify({ n })).join('\n'))
    const result = await cli(['runs', 'batch', 'cli-batch', 'quick', '--inputs', file])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(
      /^20 runs of quick on cli-batch in \S+: 20 succeeded, 0 failed, 0 cancelled$/m,
    )
    expect(result.stderr).toMatch(
      /^batch: submitted 20\/20, done 20, failed 0, [\d.]+ runs\/s, ETA /m,
    )

    const noWait = await cli(
      ['--json', 'runs', 'batch', 'cli-batch', 'quick', '--inputs', '-', '--no-wait'],
      {
        stdin: '{"n": 1}\n{"n": 2}\n',
      },
    )
    expect(noWait.code).toBe(0)
    expect(noWait.json).toMatchObject({ submitted: 2, waited: false })
  })

  test('runs that fail make the batch exit 5 and are listed by id', async () => {
    const file = join(scratch, 'mixed.jsonl')
    writeFileSync(file, '{"entry": "ok-1"}\n{"entry": null}\n{"entry": "ok-2"}\n')
    const result = await cli(['--json', 'runs', 'batch', 'cli-batch', 'write', '--inputs', file])
    expect(result.code).toBe(5)
    expect(result.json).toMatchObject({
      submitted: 3,
      succeeded: 2,
      failed: 1,
      failedRunIds: [expect.any(String)],
    })
    const run = await server.admin.get<any>(`/v1/tenants/cli-batch/runs/${result.json.failedRunIds[0]}`)
    expect(run).toMatchObject({ status: 'failed', input: { entry: null } })
  })

  test('a bad JSONL line fails the batch naming the line, before anything is submitted', async () => {
    const before = await query(server.admin, 'cli-batch', 'SELECT count(*) AS n FROM lc_runs')
    const file = join(scratch, 'bad.jsonl')
    writeFileSync(file, '{"n": 1}\n{"n": 2}\n{"n": 3\n{"n": 4}\n')
    const result = await cli([
      'runs',
      'batch',
      'cli-batch',
      'quick',
      '--inputs',
      file,
      '--chunk',
      '1',
    ])
    expect(result.code).toBe(1)
    expectOneErrorLine(
      result,
      new RegExp(`^litecell: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: invalid JSON`),
    )
    const after = await query(server.admin, 'cli-batch', 'SELECT count(*) AS n FROM lc_runs')
    expect(after[0].n).toBe(before[0].n)
  })

  test('an API error names the lines being submitted and keeps its exit code', async () => {
    const file = join(scratch, 'one.jsonl')
    writeFileSync(file, '{"n": 1}\n')
    const unknown = await cli(['runs', 'batch', 'no-such-tenant', 'quick', '--inputs', file])
    expect(unknown.code).toBe(3)
    expectOneErrorLine(unknown, /^litecell: submit lines 1-1 of .+: 404 TENANT_NOT_FOUND: /)
  })

  test('--tag, --priority and --run-timeout-ms apply to every run; runs list --tag filters by them', async () => {
    const file = join(scratch, 'tagged.jsonl')
    writeFileSync(file, '{"n": 1}\n{"n": 2}\n')
    const flags = ['--tag', 'exp=t1', '--tag', 'lr=0.1', '--priority', '-2', '--run-timeout-ms', '60000']
    const result = await cli(['--json', 'runs', 'batch', 'cli-batch', 'quick', '--inputs', file, ...flags])
    expect(result.code, result.stderr).toBe(0)
    expect(result.json).toMatchObject({ submitted: 2, succeeded: 2 })
    const listed = await cli(['--json', 'runs', 'list', 'cli-batch', '--tag', 'exp=t1', '--tag', 'lr=0.1'])
    expect(listed.json.runs).toHaveLength(2)
    expect(listed.json.runs[0]).toMatchObject({
      tags: { exp: 't1', lr: '0.1' },
      priority: -2,
      deadlineAt: expect.any(String),
    })
    const human = await cli(['runs', 'list', 'cli-batch', '--tag', 'exp=t1'])
    expect(human.stdout).toMatch(/^RUN +WORKFLOW +STATUS +CREATED +UPDATED +TAGS/)
    expect(human.stdout).toMatch(/exp=t1, lr=0\.1/)
    const bad = await cli(['runs', 'list', 'cli-batch', '--tag', 'novalue'])
    expect(bad.code).toBe(2)
  })

  test('start --deduplication-id: a second start while the first is unfinished exits 1 naming it', async () => {
    const args = ['runs', 'start', 'cli-batch', 'sleeper', '{"ms": 600000}', '--deduplication-id', 'once']
    const first = await cli(['--json', ...args])
    expect(first.code, first.stderr).toBe(0)
    const second = await cli(args)
    expect(second.code).toBe(1)
    expectOneErrorLine(second, new RegExp(`^litecell: 409 DUPLICATE_RUN: .*${first.json.runId}`))
    await server.admin.cancelRun('cli-batch', first.json.runId)
  })
})

describe('errors and tokens', () => {
  test('404 is one line and exit 3', async () => {
    const result = await cli(['tenants', 'show', 'nope'])
    expect(result.code).toBe(3)
    expectOneErrorLine(result, /^litecell: 404 TENANT_NOT_FOUND: no tenant nope$/)
    const run = await cli(['runs', 'show', 'cli-r', 'no-such-run'])
    expect(run.code).toBe(3)
    expectOneErrorLine(run, /^litecell: 404 RUN_NOT_FOUND: /)
  })

  test('401 (no or bad token) and 403 (tenant token on admin or other tenant routes) are one line and exit 4', async () => {
    const bad = await cli(['tenants', 'list'], { token: 'lca_wrong' })
    expect(bad.code).toBe(4)
    expectOneErrorLine(
      bad,
      /^litecell: 401 UNAUTHENTICATED: .*\(the token came from LITECELL_TOKEN; set LITECELL_TOKEN or pass --token\)$/,
    )

    const none = await cli(['tenants', 'list'], { token: null })
    expect(none.code).toBe(4)
    expectOneErrorLine(none, /^litecell: 401 UNAUTHENTICATED: /)

    const created = await cli(['--json', 'tenants', 'create', 'cli-own', '--app', 'test'])
    const tenantToken = created.json.token as string
    const adminRoute = await cli(['tenants', 'list'], { token: tenantToken })
    expect(adminRoute.code).toBe(4)
    expectOneErrorLine(adminRoute, /^litecell: 403 FORBIDDEN: /)
    const otherTenant = await cli(['runs', 'list', 'cli-r'], { token: tenantToken })
    expect(otherTenant.code).toBe(4)
    expectOneErrorLine(otherTenant, /^litecell: 403 FORBIDDEN: /)

    const own = await cli(['--json', 'runs', 'start', 'cli-own', 'quick', '{"n": 1}', '--wait'], {
      token: tenantToken,
    })
    expect(own.code).toBe(0)
    expect(own.json).toMatchObject({ status: 'succeeded', output: 2 })
  })

  test('400 is one line and exit 1', async () => {
    const result = await cli(['runs', 'start', 'cli-r', 'no-such-workflow'])
    expect(result.code).toBe(1)
    expectOneErrorLine(result, /^litecell: 400 UNKNOWN_WORKFLOW: /)
  })

  test('an unreachable server is one line naming the URL and suggesting pnpm start', async () => {
    const port = await closedPort()
    const result = await cli(['tenants', 'list'], {
      env: { LITECELL_URL: `http://127.0.0.1:${port}` },
    })
    expect(result.code).toBe(1)
    expectOneErrorLine(
      result,
      new RegExp(
        `^litecell: cannot reach http://127\\.0\\.0\\.1:${port} \\(connection refused\\); .*\`pnpm start\``,
      ),
    )
  })

  test('without LITECELL_TOKEN the admin token is read from $LITECELL_DATA_DIR/admin-token; --token wins', async () => {
    const dataDir = join(scratch, 'local-data')
    mkdirSync(dataDir)
    writeFileSync(join(dataDir, 'admin-token'), `${server.adminToken}\n`)
    const fromFile = await cli(['--json', 'tenants', 'list'], {
      token: null,
      env: { LITECELL_DATA_DIR: dataDir },
    })
    expect(fromFile.code).toBe(0)
    expect(fromFile.json.tenants.length).toBeGreaterThan(0)

    const flagWins = await cli(['tenants', 'list', '--token', 'lca_wrong'], {
      env: { LITECELL_DATA_DIR: dataDir },
    })
    expect(flagWins.code).toBe(4)
  })
})

describe('a command, not a repository script (issue 15 items 4-7)', () => {
  beforeAll(async () => {
    await createTenant(server.admin, 'cli-n')
  })

  test('--version and --help work from any folder; help lists logs and runs watch', async () => {
    const version = await cli(['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
    expect((await cli(['--help'])).stdout).toMatch(/^ {2}logs /m)
    expect((await cli(['runs', '--help'])).stdout).toMatch(/^ {2}watch /m)
  })

  test('relative paths mean the folder the command runs in, never the repository', async () => {
    const { runId } = await server.admin.startRun('cli-n', { workflow: 'write', input: { entry: 'x' } })
    await server.admin.waitForResult('cli-n', runId)
    const bare = await cli(['snapshot', 'cli-n'])
    expect(bare.code, bare.stderr).toBe(0)
    expect(readFileSync(join(workDir, 'cli-n.db')).subarray(0, 15).toString()).toBe('SQLite format 3')
    mkdirSync(join(workDir, 'sub'))
    const relative = await cli(['--json', 'snapshot', 'cli-n', '-o', 'sub/copy.db'])
    expect(relative.json.path).toBe(join(workDir, 'sub', 'copy.db'))
    expect(readdirSync(join(workDir, 'sub'))).toEqual(['copy.db'])

    writeFileSync(join(workDir, 'runs.jsonl'), '{"n": 1}\n{"n": 2}\n')
    const batch = await cli(['--json', 'runs', 'batch', 'cli-n', 'quick', '--inputs', 'runs.jsonl'])
    expect(batch.code, batch.stderr).toBe(0)
    expect(batch.json.submitted).toBe(2)
  })

  test('pnpm exec litecell works from a package folder; pnpm litecell keeps the user\'s folder', async () => {
    const repo = join(import.meta.dirname, '..')
    const { spawnSync } = await import('node:child_process')
    const exec = spawnSync('pnpm', ['exec', 'litecell', '--version'], {
      cwd: join(repo, 'packages/engine'),
      encoding: 'utf8',
    })
    expect(exec.status, exec.stderr).toBe(0)
    expect(exec.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
    const script = spawnSync('pnpm', ['--silent', '-C', repo, 'litecell', 'snapshot', 'cli-n', '-o', 'via-pnpm.db'], {
      cwd: workDir,
      encoding: 'utf8',
      env: { ...process.env, LITECELL_URL: server.url, LITECELL_TOKEN: server.adminToken },
    })
    expect(script.status, script.stderr).toBe(0)
    expect(readdirSync(workDir)).toContain('via-pnpm.db')
    expect(readdirSync(repo)).not.toContain('via-pnpm.db')
  })

  test('durations accept 300ms or 5s like ctx.sleep; a bad one is a usage error', async () => {
    const { runId } = await server.admin.startRun('cli-n', { workflow: 'sleeper', input: { ms: 600_000 } })
    const waited = await cli(['runs', 'wait', 'cli-n', runId, '--timeout-ms', '300ms'])
    expect(waited.code).toBe(6)
    expect(waited.stderr).toMatch(/timed out after 300ms/)
    const bad = await cli(['runs', 'wait', 'cli-n', runId, '--timeout-ms', 'soon'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/Expected a duration such as 5s/)
    await server.admin.cancelRun('cli-n', runId)
  })

  test('runs show says what a parked run waits for; a unique prefix names a run', async () => {
    const { runId } = await server.admin.startRun('cli-n', { workflow: 'approval', input: null })
    await server.admin.waitForResult('cli-n', runId, { timeoutMs: 1_000 })
    const prefix = runId.slice(0, 24)
    const shown = await cli(['runs', 'show', 'cli-n', prefix])
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).toMatch(new RegExp(`^run: +${runId}$`, 'm'))
    expect(shown.stdout).toMatch(
      new RegExp(`^waiting for: +event \`approve\`; send it with \`litecell runs event cli-n ${runId} approve\`$`, 'm'),
    )
    const json = await cli(['--json', 'runs', 'show', 'cli-n', prefix])
    expect(json.json.waitingFor).toEqual({ kind: 'event', event: 'approve', timeoutAt: null })
    const sent = await cli(['runs', 'event', 'cli-n', prefix, 'approve', '{"by": "me"}'])
    expect(sent.code).toBe(0)
    const done = await cli(['--json', 'runs', 'wait', 'cli-n', prefix.slice(0, 30)])
    expect(done.json).toMatchObject({ runId, status: 'succeeded', output: { by: 'me' } })
  })

  test('runs batch --json lists every run with its line and final status', async () => {
    writeFileSync(join(workDir, 'mixed.jsonl'), '{"entry": "a"}\n{"entry": null}\n{"entry": "b"}\n')
    const result = await cli(['--json', 'runs', 'batch', 'cli-n', 'write', '--inputs', 'mixed.jsonl'])
    expect(result.code).toBe(5)
    expect(result.json.runs).toEqual([
      { line: 1, runId: expect.any(String), status: 'succeeded' },
      { line: 2, runId: result.json.failedRunIds[0], status: 'failed' },
      { line: 3, runId: expect.any(String), status: 'succeeded' },
    ])
  })

  test('runs watch <run> prints its status changes as they happen and ends with it', async () => {
    const { runId } = await server.admin.startRun('cli-n', { workflow: 'sleeper', input: { ms: 1_500 } })
    const watched = await cli(['runs', 'watch', 'cli-n', runId])
    expect(watched.code, watched.stderr).toBe(0)
    const statuses = watched.stdout.trim().split('\n').map((line) => line.split(/ +/).at(-1))
    expect(statuses.at(-1)).toBe('succeeded')
    expect(statuses).toContain('sleeping')
    expect(watched.stdout).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} +${runId} +sleeper +succeeded$`, 'm'))
    const failed = await server.admin.startRun('cli-n', { workflow: 'write', input: { entry: null } })
    const json = await cli(['--json', 'runs', 'watch', 'cli-n', failed.runId])
    expect(json.code).toBe(5)
    expect(JSON.parse(json.stdout.trim().split('\n').at(-1)!)).toMatchObject({ runId: failed.runId, status: 'failed' })
  })

  test('runs watch <tenant> follows every run until stopped', async () => {
    const stop = new AbortController()
    let seen = ''
    const watching = runCli(['runs', 'watch', 'cli-n'], {
      cwd: workDir,
      env: { LITECELL_URL: server.url, LITECELL_TOKEN: server.adminToken },
      signal: stop.signal,
      onStdout: (text) => (seen += text),
    })
    const { waitFor } = await import('@litecell/testkit')
    let runId = ''
    await waitFor(
      async () => {
        // The stream may attach after a first start: start runs until one is seen.
        if (runId === '' || !seen.includes(runId)) runId = (await server.admin.startRun('cli-n', { workflow: 'quick', input: { n: 1 } })).runId
        return new RegExp(`${runId} +quick +succeeded`).test(seen)
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'the watched run to succeed' },
    )
    stop.abort()
    await watching
  })

  test('logs shows the worker log with what workflow code printed; --follow keeps going', async () => {
    const { runId } = await server.admin.startRun('cli-n', { workflow: 'say', input: { text: 'hello from cli-n' } })
    await server.admin.waitForResult('cli-n', runId)
    const { waitFor } = await import('@litecell/testkit')
    await waitFor(async () => (await cli(['logs', 'cli-n'])).stdout.includes('hello from cli-n'), {
      what: 'the printed line in the log',
    })
    const human = await cli(['logs', 'cli-n', '--lines', '1000'])
    expect(human.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO +worker ready /m)
    const raw = await cli(['--json', 'logs', 'cli-n', '-n', '5'])
    expect(raw.stdout.trim().split('\n').length).toBeLessThanOrEqual(5)

    const stop = new AbortController()
    let followed = ''
    const following = runCli(['logs', 'cli-n', '--follow', '-n', '0'], {
      cwd: workDir,
      env: { LITECELL_URL: server.url, LITECELL_TOKEN: server.adminToken },
      signal: stop.signal,
      onStdout: (text) => (followed += text),
    })
    await waitFor(
      async () => {
        await server.admin.startRun('cli-n', { workflow: 'say', input: { text: 'followed line' } })
        return followed.includes('followed line')
      },
      { timeoutMs: 30_000, intervalMs: 1_000, what: 'a new line while following' },
    )
    stop.abort()
    await following
    const tenantToken = (await createTenant(server.admin, 'cli-n2')).token
    const denied = await cli(['logs', 'cli-n2'], { token: tenantToken })
    expect(denied.code).toBe(4)
  })

  test('a 401 without a token names the admin token file it looked for', async () => {
    const result = await cli(['tenants', 'list'], { token: null, env: { LITECELL_DATA_DIR: '' } })
    expect(result.code).toBe(4)
    expectOneErrorLine(result, new RegExp(`no admin token file at ${join(workDir, '.litecell', 'admin-token').replace(/[.]/g, '\\.')};`))
  })
})

describe('schedules and upgrade', () => {
  test('schedules create, list, show, trigger, backfill, pause, resume and delete, as tables or JSON', async () => {
    await createTenant(server.admin, 'cli-cron')
    const created = await cli([
      'schedules',
      'create',
      'cli-cron',
      'nightly',
      '0 3 * * *',
      'write',
      '{"entry": "cron"}',
      '--timezone',
      'Europe/Berlin',
      '--overlap',
      'queue',
    ])
    expect(created.code, created.stderr).toBe(0)
    expect(created.stdout).toMatch(/^created schedule nightly: next fire \S+/)
    const listed = await cli(['--json', 'schedules', 'list', 'cli-cron'])
    expect(listed.json.schedules).toMatchObject([
      { id: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Berlin', overlap: 'queue', input: { entry: 'cron' } },
    ])
    expect((await cli(['schedules', 'list', 'cli-cron'])).stdout).toMatch(/nightly\s+0 3 \* \* \*\s+Europe\/Berlin\s+write\s+queue/)
    const triggered = await cli(['--json', 'schedules', 'trigger', 'cli-cron', 'nightly'])
    expect(triggered.json.runId).toEqual(expect.any(String))
    const backfill = await cli([
      '--json',
      'schedules',
      'backfill',
      'cli-cron',
      'nightly',
      '--from',
      '2026-01-01T00:00:00Z',
      '--to',
      '2026-01-04T00:00:00Z',
    ])
    expect(backfill.json.runIds).toHaveLength(3)
    expect((await cli(['schedules', 'pause', 'cli-cron', 'nightly'])).stdout).toBe('schedule nightly: paused\n')
    expect((await cli(['schedules', 'resume', 'cli-cron', 'nightly'])).stdout).toMatch(/^schedule nightly: next fire /)
    expect((await cli(['schedules', 'show', 'cli-cron', 'nightly'])).stdout).toMatch(/last run:\s+\S+/)
    expect((await cli(['schedules', 'delete', 'cli-cron', 'nightly'])).stdout).toBe('deleted schedule nightly\n')
    expect((await cli(['--json', 'schedules', 'list', 'cli-cron'])).json.schedules).toEqual([])
  })

  test('a bad cron is one error line with the parser’s reason; a bad --overlap never reaches the server', async () => {
    await createTenant(server.admin, 'cli-bad-cron')
    const badCron = await cli(['schedules', 'create', 'cli-bad-cron', 'x', '61 * * * *', 'write'])
    expect(badCron.code).not.toBe(0)
    expectOneErrorLine(badCron, /Invalid value for minute: 61/)
    const badOverlap = await cli(['schedules', 'create', 'cli-bad-cron', 'x', '* * * * *', 'write', '--overlap', 'never'])
    expect(badOverlap.code).toBe(2)
    expectOneErrorLine(badOverlap, /Expected --overlap to be one of skip, allow, queue, got `never`/)
    expect(await server.admin.listSchedules('cli-bad-cron')).toEqual([])
  })

  test('tenants upgrade switches the app and wakes the tenant', async () => {
    await createTenant(server.admin, 'cli-upgrade')
    const result = await cli(['tenants', 'upgrade', 'cli-upgrade', '--app', 'test'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^tenant cli-upgrade: app test, active \(/)
    const unknown = await cli(['tenants', 'upgrade', 'cli-upgrade', '--app', 'nope'])
    expectOneErrorLine(unknown, /UNKNOWN_APP: no app named .*nope/)
  })
})
