/**
 * The schedule routes (`/v1/tenants/:id/schedules…`) and the upgrade route: bad input gets a
 * 400 that quotes the value and says why (the cron parser's own reason for a bad cron text or
 * time zone) and changes nothing; only the admin token or the tenant's own token reaches a
 * tenant's schedules, and only the admin token upgrades a tenant. In-process (the control
 * plane's app, the real workers' apps, `app.request()`); firing on time, across crashes and
 * hibernation is in the end-to-end files `test/schedule-*.test.ts`.
 */
import { beforeAll, describe, expect, test } from 'vitest'
import { callRaw, createTenant, expectApiError, type RawReply } from '@litecell/testkit/e2e'
import { useInProcessServer } from '@litecell/testkit/in-process'

const OWN = 'clock'
const OTHER = 'intruder'
const S = `/v1/tenants/${OWN}/schedules`

const server = useInProcessServer()
const tokens = { own: '', other: '' }

beforeAll(async () => {
  tokens.own = (await createTenant(server.admin, OWN)).token
  tokens.other = (await createTenant(server.admin, OTHER)).token
  await server.admin.createSchedule(OWN, { id: 'hourly', cron: '0 * * * *', workflow: 'quick' })
})

const bearer = (token: string) => `Bearer ${token}`

function call(
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
): Promise<RawReply> {
  return callRaw(server, method, path, token === undefined ? undefined : bearer(token), body)
}

function admin(method: string, path: string, body?: unknown): Promise<RawReply> {
  return call(method, path, server.adminToken, body)
}

async function scheduleIds(): Promise<string[]> {
  return (await server.admin.listSchedules(OWN)).map((schedule) => schedule.id)
}

interface BadInput {
  readonly what: string
  readonly method: string
  readonly path: string
  readonly body?: unknown
  readonly status: number
  readonly code: string
  /** Words the message must contain. */
  readonly mentions: string
}

