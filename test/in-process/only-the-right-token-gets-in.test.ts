/**
 * Invariant 7: only the right token gets in. The admin token reaches every route, a tenant
 * token reaches its own tenant's show, snapshot, runs and query routes and nothing else, and
 * anything else is a 401 or a 403 that changes nothing. The whole matrix runs in-process
 * (the control plane's app, real workers' apps, `app.request()`); what needs real processes
 * (tokens never written to files, logs or stdout; the dashboard page; metrics from
 * heartbeats) is in `test/only-the-right-token-gets-in.test.ts`.
 */
import { beforeAll, describe, expect, test } from 'vitest'
import {
  callRaw,
  createTenant,
  type RawReply,
  tenantIds,
  titled,
  waitForRuns,
} from '@litecell/testkit/e2e'
import { useInProcessServer } from '@litecell/testkit/in-process'

/** The subject tenant, and the tenant whose token must not reach it. */
const OWN = 'alpha'
const OTHER = 'beta'
/** A sleep long enough that the run stays `sleeping` for the whole file. */
const LONG_SLEEP_MS = 10 * 60_000

const server = useInProcessServer()
const tokens = { own: '', other: '' }
/** Runs of the subject tenant that the denied requests aim at. */
const fixture = { sleepingRun: '', doneRun: '', cancelledRun: '' }

beforeAll(async () => {
  tokens.own = (await mint(OWN)).token
  tokens.other = (await mint(OTHER)).token
  fixture.sleepingRun = await sleepingRun(OWN)
  fixture.cancelledRun = await cancelledRun(OWN)
  const { runId } = await server.admin.post<any>(`/v1/tenants/${OWN}/runs`, {
    workflow: 'quick',
    input: { n: 1 },
  })
  await waitForRuns(server.admin, OWN, [runId])
  fixture.doneRun = runId
})

function mint(id: string): Promise<{ id: string; token: string }> {
  return createTenant(server.admin, id)
}

async function sleepingRun(tenant: string): Promise<string> {
  const { runId } = await server.admin.post<any>(`/v1/tenants/${tenant}/runs`, {
    workflow: 'sleeper',
    input: { ms: LONG_SLEEP_MS },
  })
  return runId
}

async function cancelledRun(tenant: string): Promise<string> {
  const runId = await sleepingRun(tenant)
  await server.admin.post<any>(`/v1/tenants/${tenant}/runs/${runId}/cancel`)
  return runId
}

/** One request with exactly the given Authorization header (or none). */
function call(
  method: string,
  path: string,
  authorization: string | undefined,
  body?: unknown,
): Promise<RawReply> {
  return callRaw(server, method, path, authorization, body)
}

const bearer = (token: string) => `Bearer ${token}`

/** What a route is aimed at: a tenant, its runs, and an id for anything the route creates. */
interface Target {
  tenant: string
  sleepingRun: string
  doneRun: string
  cancelledRun: string
  newId: string
}

interface Route {
  /** As API.md writes it. */
  readonly route: string
  /** `admin`: fleet operations; `tenant`: the admin or the tenant's own token. */
  readonly scope: 'admin' | 'tenant'
  readonly method: string
  readonly path: (t: Target) => string
  readonly body?: (t: Target) => unknown
  /** The status of a request that gets in. */
  readonly okStatus: number
  /** What a successful request needs that the shared fixture cannot give twice. */
  readonly fresh?: 'sleepingRun' | 'cancelledRun' | 'tenant'
  /** Checks the body of a request that got in. */
  readonly check?: (reply: RawReply, t: Target) => void
}

const base = (t: Target) => `/v1/tenants/${t.tenant}`

