/**
 * Invariant 6: bad input gets a clear 4xx, never a crash or a write. Every kind of bad
 * request below is answered with `{error: {code, message}}` and the right status, creates
 * nothing (no tenant, no folder, no run, no row), and leaves the server up with its data.
 * The matrix runs in-process (the control plane's app, real workers' apps, `app.request()`);
 * what needs real HTTP and processes (bodies over 1 MiB, the server process still up) is in
 * `test/bad-input-gets-4xx.test.ts`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import {
  createTenant,
  expectApiError,
  query,
  tenantIds,
  titled,
  waitForRuns,
} from '@litecell/testkit/e2e'
import { useInProcessServer } from '@litecell/testkit/in-process'

const TENANT = 'data'
const T = `/v1/tenants/${TENANT}`
/** The ledger rows written at setup; nothing below may change them. */
const ENTRIES = ['first', 'second', 'third']
const LONG_SLEEP_MS = 10 * 60_000

const server = useInProcessServer()
let token = ''
/** Runs of the tenant in known states. */
const runs = { succeeded: '', sleeping: '', cancelled: '' }
/** How many runs the tenant has after setup plus what the tests started on purpose. */
let expectedRunCount = 0

beforeAll(async () => {
  token = (await createTenant(server.admin, TENANT)).token
  const { runIds } = await server.admin.post<any>(`${T}/runs/batch`, {
    runs: ENTRIES.map((entry) => ({ workflow: 'write', input: { entry } })),
  })
  await waitForRuns(server.admin, TENANT, runIds)
  runs.succeeded = runIds[0]
  runs.sleeping = (
    await server.admin.post<any>(`${T}/runs`, { workflow: 'sleeper', input: { ms: LONG_SLEEP_MS } })
  ).runId
  runs.cancelled = (
    await server.admin.post<any>(`${T}/runs`, { workflow: 'sleeper', input: { ms: LONG_SLEEP_MS } })
  ).runId
  await server.admin.post<any>(`${T}/runs/${runs.cancelled}/cancel`)
  expectedRunCount = ENTRIES.length + 2
})

function tenantFolders(): string[] {
  return readdirSync(join(server.dataDir, 'tenants')).sort()
}

async function runCount(): Promise<number> {
  const { runs: page } = await server.admin.get<any>(`${T}/runs?limit=1000`)
  return page.length
}

async function ledger(): Promise<string[]> {
  return (await query(server.admin, TENANT, 'SELECT entry FROM ledger ORDER BY rowid')).map(
    (row) => row.entry,
  )
}

/** Ids that are not slugs. `..%2Fetc` and friends reach the server as one path segment. */
const BAD_IDS: readonly { what: string; id: string }[] = [
  { what: 'a path traversal', id: '../etc' },
  { what: 'upper case', id: 'UPPER' },
  { what: 'a leading dash', id: '-lead' },
  { what: '64 characters', id: 'a'.repeat(64) },
  { what: 'a space', id: 'a b' },
  { what: 'unicode', id: 'café' },
  { what: 'SQL', id: "x'; DROP TABLE cp_tenants; --" },
  { what: 'a shell substitution', id: '$(touch pwned)' },
]