const BAD_INPUT: readonly BadInput[] = [
  {
    what: 'a cron with a minute out of range',
    method: 'POST',
    path: S,
    body: { id: 'a', cron: '61 * * * *', workflow: 'quick' },
    status: 400,
    code: 'INVALID_INPUT',
    mentions: 'Invalid value for minute: 61',
  },
  {
    what: 'a cron with three fields',
    method: 'POST',
    path: S,
    body: { id: 'a', cron: '* * *', workflow: 'quick' },
    status: 400,
    code: 'INVALID_INPUT',
    mentions: 'got `* * *` (string)',
  },
  {
    what: 'a cron that never fires',
    method: 'POST',
    path: S,
    body: { id: 'a', cron: '0 0 30 2 *', workflow: 'quick' },
    status: 400,
    code: 'INVALID_INPUT',
    mentions: 'matches no future date',
  },
  {
    what: 'a cron that is not a string',
    method: 'POST',
    path: S,
    body: { id: 'a', cron: 5, workflow: 'quick' },
    status: 400,
    code: 'INVALID_INPUT',
    mentions: 'got `5` (number)',
  },
  {
    what: 'an unknown time zone',
    method: 'POST',
    path: S,
    body: { id: 'a', cron: '* * * * *', timezone: 'Mars/Olympus', workflow: 'quick' },
    status: 400,
    code: 'INVALID_INPUT',
    mentions: 'Invalid time zone specified: Mars/Olympus',
  },
  {
    what: 'an unknown workflow',
    method: 'POST',
    path: S,
    body: { id: 'a', cron: '* * * * *', workflow: 'nope' },
    status: 400,
    code: 'UNKNOWN_WORKFLOW',
    mentions: '`nope`',
  },
  {
    what: 'an id with a slash',
    method: 'POST',
    path: S,
    body: { id: 'a/b', cron: '* * * * *', workflow: 'quick' },
    status: 400,
    code: 'INVALID_INPUT',
    mentions: 'got `a/b` (string)',
  },
  {
    what: 'no id',
    method: 'POST',
    path: S,
    body: { cron: '* * * * *', workflow: 'quick' },
    status: 400,
    code: 'INVALID_INPUT',
    mentions: 'Expected `id`',
  },
  {
    what: 'an unknown overlap',
    method: 'POST',
    path: S,
    body: { id: 'a', cron: '* * * * *', workflow: 'quick', overlap: 'sometimes' },
    status: 400,
    code: 'INVALID_INPUT',
    mentions: 'one of skip, allow, queue',
  },
  {
    what: 'an unknown catchUp',
    method: 'POST',
    path: S,
    body: { id: 'a', cron: '* * * * *', workflow: 'quick', catchUp: 'some' },
    status: 400,
    code: 'INVALID_INPUT',
    mentions: 'one of latest, all, none',
  },
  {
    what: 'a body that is not an object',
    method: 'POST',
    path: S,
    body: [1, 2],
    status: 400,
    code: 'BAD_REQUEST',
    mentions: 'JSON object',
  },
  {
    what: 'an id in use',
    method: 'POST',
    path: S,
    body: { id: 'hourly', cron: '* * * * *', workflow: 'quick' },
    status: 409,
    code: 'SCHEDULE_EXISTS',
    mentions: 'hourly',
  },
  {
    what: 'a backfill without times',
    method: 'POST',
    path: `${S}/hourly/backfill`,
    body: {},
    status: 400,
    code: 'INVALID_INPUT',
    mentions: 'Expected `from`',
  },
  {
    what: 'a backfill with a bad time',
    method: 'POST',
    path: `${S}/hourly/backfill`,
    body: { from: 'yesterday', to: '2026-01-02T00:00:00Z' },
    status: 400,
    code: 'INVALID_INPUT',
    mentions: 'got `yesterday` (string)',
  },
  {
    what: 'a backfill whose from is not before to',
    method: 'POST',
    path: `${S}/hourly/backfill`,
    body: { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' },
    status: 400,
    code: 'INVALID_INPUT',
    mentions: 'a time before `to`',
  },
  {
    what: 'a backfill of more than 1000 fires',
    method: 'POST',
    path: `${S}/hourly/backfill`,
    body: { from: '2020-01-01T00:00:00Z', to: '2021-01-01T00:00:00Z' },
    status: 400,
    code: 'INVALID_INPUT',
    mentions: 'more than 1000 fire times of `0 * * * *`; split it',
  },
  {
    what: 'a trigger key that is not a string',
    method: 'POST',
    path: `${S}/hourly/trigger`,
    body: { idempotencyKey: 7 },
    status: 400,
    code: 'BAD_REQUEST',
    mentions: 'Expected `idempotencyKey`',
  },
  {
    what: 'an unknown schedule',
    method: 'POST',
    path: `${S}/nope/pause`,
    status: 404,
    code: 'SCHEDULE_NOT_FOUND',
    mentions: 'nope',
  },
  {
    what: 'the deletion of an unknown schedule',
    method: 'DELETE',
    path: `${S}/nope`,
    status: 404,
    code: 'SCHEDULE_NOT_FOUND',
    mentions: 'nope',
  },
  {
    what: 'an upgrade to an unknown app',
    method: 'POST',
    path: `/v1/tenants/${OWN}/upgrade`,
    body: { app: 'shop' },
    status: 400,
    code: 'UNKNOWN_APP',
    mentions: 'shop',
  },
  {
    what: 'an upgrade whose app is not a string',
    method: 'POST',
    path: `/v1/tenants/${OWN}/upgrade`,
    body: { app: ['test'] },
    status: 400,
    code: 'BAD_REQUEST',
    mentions: 'Expected `app`',
  },
  {
    what: 'an upgrade of an unknown tenant',
    method: 'POST',
    path: '/v1/tenants/nobody/upgrade',
    body: {},
    status: 404,
    code: 'TENANT_NOT_FOUND',
    mentions: 'nobody',
  },
]

describe('bad input gets a clear 4xx and changes nothing', () => {
  test.each(BAD_INPUT.map((c) => [`${c.what} → ${c.status} ${c.code}`, c] as const))(
    '%s',
    async (_, c) => {
      const before = await server.admin.listSchedules(OWN)
      expectApiError(await admin(c.method, c.path, c.body), c.status, c.code, c.mentions)
      expect(await server.admin.listSchedules(OWN)).toEqual(before)
      expect((await server.admin.getTenant(OWN)).app).toBe('test')
    },
  )

  test('nothing ran: the refused backfills and triggers started no run', async () => {
    expect((await server.admin.listRuns(OWN)).runs).toEqual([])
  })
})

/** Every schedule route, with what a request that gets in answers. */
const ROUTES: readonly {
  route: string
  method: string
  path: (id: string) => string
  body?: unknown
  okStatus: number
}[] = [
  { route: 'POST /schedules', method: 'POST', path: () => S, okStatus: 201 },
  { route: 'GET /schedules', method: 'GET', path: () => S, okStatus: 200 },
  { route: 'GET /schedules/:sid', method: 'GET', path: (id) => `${S}/${id}`, okStatus: 200 },
  {
    route: 'POST /schedules/:sid/pause',
    method: 'POST',
    path: (id) => `${S}/${id}/pause`,
    okStatus: 200,
  },
  {
    route: 'POST /schedules/:sid/resume',
    method: 'POST',
    path: (id) => `${S}/${id}/resume`,
    okStatus: 200,
  },
  {
    route: 'POST /schedules/:sid/trigger',
    method: 'POST',
    path: (id) => `${S}/${id}/trigger`,
    okStatus: 202,
  },
  {
    route: 'POST /schedules/:sid/backfill',
    method: 'POST',
    path: (id) => `${S}/${id}/backfill`,
    body: { from: '2026-01-01T00:00:00Z', to: '2026-01-01T02:00:00Z' },
    okStatus: 202,
  },
  { route: 'DELETE /schedules/:sid', method: 'DELETE', path: (id) => `${S}/${id}`, okStatus: 200 },
]

describe('only the admin or the tenant’s own token reaches its schedules', () => {
  let n = 0
  /** A fresh schedule for each request that gets in (deleting one must not break the next). */
  async function fresh(): Promise<string> {
    const id = `s${++n}`
    await server.admin.createSchedule(OWN, { id, cron: '0 * * * *', workflow: 'quick' })
    return id
  }
  function bodyOf(route: (typeof ROUTES)[number], id: string): unknown {
    return route.route === 'POST /schedules'
      ? { id: `${id}-new`, cron: '0 * * * *', workflow: 'quick' }
      : route.body
  }

  test.each(ROUTES.map((r) => [r.route, r] as const))(
    '%s: no token → 401, another tenant’s token → 403, nothing changes',
    async (_, route) => {
      const id = await fresh()
      const before = await scheduleIds()
      expectApiError(
        await call(route.method, route.path(id), undefined, bodyOf(route, id)),
        401,
        'UNAUTHENTICATED',
      )
      expectApiError(
        await call(route.method, route.path(id), 'lct_forged', bodyOf(route, id)),
        401,
        'UNAUTHENTICATED',
      )
      expectApiError(
        await call(route.method, route.path(id), tokens.other, bodyOf(route, id)),
        403,
        'FORBIDDEN',
      )
      expect(await scheduleIds()).toEqual(before)
      expect((await server.admin.getSchedule(OWN, id)).paused).toBe(false)
    },
  )

  test.each(ROUTES.map((r) => [r.route, r] as const))(
    '%s: the tenant’s own token and the admin token get in',
    async (_, route) => {
      for (const token of [tokens.own, server.adminToken]) {
        const id = await fresh()
        const reply = await call(route.method, route.path(id), token, bodyOf(route, id))
        expect(reply.status, reply.text).toBe(route.okStatus)
      }
    },
  )

  test('the other tenant’s token does not reach these schedules through its own tenant', async () => {
    expectApiError(
      await call('GET', `/v1/tenants/${OTHER}/schedules/hourly`, tokens.other),
      404,
      'SCHEDULE_NOT_FOUND',
    )
  })

  test('upgrade is admin only', async () => {
    expectApiError(
      await call('POST', `/v1/tenants/${OWN}/upgrade`, tokens.own, {}),
      403,
      'FORBIDDEN',
    )
    expectApiError(
      await call('POST', `/v1/tenants/${OWN}/upgrade`, undefined, {}),
      401,
      'UNAUTHENTICATED',
    )
    const upgraded = await call('POST', `/v1/tenants/${OWN}/upgrade`, server.adminToken, {})
    expect(upgraded.status, upgraded.text).toBe(200)
    expect(upgraded.body).toMatchObject({ id: OWN, app: 'test', state: 'active' })
  })
})