/** Every authenticated route of API.md. `/v1/health` and `/metrics` are tested on their own. */
const ROUTES: readonly Route[] = [
  {
    route: 'POST /v1/tenants',
    scope: 'admin',
    method: 'POST',
    path: () => '/v1/tenants',
    body: (t) => ({ id: t.newId, app: 'test' }),
    okStatus: 201,
    check: (reply, t) =>
      expect(reply.body).toMatchObject({
        id: t.newId,
        token: expect.any(String),
        state: expect.any(String),
      }),
  },
  {
    route: 'GET /v1/tenants',
    scope: 'admin',
    method: 'GET',
    path: () => '/v1/tenants',
    okStatus: 200,
    check: (reply) => expect(reply.body.tenants.map((t: { id: string }) => t.id)).toContain(OWN),
  },
  {
    route: 'GET /v1/tenants/:id',
    scope: 'tenant',
    method: 'GET',
    path: base,
    okStatus: 200,
    check: (reply, t) => expect(reply.body).toMatchObject({ id: t.tenant, app: 'test' }),
  },
  {
    route: 'PATCH /v1/tenants/:id',
    scope: 'admin',
    method: 'PATCH',
    path: base,
    body: () => ({ labels: { team: 'ml' } }),
    okStatus: 200,
    check: (reply, t) => expect(reply.body).toMatchObject({ id: t.tenant, labels: { team: 'ml' } }),
  },
  {
    route: 'POST /v1/tenants/:id/hibernate',
    scope: 'admin',
    method: 'POST',
    path: (t) => `${base(t)}/hibernate`,
    okStatus: 200,
    check: (reply) => expect(reply.body.state).toBe('hibernated'),
  },
  {
    route: 'POST /v1/tenants/:id/wake',
    scope: 'admin',
    method: 'POST',
    path: (t) => `${base(t)}/wake`,
    okStatus: 200,
    check: (reply) => expect(reply.body.state).toBe('active'),
  },
  {
    route: 'POST /v1/tenants/:id/fork',
    scope: 'admin',
    method: 'POST',
    path: (t) => `${base(t)}/fork`,
    body: (t) => ({ id: t.newId }),
    okStatus: 201,
    check: (reply, t) =>
      expect(reply.body).toMatchObject({ id: t.newId, token: expect.any(String) }),
  },
  {
    route: 'DELETE /v1/tenants/:id',
    scope: 'admin',
    method: 'DELETE',
    path: base,
    okStatus: 200,
    fresh: 'tenant',
  },
  {
    route: 'GET /v1/tenants/:id/snapshot',
    scope: 'tenant',
    method: 'GET',
    path: (t) => `${base(t)}/snapshot`,
    okStatus: 200,
    check: (reply) => expect(reply.text.startsWith('SQLite format 3')).toBe(true),
  },
  {
    route: 'POST /v1/tenants/:id/runs',
    scope: 'tenant',
    method: 'POST',
    path: (t) => `${base(t)}/runs`,
    body: () => ({ workflow: 'quick', input: { n: 1 } }),
    okStatus: 202,
    check: (reply) => expect(reply.body.runId).toEqual(expect.any(String)),
  },
  {
    route: 'POST /v1/tenants/:id/runs/batch',
    scope: 'tenant',
    method: 'POST',
    path: (t) => `${base(t)}/runs/batch`,
    body: () => ({ runs: [{ workflow: 'quick' }, { workflow: 'quick' }] }),
    okStatus: 202,
    check: (reply) => expect(reply.body.runIds).toHaveLength(2),
  },
  {
    route: 'GET /v1/tenants/:id/runs',
    scope: 'tenant',
    method: 'GET',
    path: (t) => `${base(t)}/runs`,
    okStatus: 200,
    check: (reply, t) =>
      expect(reply.body.runs.map((r: { runId: string }) => r.runId)).toContain(t.doneRun),
  },
  {
    route: 'POST /v1/tenants/:id/runs/status',
    scope: 'tenant',
    method: 'POST',
    path: (t) => `${base(t)}/runs/status`,
    body: (t) => ({ runIds: [t.doneRun] }),
    okStatus: 200,
    check: (reply, t) =>
      expect(reply.body.runs).toEqual([
        { runId: t.doneRun, status: 'succeeded', updatedAt: expect.any(String) },
      ]),
  },
  {
    route: 'GET /v1/tenants/:id/runs/:runId',
    scope: 'tenant',
    method: 'GET',
    path: (t) => `${base(t)}/runs/${t.doneRun}`,
    okStatus: 200,
    check: (reply, t) =>
      expect(reply.body).toMatchObject({ runId: t.doneRun, status: 'succeeded', output: 2 }),
  },
  {
    route: 'GET /v1/tenants/:id/runs/:runId/result',
    scope: 'tenant',
    method: 'GET',
    path: (t) => `${base(t)}/runs/${t.doneRun}/result?waitMs=1000`,
    okStatus: 200,
    check: (reply) => expect(reply.body).toMatchObject({ status: 'succeeded', output: 2 }),
  },
  {
    route: 'POST /v1/tenants/:id/runs/:runId/events',
    scope: 'tenant',
    method: 'POST',
    path: (t) => `${base(t)}/runs/${t.sleepingRun}/events`,
    body: () => ({ name: 'ping', payload: { from: 'auth test' } }),
    okStatus: 202,
  },
  {
    route: 'POST /v1/tenants/:id/runs/:runId/cancel',
    scope: 'tenant',
    method: 'POST',
    path: (t) => `${base(t)}/runs/${t.sleepingRun}/cancel`,
    okStatus: 200,
    fresh: 'sleepingRun',
    check: (reply) => expect(reply.body.status).toBe('cancelled'),
  },
  {
    route: 'POST /v1/tenants/:id/runs/:runId/resume',
    scope: 'tenant',
    method: 'POST',
    path: (t) => `${base(t)}/runs/${t.cancelledRun}/resume`,
    okStatus: 200,
    fresh: 'cancelledRun',
    check: (reply) => expect(reply.body.status).not.toBe('cancelled'),
  },
  {
    route: 'POST /v1/tenants/:id/runs/:runId/fork',
    scope: 'tenant',
    method: 'POST',
    path: (t) => `${base(t)}/runs/${t.doneRun}/fork`,
    body: () => ({ fromStep: 1 }),
    okStatus: 201,
    check: (reply, t) => expect(reply.body.runId).not.toBe(t.doneRun),
  },
  {
    route: 'GET /v1/tenants/:id/runs/:runId/steps/:seq',
    scope: 'tenant',
    method: 'GET',
    path: (t) => `${base(t)}/runs/${t.doneRun}/steps/1`,
    okStatus: 200,
    check: (reply) => expect(reply.body).toMatchObject({ seq: 1, status: 'succeeded' }),
  },
  {
    route: 'GET /v1/fleet',
    scope: 'admin',
    method: 'GET',
    path: () => '/v1/fleet',
    okStatus: 200,
    check: (reply) =>
      expect(reply.body).toMatchObject({
        maxWorkers: expect.any(Number),
        tenants: expect.any(Object),
      }),
  },
  {
    route: 'POST /v1/tenants/:id/query',
    scope: 'tenant',
    method: 'POST',
    path: (t) => `${base(t)}/query`,
    body: () => ({ sql: 'SELECT count(*) AS runs FROM lc_runs' }),
    okStatus: 200,
    check: (reply) => expect(reply.body.rows[0].runs).toBeGreaterThan(0),
  },
]