/** Every route with a `:id`, as a request builder for a given (encoded) id. */
const ID_ROUTES: readonly {
  route: string
  method: string
  path: (id: string) => string
  body?: unknown
}[] = [
  { route: 'GET /v1/tenants/:id', method: 'GET', path: (id) => `/v1/tenants/${id}` },
  {
    route: 'POST /v1/tenants/:id/hibernate',
    method: 'POST',
    path: (id) => `/v1/tenants/${id}/hibernate`,
  },
  { route: 'POST /v1/tenants/:id/wake', method: 'POST', path: (id) => `/v1/tenants/${id}/wake` },
  {
    route: 'POST /v1/tenants/:id/fork',
    method: 'POST',
    path: (id) => `/v1/tenants/${id}/fork`,
    body: { id: 'fork-target' },
  },
  { route: 'DELETE /v1/tenants/:id', method: 'DELETE', path: (id) => `/v1/tenants/${id}` },
  {
    route: 'GET /v1/tenants/:id/snapshot',
    method: 'GET',
    path: (id) => `/v1/tenants/${id}/snapshot`,
  },
  {
    route: 'POST /v1/tenants/:id/runs',
    method: 'POST',
    path: (id) => `/v1/tenants/${id}/runs`,
    body: { workflow: 'quick' },
  },
  {
    route: 'POST /v1/tenants/:id/runs/batch',
    method: 'POST',
    path: (id) => `/v1/tenants/${id}/runs/batch`,
    body: { runs: [{ workflow: 'quick' }] },
  },
  { route: 'GET /v1/tenants/:id/runs', method: 'GET', path: (id) => `/v1/tenants/${id}/runs` },
  {
    route: 'GET /v1/tenants/:id/runs/:runId',
    method: 'GET',
    path: (id) => `/v1/tenants/${id}/runs/r1`,
  },
  {
    route: 'GET /v1/tenants/:id/runs/:runId/result',
    method: 'GET',
    path: (id) => `/v1/tenants/${id}/runs/r1/result`,
  },
  {
    route: 'POST /v1/tenants/:id/runs/:runId/events',
    method: 'POST',
    path: (id) => `/v1/tenants/${id}/runs/r1/events`,
    body: { name: 'ping' },
  },
  {
    route: 'POST /v1/tenants/:id/runs/:runId/cancel',
    method: 'POST',
    path: (id) => `/v1/tenants/${id}/runs/r1/cancel`,
  },
  {
    route: 'POST /v1/tenants/:id/runs/:runId/resume',
    method: 'POST',
    path: (id) => `/v1/tenants/${id}/runs/r1/resume`,
  },
  {
    route: 'POST /v1/tenants/:id/runs/:runId/fork',
    method: 'POST',
    path: (id) => `/v1/tenants/${id}/runs/r1/fork`,
    body: { fromStep: 1 },
  },
  {
    route: 'POST /v1/tenants/:id/query',
    method: 'POST',
    path: (id) => `/v1/tenants/${id}/query`,
    body: { sql: 'SELECT 1' },
  },
]

describe('tenant ids that are not slugs get 400 INVALID_TENANT_ID and create nothing', () => {
  test.each([...BAD_IDS, { what: 'empty', id: '' }, { what: 'a lone dot', id: '.' }])(
    'POST /v1/tenants with $what as id → 400',
    async ({ id }) => {
      expectApiError(
        await server.admin.send<any>('POST', '/v1/tenants', { body: { id, app: 'test' } }),
        400,
        'INVALID_TENANT_ID',
        'tenant id',
      )
    },
  )

  test.each([{ id: 42 }, { id: null }, { id: true }, { id: ['data'] }, { id: { id: 'data' } }])(
    'POST /v1/tenants with the non-string id $id → 400',
    async ({ id }) => {
      expectApiError(
        await server.admin.send<any>('POST', '/v1/tenants', { body: { id, app: 'test' } }),
        400,
        'INVALID_TENANT_ID',
      )
    },
  )

  const cases = ID_ROUTES.flatMap((route) => BAD_IDS.map((bad) => ({ ...route, ...bad })))
  test.each(titled(cases, (c) => `${c.route} with ${c.what} as :id → 400`))('%s', async (_, c) => {
    const reply = await server.admin.send<any>(c.method, c.path(encodeURIComponent(c.id)), {
      body: c.body,
    })
    expectApiError(reply, 400, 'INVALID_TENANT_ID', 'tenant id')
  })

  test.each(BAD_IDS)('POST /v1/tenants/:id/fork with $what as the new id → 400', async ({ id }) => {
    expectApiError(
      await server.admin.send<any>('POST', `${T}/fork`, { body: { id } }),
      400,
      'INVALID_TENANT_ID',
    )
  })

  test.each(BAD_IDS)(
    'authentication comes first: $what as :id without a token → 401, with a tenant token → 403',
    async ({ id }) => {
      const path = `/v1/tenants/${encodeURIComponent(id)}/runs`
      expectApiError(
        await server.admin.withToken(undefined).send<any>('GET', path),
        401,
        'UNAUTHENTICATED',
      )
      expectApiError(await server.admin.withToken(token).send<any>('GET', path), 403, 'FORBIDDEN')
    },
  )

  test('an empty :id segment matches no tenant route: 404', async () => {
    expectApiError(await server.admin.send<any>('GET', '/v1/tenants//runs'), 404)
    expectApiError(await server.admin.send<any>('POST', '/v1/tenants//hibernate'), 404)
  })

  test('none of them created a tenant, a folder under tenants/ or a path outside it', async () => {
    expect(await tenantIds(server.admin)).toEqual([TENANT])
    expect(tenantFolders()).toEqual([TENANT])
    expect(existsSync(join(server.dataDir, 'etc'))).toBe(false)
    expect(existsSync(join(server.dataDir, 'tenants', 'pwned'))).toBe(false)
    expect(existsSync(join(server.dataDir, 'pwned'))).toBe(false)
    expect(existsSync(join(server.dataDir, 'tenants', 'fork-target'))).toBe(false)
  })
})

