/**
 * The OpenAPI document (issue 15 item 8): served at `GET /openapi.json`, committed as
 * `docs/openapi.json` and current, a valid OpenAPI 3.1 document, and complete: every route the
 * control plane and the worker register is in it (and nothing else). Catches a route added
 * without a document entry (the lead's merges add routes), a schema changed without
 * `pnpm openapi`, and a document that a validator rejects.
 */
import { readFileSync } from 'node:fs'
import { Validator } from '@seriousme/openapi-schema-validator'
import { API_ROUTES, OPENAPI_FILE, openApiDocument, openApiText } from '@litecell/control-plane'
import { defineApp } from '@litecell/engine'
import { CALLBACK_BASE_PATH } from '@litecell/protocol'
import { cleanup, openTestEngine, tempDir } from '@litecell/testkit/engine'
import { useInProcessServer } from '@litecell/testkit/in-process'
import { createTenantApi } from '@litecell/worker'
import { afterAll, expect, test } from 'vitest'

const server = useInProcessServer()
afterAll(cleanup)

/** `METHOD /path/{param}` of a Hono route path (`:param` → `{param}`). */
const key = (method: string, path: string) =>
  `${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`

test('GET /openapi.json answers, without a token, the document committed in docs/openapi.json', async () => {
  const reply = await server.current.app.api.request('/openapi.json')
  expect(reply.status).toBe(200)
  const served = await reply.json()
  expect(served).toEqual(openApiDocument())
  // Run `pnpm openapi` after changing a route or a schema.
  expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(openApiText())
})

test('the document is valid OpenAPI 3.1', async () => {
  const result = await new Validator().validate(
    openApiDocument() as Parameters<Validator['validate']>[0],
  )
  expect(result.errors ?? []).toEqual([])
  expect(result.valid).toBe(true)
})

test('every route the control plane and the worker answer is documented, and nothing more', async () => {
  const controlPlane = server.current.app.api.routes
    .filter((route) => route.method !== 'ALL')
    .filter((route) => !route.path.startsWith(CALLBACK_BASE_PATH))
    // The dashboard's page and assets are not API.
    .filter(
      (route) =>
        route.path !== '/' &&
        !route.path.startsWith('/index.html') &&
        !route.path.startsWith('/assets/'),
    )
    .map((route) => key(route.method, route.path))
  const { engine } = await openTestEngine(defineApp({ workflows: { noop: async () => null } }))
  const worker = createTenantApi({
    tenantId: 'acme',
    engine,
    workerSecret: 'secret',
    isStopping: () => false,
    scratchDir: tempDir('openapi'),
    hibernate: async () => 0,
    syncPoint: async () => ({ at: new Date().toISOString() }),
  })
  const workerRoutes = worker.routes
    .filter((route) => route.method !== 'ALL' && route.path.startsWith('/v1/tenants/acme/'))
    .map((route) => key(route.method, route.path.replace('/v1/tenants/acme/', '/v1/tenants/{id}/')))
  const answered = new Set([...controlPlane, ...workerRoutes])
  const documented = new Set(API_ROUTES.map((route) => key(route.method, route.path)))
  // `/metrics` is answered only with metrics on (not in this server).
  expect([...answered].filter((route) => !documented.has(route)).sort()).toEqual([])
  expect(
    [...documented].filter((route) => !answered.has(route) && route !== 'GET /metrics').sort(),
  ).toEqual([])
})