/** Headers that prove nothing: each must get a 401 on every route. */
const ADMIN = 'lca_test-admin-token'
const UNAUTHENTICATED: readonly { credential: string; authorization: () => string | undefined }[] =
  [
    { credential: 'no Authorization header', authorization: () => undefined },
    { credential: 'an empty Authorization header', authorization: () => '' },
    { credential: 'the Bearer scheme without a token', authorization: () => 'Bearer' },
    { credential: 'the admin token without the Bearer scheme', authorization: () => ADMIN },
    {
      credential: 'the admin token in a Basic header',
      authorization: () => `Basic ${Buffer.from(`admin:${ADMIN}`).toString('base64')}`,
    },
    {
      credential: 'two tokens in one Bearer header',
      authorization: () => `Bearer ${ADMIN} ${tokens.own}`,
    },
    {
      credential: 'a token nobody was given',
      authorization: () => bearer('lct_not-a-token-anyone-was-given'),
    },
    {
      credential: 'the admin token with its last character changed',
      authorization: () => bearer(`${ADMIN.slice(0, -1)}X`),
    },
    {
      credential: "the tenant's token with a prefix cut off",
      authorization: () => bearer(tokens.own.slice(4)),
    },
  ]

/** The fixture: every denied request aims at the subject tenant and its real runs. */
function deniedTarget(route: Route): Target {
  return { tenant: OWN, ...fixture, newId: `denied-${ROUTES.indexOf(route)}` }
}