/** Routes that read a JSON body, with a path valid in every other respect. */
const BODY_ROUTES: readonly { route: string; path: () => string }[] = [
  { route: 'POST /v1/tenants', path: () => '/v1/tenants' },
  { route: 'POST /v1/tenants/:id/fork', path: () => `${T}/fork` },
  { route: 'POST /v1/tenants/:id/runs', path: () => `${T}/runs` },
  { route: 'POST /v1/tenants/:id/runs/batch', path: () => `${T}/runs/batch` },
  {
    route: 'POST /v1/tenants/:id/runs/:runId/events',
    path: () => `${T}/runs/${runs.sleeping}/events`,
  },
  {
    route: 'POST /v1/tenants/:id/runs/:runId/fork',
    path: () => `${T}/runs/${runs.succeeded}/fork`,
  },
  { route: 'POST /v1/tenants/:id/query', path: () => `${T}/query` },
]

describe('malformed and non-object JSON bodies get 400', () => {
  const malformed = ['{', '{"workflow": ', "{'id': 'x'}", 'not json', '{"a":1}}', '\u0000']
  const cases = BODY_ROUTES.flatMap((route) => malformed.map((raw) => ({ ...route, raw })))
  test.each(
    titled(cases, (c) => `${c.route} with the body ${JSON.stringify(c.raw)} → 400 naming JSON`),
  )('%s', async (_, c) => {
    expectApiError(
      await server.admin.send<any>('POST', c.path(), { rawBody: c.raw }),
      400,
      undefined,
      'JSON',
    )
  })

  const nonObjects = ['null', '[]', '[{"workflow":"quick"}]', '"quick"', '42', 'true']
  const nonObjectCases = BODY_ROUTES.flatMap((route) =>
    nonObjects.map((raw) => ({ ...route, raw })),
  )
  test.each(
    titled(nonObjectCases, (c) => `${c.route} with the JSON ${c.raw} → 400 asking for an object`),
  )('%s', async (_, c) => {
    expectApiError(
      await server.admin.send<any>('POST', c.path(), { rawBody: c.raw }),
      400,
      undefined,
      'JSON object',
    )
  })
})

