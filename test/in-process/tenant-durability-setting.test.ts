/**
 * The tenant's durability setting (issue 11) through the control plane's real app:
 * `durability` on create, `PATCH /v1/tenants/:id` (admin only; labels and durability), shown
 * in the tenant's view and the list, validated at the boundary, and forwarded to the worker
 * with each request. In-process workers have no replica, so their answers say `local`; what
 * replicated answers mean is tested with real Litestream in the worker package and end to end.
 */
import { beforeAll, describe, expect, test } from 'vitest'
import { expectApiError } from '@litecell/testkit/e2e'
import { useInProcessServer } from '@litecell/testkit/in-process'

const server = useInProcessServer()
const tokens = { plain: '', other: '' }

beforeAll(async () => {
  tokens.plain = (await server.admin.createTenant({ id: 'plain', app: 'test' })).token
  tokens.other = (await server.admin.createTenant({ id: 'other', app: 'test' })).token
})

describe('tenant durability', () => {
  test('is local by default with local workers, and what a create asked for otherwise', async () => {
    expect((await server.admin.getTenant('plain')).durability).toBe('local')
    await server.admin.createTenant({ id: 'safe', app: 'test', durability: 'replicated' })
    expect((await server.admin.getTenant('safe')).durability).toBe('replicated')
    const listed = await server.admin.listTenants()
    expect(Object.fromEntries(listed.map((t) => [t.id, t.durability]))).toMatchObject({
      plain: 'local',
      safe: 'replicated',
    })
  })

  test('PATCH changes labels and durability, and only what it names', async () => {
    await server.admin.createTenant({ id: 'patched', app: 'test', labels: { team: 'ml' } })
    const changed = await server.admin.updateTenant('patched', { durability: 'replicated' })
    expect(changed).toMatchObject({
      id: 'patched',
      durability: 'replicated',
      labels: { team: 'ml' },
    })
    const relabelled = await server.admin.updateTenant('patched', {
      labels: { team: 'ops', tier: 'gold' },
    })
    expect(relabelled).toMatchObject({
      durability: 'replicated',
      labels: { team: 'ops', tier: 'gold' },
    })
    expect(await server.admin.updateTenant('patched', {})).toMatchObject({
      durability: 'replicated',
    })
    expect((await server.admin.getTenant('patched')).durability).toBe('replicated')
  })

  test('PATCH is for the admin only: 401 without a token, 403 with a tenant token (even its own)', async () => {
    const path = '/v1/tenants/plain'
    const body = { durability: 'replicated' }
    expectApiError(
      await server.admin.withToken(undefined).send<any>('PATCH', path, { body }),
      401,
      'UNAUTHENTICATED',
    )
    expectApiError(
      await server.admin.withToken('lct_nobody').send<any>('PATCH', path, { body }),
      401,
    )
    expectApiError(
      await server.admin.withToken(tokens.plain).send<any>('PATCH', path, { body }),
      403,
      'FORBIDDEN',
    )
    expectApiError(
      await server.admin.withToken(tokens.other).send<any>('PATCH', path, { body }),
      403,
      'FORBIDDEN',
    )
    expect((await server.admin.getTenant('plain')).durability).toBe('local')
  })

  test('bad values get 400 naming the field and change nothing', async () => {
    const cases: [unknown, string][] = [
      [{ durability: 'fast' }, '`durability`'],
      [{ durability: 'REPLICATED' }, '`REPLICATED` (string)'],
      [{ durability: null }, '`null` (null)'],
      [{ durability: 1 }, '`1` (number)'],
      [{ labels: 'x', durability: 'replicated' }, '`labels`'],
      [{ labels: { team: 7 } }, 'team'],
    ]
    for (const [body, mentions] of cases) {
      expectApiError(
        await server.admin.send<any>('PATCH', '/v1/tenants/plain', { body }),
        400,
        'BAD_REQUEST',
        mentions,
      )
    }
    expectApiError(
      await server.admin.send<any>('PATCH', '/v1/tenants/plain', { rawBody: '[1]' }),
      400,
      undefined,
      'JSON object',
    )
    expectApiError(
      await server.admin.send<any>('PATCH', '/v1/tenants/nobody', { body: {} }),
      404,
      'TENANT_NOT_FOUND',
    )
    expect(await server.admin.getTenant('plain')).toMatchObject({ durability: 'local', labels: {} })
    expectApiError(
      await server.admin.send<any>('POST', '/v1/tenants', {
        body: { id: 'never', durability: 'S3' },
      }),
      400,
      'BAD_REQUEST',
      '`durability`',
    )
    expect((await server.admin.listTenants()).map((t) => t.id)).not.toContain('never')
  })

  test('run answers say what they got in Litecell-Durability; a bad per-request value is a 400', async () => {
    const started = await server.admin.send<any>('POST', '/v1/tenants/plain/runs', {
      body: { workflow: 'quick', input: { n: 1 } },
    })
    expect(started.status).toBe(202)
    expect(started.headers.get('litecell-durability')).toBe('local')
    const viewed = await server.admin.send<any>(
      'GET',
      `/v1/tenants/plain/runs/${started.body.runId}`,
    )
    expect(viewed.headers.get('litecell-durability')).toBe('local')
    const before = (await server.admin.listRuns('plain', { limit: 1000 })).runs.length
    for (const [path, body] of [
      ['/runs', { workflow: 'quick', durability: 'maybe' }],
      ['/runs/batch', { runs: [{ workflow: 'quick' }], durability: 'later' }],
      [`/runs/${started.body.runId}/cancel`, { durability: 0 }],
      [`/runs/${started.body.runId}/resume`, { durability: 'now' }],
    ] as const) {
      expectApiError(
        await server.admin.send<any>('POST', `/v1/tenants/plain${path}`, { body }),
        400,
        'BAD_REQUEST',
        'durability',
      )
    }
    expect((await server.admin.listRuns('plain', { limit: 1000 })).runs.length).toBe(before)
  })
})