let fresh = 0
/** A target for a request that should get in: fresh state where the route consumes it. */
async function allowedTarget(route: Route): Promise<Target> {
  fresh += 1
  const target: Target = { tenant: OWN, ...fixture, newId: `allowed-${fresh}` }
  if (route.fresh === 'sleepingRun') target.sleepingRun = await sleepingRun(OWN)
  if (route.fresh === 'cancelledRun') target.cancelledRun = await cancelledRun(OWN)
  if (route.fresh === 'tenant') target.tenant = (await mint(`doomed-${fresh}`)).id
  return target
}

describe('requests that prove no identity are refused with 401 and change nothing', () => {
  const cases = ROUTES.flatMap((route) =>
    UNAUTHENTICATED.map((credential) => ({ ...route, ...credential })),
  )

  test.each(titled(cases, (c) => `${c.route} with ${c.credential} → 401`))('%s', async (_, c) => {
    const target = deniedTarget(c)
    const reply = await call(c.method, c.path(target), c.authorization(), c.body?.(target))
    expect(reply.status).toBe(401)
    expect(reply.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } })
  })
})

describe('a valid token on the wrong route is refused with 403 and changes nothing', () => {
  const adminOnly = ROUTES.filter((route) => route.scope === 'admin')
  test.each(titled(adminOnly, (r) => `${r.route} with the tenant's own token → 403 (admin only)`))(
    '%s',
    async (_, route) => {
      const target = deniedTarget(route)
      const reply = await call(
        route.method,
        route.path(target),
        bearer(tokens.own),
        route.body?.(target),
      )
      expect(reply.status).toBe(403)
      expect(reply.body).toEqual({ error: { code: 'FORBIDDEN', message: expect.any(String) } })
    },
  )

  test.each(titled(ROUTES, (r) => `${r.route} with another tenant's token → 403`))(
    '%s',
    async (_, route) => {
      const target = deniedTarget(route)
      const reply = await call(
        route.method,
        route.path(target),
        bearer(tokens.other),
        route.body?.(target),
      )
      expect(reply.status).toBe(403)
      expect(reply.body).toEqual({ error: { code: 'FORBIDDEN', message: expect.any(String) } })
    },
  )

  test('the denied requests above created, deleted, forked, hibernated, cancelled and resumed nothing', async () => {
    expect(await tenantIds(server.admin)).toEqual([OWN, OTHER])
    const own = await server.admin.get<any>(`/v1/tenants/${OWN}`)
    expect(own.state).toBe('active')
    const { runs } = await server.admin.get<any>(`/v1/tenants/${OWN}/runs?limit=1000`)
    expect(runs.map((run: { runId: string }) => run.runId).sort()).toEqual(
      [fixture.sleepingRun, fixture.cancelledRun, fixture.doneRun].sort(),
    )
    const status = (id: string) => runs.find((run: { runId: string }) => run.runId === id).status
    expect(status(fixture.sleepingRun)).toBe('sleeping')
    expect(status(fixture.cancelledRun)).toBe('cancelled')
    const { runs: otherRuns } = await server.admin.get<any>(`/v1/tenants/${OTHER}/runs`)
    expect(otherRuns).toEqual([])
  })
})