describe('fields of the wrong type or out of range get 400 with a message naming the field', () => {
  /** A body case: the route, its path, the body, and the field its message must name. */
  const on = (route: string, path: () => string) => (body: unknown, field: string) => ({
    route,
    path,
    body,
    field: `\`${field}\``,
  })
  const create = on('POST /v1/tenants', () => '/v1/tenants')
  const fork = on('POST /v1/tenants/:id/fork', () => `${T}/fork`)
  const start = on('POST /v1/tenants/:id/runs', () => `${T}/runs`)
  const batch = on('POST /v1/tenants/:id/runs/batch', () => `${T}/runs/batch`)
  const event = on(
    'POST /v1/tenants/:id/runs/:runId/events',
    () => `${T}/runs/${runs.sleeping}/events`,
  )
  const forkRun = on(
    'POST /v1/tenants/:id/runs/:runId/fork',
    () => `${T}/runs/${runs.succeeded}/fork`,
  )
  const sql = on('POST /v1/tenants/:id/query', () => `${T}/query`)
  const bodyCases = [
    create({ id: 'ok-id', app: 42 }, 'app'),
    create({ id: 'ok-id', app: 'test', labels: 'x' }, 'labels'),
    create({ id: 'ok-id', app: 'test', labels: ['x'] }, 'labels'),
    create({ id: 'ok-id', app: 'test', labels: { team: 7 } }, 'labels.team'),
    create({ id: 'ok-id', app: 'test', durability: 'fast' }, 'durability'),
    create({ id: 'ok-id', app: 'test', durability: 1 }, 'durability'),
    fork({ id: 'ok-id', at: 'yesterday' }, 'at'),
    fork({ id: 'ok-id', at: 1_700_000_000_000 }, 'at'),
    fork({ id: 'ok-id', at: '2026-13-45T99:00:00Z' }, 'at'),
    start({}, 'workflow'),
    start({ workflow: 42 }, 'workflow'),
    start({ workflow: { name: 'quick' } }, 'workflow'),
    start({ workflow: '' }, 'workflow'),
    start({ workflow: 'quick', idempotencyKey: 5 }, 'idempotencyKey'),
    start({ workflow: 'quick', queue: 5 }, 'queue'),
    start({ workflow: 'quick', durability: 'remote' }, 'durability'),
    start({ workflow: 'quick', durability: null }, 'durability'),
    batch({}, 'runs'),
    batch({ runs: [] }, 'runs'),
    batch({ runs: 'quick' }, 'runs'),
    batch({ runs: { workflow: 'quick' } }, 'runs'),
    batch({ runs: Array.from({ length: 10_001 }, () => ({ workflow: 'quick' })) }, 'runs'),
    batch({ runs: [{ workflow: 'quick' }, 42] }, 'runs[1]'),
    batch({ runs: [{ workflow: 'quick' }, { workflow: 7 }] }, 'runs[1].workflow'),
    batch({ runs: [{ workflow: 'quick' }], durability: 'REPLICATED' }, 'durability'),
    batch(
      { runs: [{ workflow: 'quick' }, { workflow: 'quick', durability: 2 }] },
      'runs[1].durability',
    ),
    event({}, 'name'),
    event({ name: 42 }, 'name'),
    event({ name: 'ping', durability: ['local'] }, 'durability'),
    forkRun({}, 'fromStep'),
    forkRun({ fromStep: 'one' }, 'fromStep'),
    forkRun({ fromStep: 1.5 }, 'fromStep'),
    forkRun({ fromStep: -1 }, 'fromStep'),
    forkRun({ fromStep: 0 }, 'fromStep'),
    sql({}, 'sql'),
    sql({ sql: 42 }, 'sql'),
    sql({ sql: 'SELECT ?', args: 'x' }, 'args'),
  ]
  const shown = (body: unknown) => {
    const text = JSON.stringify(body)
    return text.length > 80 ? `${text.slice(0, 60)}… (${text.length} bytes)` : text
  }
  test.each(titled(bodyCases, (c) => `${c.route} with ${shown(c.body)} → 400 naming ${c.field}`))(
    '%s',
    async (_, c) => {
      expectApiError(
        await server.admin.send<any>('POST', c.path(), { body: c.body }),
        400,
        undefined,
        c.field,
      )
    },
  )

  const queryCases: readonly { route: string; path: () => string; field: string }[] = [
    {
      route: 'GET /v1/tenants/:id/runs?limit=0',
      path: () => `${T}/runs?limit=0`,
      field: '`limit`',
    },
    {
      route: 'GET /v1/tenants/:id/runs?limit=1001',
      path: () => `${T}/runs?limit=1001`,
      field: '`limit`',
    },
    {
      route: 'GET /v1/tenants/:id/runs?limit=ten',
      path: () => `${T}/runs?limit=ten`,
      field: '`limit`',
    },
    {
      route: 'GET /v1/tenants/:id/runs?limit=1.5',
      path: () => `${T}/runs?limit=1.5`,
      field: '`limit`',
    },
    {
      route: 'GET /v1/tenants/:id/runs?status=done',
      path: () => `${T}/runs?status=done`,
      field: '`status`',
    },
    {
      route: "GET /v1/tenants/:id/runs?status=succeeded' OR '1'='1",
      path: () => `${T}/runs?status=${encodeURIComponent("succeeded' OR '1'='1")}`,
      field: '`status`',
    },
    {
      route: 'GET /v1/tenants/:id/runs?cursor=garbage',
      path: () => `${T}/runs?cursor=garbage`,
      field: '`cursor`',
    },
    {
      route: 'GET …/runs/:runId/result?waitMs=-1',
      path: () => `${T}/runs/${runs.sleeping}/result?waitMs=-1`,
      field: '`waitMs`',
    },
    {
      route: 'GET …/runs/:runId/result?waitMs=120001',
      path: () => `${T}/runs/${runs.sleeping}/result?waitMs=120001`,
      field: '`waitMs`',
    },
    {
      route: 'GET …/runs/:runId/result?waitMs=soon',
      path: () => `${T}/runs/${runs.sleeping}/result?waitMs=soon`,
      field: '`waitMs`',
    },
    {
      route: 'GET …/runs/:runId/steps/0',
      path: () => `${T}/runs/${runs.sleeping}/steps/0`,
      field: '`seq`',
    },
    {
      route: 'GET …/runs/:runId/steps/first',
      path: () => `${T}/runs/${runs.sleeping}/steps/first`,
      field: '`seq`',
    },
    {
      route: 'GET /v1/tenants?state=asleep',
      path: () => '/v1/tenants?state=asleep',
      field: '`state`',
    },
    { route: 'GET /v1/tenants?limit=0', path: () => '/v1/tenants?limit=0', field: '`limit`' },
    { route: 'GET /v1/tenants?limit=1001', path: () => '/v1/tenants?limit=1001', field: '`limit`' },
    {
      route: 'GET /v1/tenants?cursor=garbage',
      path: () => '/v1/tenants?cursor=garbage',
      field: '`cursor`',
    },
  ]
  test.each(titled(queryCases, (c) => `${c.route} → 400 naming ${c.field}`))('%s', async (_, c) => {
    expectApiError(await server.admin.send<any>('GET', c.path()), 400, undefined, c.field)
  })

  test('none of the rejected requests created a tenant or a run', async () => {
    expect(await tenantIds(server.admin)).toEqual([TENANT])
    expect(tenantFolders()).toEqual([TENANT])
    expect(await runCount()).toBe(expectedRunCount)
  })
})

describe('names that do not exist get 400 (workflow, app) or 404 (tenant, run)', () => {
  test('an unknown workflow → 400 UNKNOWN_WORKFLOW and no run', async () => {
    expectApiError(
      await server.admin.send<any>('POST', `${T}/runs`, { body: { workflow: 'nope' } }),
      400,
      'UNKNOWN_WORKFLOW',
      'nope',
    )
    expect(await runCount()).toBe(expectedRunCount)
  })

  test('a batch with one unknown workflow → 400 UNKNOWN_WORKFLOW and none of its runs', async () => {
    const reply = await server.admin.send<any>('POST', `${T}/runs/batch`, {
      body: {
        runs: [
          { workflow: 'quick' },
          { workflow: 'write', input: { entry: 'batched' } },
          { workflow: 'nope' },
        ],
      },
    })
    expectApiError(reply, 400, 'UNKNOWN_WORKFLOW', 'nope')
    expect(await runCount()).toBe(expectedRunCount)
    expect(await ledger()).toEqual(ENTRIES)
  })

  test.each(['nope', '../../etc/passwd', '/work/main/test/apps/test-app.ts', 'TEST'])(
    'POST /v1/tenants with the unknown app %j → 400 UNKNOWN_APP and no tenant',
    async (app) => {
      expectApiError(
        await server.admin.send<any>('POST', '/v1/tenants', { body: { id: 'appless', app } }),
        400,
        'UNKNOWN_APP',
      )
      expect(await tenantIds(server.admin)).toEqual([TENANT])
      expect(existsSync(join(server.dataDir, 'tenants', 'appless'))).toBe(false)
    },
  )

  test.each(titled(ID_ROUTES, (r) => `${r.route} on an unknown tenant → 404 TENANT_NOT_FOUND`))(
    '%s',
    async (_, route) => {
      expectApiError(
        await server.admin.send<any>(route.method, route.path('nobody'), { body: route.body }),
        404,
        'TENANT_NOT_FOUND',
      )
    },
  )

  test('the 404s on an unknown tenant woke, created or forked nothing', async () => {
    expect(await tenantIds(server.admin)).toEqual([TENANT])
    expect(tenantFolders()).toEqual([TENANT])
  })

  const runRoutes = [
    { route: 'GET /v1/tenants/:id/runs/:runId', method: 'GET', suffix: '' },
    { route: 'GET /v1/tenants/:id/runs/:runId/result', method: 'GET', suffix: '/result?waitMs=10' },
    {
      route: 'POST /v1/tenants/:id/runs/:runId/events',
      method: 'POST',
      suffix: '/events',
      body: { name: 'ping' },
    },
    { route: 'POST /v1/tenants/:id/runs/:runId/cancel', method: 'POST', suffix: '/cancel' },
    { route: 'POST /v1/tenants/:id/runs/:runId/resume', method: 'POST', suffix: '/resume' },
    {
      route: 'POST /v1/tenants/:id/runs/:runId/fork',
      method: 'POST',
      suffix: '/fork',
      body: { fromStep: 1 },
    },
  ]
  const runIds = [
    '00000000-0000-0000-0000-000000000000',
    "x' OR '1'='1",
    "'; DELETE FROM ledger; --",
    '%',
    'a/b',
  ]
  const runCases = runRoutes.flatMap((route) => runIds.map((runId) => ({ ...route, runId })))
  test.each(
    titled(
      runCases,
      (c) => `${c.route} with the unknown run ${JSON.stringify(c.runId)} → 404 RUN_NOT_FOUND`,
    ),
  )('%s', async (_, c) => {
    const reply = await server.admin.send<any>(
      c.method,
      `${T}/runs/${encodeURIComponent(c.runId)}${c.suffix}`,
      { body: c.body },
    )
    expectApiError(reply, 404, 'RUN_NOT_FOUND')
  })

  test('SQL in an id, a filter or an idempotency key is data, never SQL', async () => {
    const filtered = await server.admin.get<any>(
      `${T}/runs?workflow=${encodeURIComponent("' OR 1=1 --")}`,
    )
    expect(filtered.runs).toEqual([])
    const key = "k'); DROP TABLE lc_runs; --"
    const first = await server.admin.post<any>(`${T}/runs`, {
      workflow: 'quick',
      idempotencyKey: key,
    })
    const again = await server.admin.post<any>(`${T}/runs`, {
      workflow: 'quick',
      idempotencyKey: key,
    })
    expect(again.runId).toBe(first.runId)
    expectedRunCount += 1
    await waitForRuns(server.admin, TENANT, [first.runId])
    const echoed = await query(server.admin, TENANT, 'SELECT ? AS v', ["'); DROP TABLE ledger; --"])
    expect(echoed).toEqual([{ v: "'); DROP TABLE ledger; --" }])
    expect(await runCount()).toBe(expectedRunCount)
    expect(await ledger()).toEqual(ENTRIES)
  })
})