describe('the right token gets in', () => {
  const tenantScoped = ROUTES.filter((route) => route.scope === 'tenant')
  test.each(titled(tenantScoped, (r) => `${r.route} with the tenant's own token → ${r.okStatus}`))(
    '%s',
    async (_, route) => {
      const target = await allowedTarget(route)
      const reply = await call(
        route.method,
        route.path(target),
        bearer(tokens.own),
        route.body?.(target),
      )
      expect(reply.status, reply.text.slice(0, 300)).toBe(route.okStatus)
      route.check?.(reply, target)
    },
  )

  test.each(titled(ROUTES, (r) => `${r.route} with the admin token → ${r.okStatus}`))(
    '%s',
    async (_, route) => {
      const target = await allowedTarget(route)
      const reply = await call(
        route.method,
        route.path(target),
        bearer(ADMIN),
        route.body?.(target),
      )
      expect(reply.status, reply.text.slice(0, 300)).toBe(route.okStatus)
      route.check?.(reply, target)
    },
  )

  test('the Bearer scheme is case-insensitive and surrounding spaces do not matter', async () => {
    expect((await call('GET', `/v1/tenants/${OWN}`, `bearer ${tokens.own}`)).status).toBe(200)
    expect((await call('GET', '/v1/tenants', `BEARER   ${ADMIN}  `)).status).toBe(200)
  })

  test("a tenant token does not reach another tenant's run through its own tenant's path", async () => {
    const reply = await call(
      'GET',
      `/v1/tenants/${OTHER}/runs/${fixture.doneRun}`,
      bearer(tokens.other),
    )
    expect(reply.status).toBe(404)
    expect(reply.body.error.code).toBe('RUN_NOT_FOUND')
  })

  test('a deleted tenant’s token stops working, even for a new tenant with the same id', async () => {
    const first = await mint('phoenix')
    expect((await call('GET', '/v1/tenants/phoenix', bearer(first.token))).status).toBe(200)
    await server.admin.delete<any>('/v1/tenants/phoenix')
    expect((await call('GET', '/v1/tenants/phoenix', bearer(first.token))).status).toBe(401)
    const second = await mint('phoenix')
    expect(second.token).not.toBe(first.token)
    expect((await call('GET', '/v1/tenants/phoenix', bearer(first.token))).status).toBe(401)
    expect((await call('GET', '/v1/tenants/phoenix', bearer(second.token))).status).toBe(200)
  })
})

describe('routes outside the tenant API', () => {
  test.each([...UNAUTHENTICATED.map((c) => c.credential), 'the admin token', "a tenant's token"])(
    'GET /v1/health answers {ok: true} with %s',
    async (credential) => {
      const authorization =
        credential === 'the admin token'
          ? bearer(ADMIN)
          : credential === "a tenant's token"
            ? bearer(tokens.own)
            : UNAUTHENTICATED.find((c) => c.credential === credential)!.authorization()
      const reply = await call('GET', '/v1/health', authorization)
      expect(reply.status).toBe(200)
      expect(reply.body).toEqual({ ok: true })
    },
  )

  test('GET /v1/whoami names the caller a valid token proves, and nobody else', async () => {
    expect((await call('GET', '/v1/whoami', bearer(ADMIN))).body).toEqual({ kind: 'admin' })
    expect((await call('GET', '/v1/whoami', bearer(tokens.own))).body).toEqual({
      kind: 'tenant',
      tenantId: OWN,
    })
    for (const credential of UNAUTHENTICATED) {
      expect(
        (await call('GET', '/v1/whoami', credential.authorization())).status,
        credential.credential,
      ).toBe(401)
    }
  })

  test("GET /v1/tenants/:id/runs/stream opens for the admin and the tenant's token only", async () => {
    const open = async (tenant: string, authorization: string | undefined) => {
      const controller = new AbortController()
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization }
      const response = await server.fetch(`/v1/tenants/${tenant}/runs/stream`, {
        headers,
        signal: controller.signal,
      })
      const type = response.headers.get('content-type')
      controller.abort()
      await response.body?.cancel()
      return { status: response.status, type }
    }
    expect(await open(OWN, bearer(tokens.own))).toEqual({
      status: 200,
      type: 'text/event-stream; charset=utf-8',
    })
    expect((await open(OWN, bearer(ADMIN))).status).toBe(200)
    expect((await open(OWN, bearer(tokens.other))).status).toBe(403)
    expect((await open(OWN, undefined)).status).toBe(401)
    expect((await open('no-such-tenant', bearer(ADMIN))).status).toBe(404)
  })

  test('GET /metrics serves Prometheus text to the admin token only', async () => {
    const admin = await call('GET', '/metrics', bearer(ADMIN))
    expect(admin.status).toBe(200)
    expect(admin.text).toMatch(/^litecell_tenants\{state="active"\} \d+$/m)
    expect((await call('GET', '/metrics', undefined)).status).toBe(401)
    expect((await call('GET', '/metrics', bearer('lca_wrong'))).status).toBe(401)
    expect((await call('GET', '/metrics', bearer(tokens.own))).status).toBe(403)
  })
})