describe('conflicts get 409', () => {
  test('creating a tenant with an existing id → 409 TENANT_EXISTS, and the tenant keeps its token and data', async () => {
    expectApiError(
      await server.admin.send<any>('POST', '/v1/tenants', { body: { id: TENANT, app: 'test' } }),
      409,
      'TENANT_EXISTS',
    )
    expect((await server.admin.withToken(token).send<any>('GET', T)).status).toBe(200)
    expect(await ledger()).toEqual(ENTRIES)
  })

  test('forking onto an existing id → 409 TENANT_EXISTS, and the target keeps its data', async () => {
    expectApiError(
      await server.admin.send<any>('POST', `${T}/fork`, { body: { id: TENANT } }),
      409,
      'TENANT_EXISTS',
    )
    expect(await ledger()).toEqual(ENTRIES)
    expect(await tenantIds(server.admin)).toEqual([TENANT])
  })

  test.each([
    { op: 'resume a succeeded run', suffix: () => `${runs.succeeded}/resume` },
    { op: 'resume a sleeping run', suffix: () => `${runs.sleeping}/resume` },
    { op: 'cancel a succeeded run', suffix: () => `${runs.succeeded}/cancel` },
    { op: 'cancel a cancelled run', suffix: () => `${runs.cancelled}/cancel` },
  ])('$op → 409 INVALID_STATE, the run unchanged', async (c) => {
    const runId = c.suffix().split('/')[0]!
    const before = await server.admin.get<any>(`${T}/runs/${runId}`)
    expectApiError(
      await server.admin.send<any>('POST', `${T}/runs/${c.suffix()}`),
      409,
      'INVALID_STATE',
    )
    const after = await server.admin.get<any>(`${T}/runs/${runId}`)
    expect(after).toEqual(before)
  })

  test('an event for a finished run → 409 INVALID_STATE', async () => {
    const reply = await server.admin.send<any>('POST', `${T}/runs/${runs.succeeded}/events`, {
      body: { name: 'late' },
    })
    expectApiError(reply, 409, 'INVALID_STATE')
  })
})

describe('/query refuses writes with 400 and the data stays the same', () => {
  const attached = () => join(server.dataDir, 'attached.db')
  const vacuumed = () => join(server.dataDir, 'vacuumed.db')
  const writes: readonly { what: string; sql: () => string }[] = [
    { what: 'INSERT', sql: () => "INSERT INTO ledger (run_id, entry) VALUES ('x', 'forged')" },
    {
      what: 'INSERT … RETURNING',
      sql: () => "INSERT INTO ledger (run_id, entry) VALUES ('x', 'forged') RETURNING *",
    },
    { what: 'UPDATE', sql: () => "UPDATE ledger SET entry = 'forged'" },
    { what: 'UPDATE … RETURNING', sql: () => "UPDATE ledger SET entry = 'forged' RETURNING entry" },
    { what: 'DELETE', sql: () => 'DELETE FROM ledger' },
    { what: 'DELETE … RETURNING', sql: () => 'DELETE FROM ledger RETURNING *' },
    { what: 'a CTE that deletes', sql: () => 'WITH doomed AS (SELECT 1) DELETE FROM ledger' },
    { what: 'DROP TABLE', sql: () => 'DROP TABLE ledger' },
    { what: 'DROP TABLE of an engine table', sql: () => 'DROP TABLE lc_runs' },
    { what: 'CREATE TABLE', sql: () => 'CREATE TABLE forged (x)' },
    { what: 'CREATE TEMP TABLE', sql: () => 'CREATE TEMP TABLE forged (x)' },
    { what: 'ALTER TABLE', sql: () => 'ALTER TABLE ledger ADD COLUMN forged TEXT' },
    { what: 'ATTACH', sql: () => `ATTACH DATABASE '${attached()}' AS evil` },
    { what: 'VACUUM INTO', sql: () => `VACUUM INTO '${vacuumed()}'` },
    { what: 'VACUUM', sql: () => 'VACUUM' },
    { what: 'BEGIN', sql: () => 'BEGIN IMMEDIATE' },
    { what: 'PRAGMA user_version =', sql: () => 'PRAGMA user_version = 7' },
    { what: 'PRAGMA query_only = OFF', sql: () => 'PRAGMA query_only = OFF' },
    { what: 'PRAGMA journal_mode = DELETE', sql: () => 'PRAGMA journal_mode = DELETE' },
    { what: 'PRAGMA writable_schema = ON', sql: () => 'PRAGMA writable_schema = ON' },
    { what: 'REINDEX', sql: () => 'REINDEX' },
    { what: 'ANALYZE', sql: () => 'ANALYZE' },
  ]

  async function snapshotOfData() {
    return {
      ledger: await ledger(),
      schema: await query(
        server.admin,
        TENANT,
        "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE '\\_litestream\\_%' ESCAPE '\\' ORDER BY name",
      ),
      userVersion: await query(server.admin, TENANT, 'PRAGMA user_version'),
      // The file header's read and write versions: 2 and 2 in WAL mode. (The query route
      // refuses PRAGMA journal_mode itself: SQLite's authorizer cannot tell a read from a set.)
      journalMode: [
        ...readFileSync(join(server.dataDir, 'tenants', TENANT, 'tenant.db')).subarray(18, 20),
      ],
      runs: await runCount(),
    }
  }

  test.each(writes)('$what → 400, nothing changed', async (c) => {
    const before = await snapshotOfData()
    expectApiError(
      await server.admin.send<any>('POST', `${T}/query`, { body: { sql: c.sql() } }),
      400,
    )
    expect(await snapshotOfData()).toEqual(before)
    expect(existsSync(attached())).toBe(false)
    expect(existsSync(vacuumed())).toBe(false)
  })

  // One statement per request: a second one is refused, not silently dropped.
  test('a SELECT followed by a DELETE in one request → 400', async () => {
    const before = await snapshotOfData()
    const reply = await server.admin.send<any>('POST', `${T}/query`, {
      body: { sql: 'SELECT 1; DELETE FROM ledger' },
    })
    expect(await snapshotOfData()).toEqual(before)
    expectApiError(reply, 400)
  })

  // PRAGMAs that act are refused: Litestream owns checkpoints.
  test('PRAGMA wal_checkpoint(PASSIVE) → 400, the database file untouched', async () => {
    const file = join(server.dataDir, 'tenants', TENANT, 'tenant.db')
    const sizeBefore = statSync(file).size
    const reply = await server.admin.send<any>('POST', `${T}/query`, {
      body: { sql: 'PRAGMA wal_checkpoint(PASSIVE)' },
    })
    expectApiError(reply, 400)
    expect(statSync(file).size).toBe(sizeBefore)
  })

  test('reads still work: SELECT, read PRAGMAs and bound arguments', async () => {
    expect(await ledger()).toEqual(ENTRIES)
    expect(await query(server.admin, TENANT, 'PRAGMA table_info(ledger)')).toHaveLength(2)
    expect(
      await query(server.admin, TENANT, 'SELECT entry FROM ledger WHERE entry = ?', ['second']),
    ).toEqual([{ entry: 'second' }])
  })
})

describe('after all of it', () => {
  test('the server is still healthy, and its data is intact', async () => {
    expect(await server.admin.send<any>('GET', '/v1/health')).toMatchObject({
      status: 200,
      body: { ok: true },
    })
    expect(await tenantIds(server.admin)).toEqual([TENANT])
    expect(tenantFolders()).toEqual([TENANT])
    expect(await ledger()).toEqual(ENTRIES)
    expect(await runCount()).toBe(expectedRunCount)
    const tenant = await server.admin.get<any>(T)
    expect(tenant.state).toBe('active')
    const sleeping = await server.admin.get<any>(`${T}/runs/${runs.sleeping}`)
    expect(sleeping.status).toBe('sleeping')
    const { runId } = await server.admin
      .withToken(token)
      .post<any>(`${T}/runs`, { workflow: 'quick', input: { n: 41 } })
    const [run] = await waitForRuns(server.admin, TENANT, [runId])
    expect(run).toMatchObject({ status: 'succeeded', output: 42 })
  })

  test('no request made the server fail: no 5xx was logged', () => {
    const log = server.current.logLines.join('')
    expect(log).toContain('tenant active')
    expect(log).not.toContain('request failed')
  })
})
