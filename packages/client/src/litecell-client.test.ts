import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { apiPath } from './api-path.js'
import { LitecellClient } from './litecell-client.js'
import { LitecellError, isTransient } from './litecell-error.js'

let server: Server
let baseUrl: string
const seen: { method?: string; url?: string; authorization?: string; body?: string }[] = []

// A real HTTP server speaking the API's error shape, so the client is tested over the wire.
beforeAll(async () => {
  server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      seen.push({
        method: request.method,
        url: request.url,
        authorization: request.headers.authorization,
        body,
      })
      const send = (status: number, payload: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' })
        response.end(JSON.stringify(payload))
      }
      const error = (status: number, code: string, message: string) =>
        send(status, { error: { code, message } })
      if (request.url?.startsWith('/v1/ok')) return send(200, { ok: true })
      if (request.url === '/v1/missing') return error(404, 'TENANT_NOT_FOUND', 'no tenant acme')
      if (request.url === '/v1/auth') return error(401, 'UNAUTHENTICATED', 'no token')
      if (request.url === '/v1/busy') return error(429, 'OVER_CAPACITY', 'all slots busy')
      if (request.url === '/v1/failed') return error(503, 'TENANT_FAILED', 'crash loop')
      response.writeHead(502, { 'content-type': 'text/html' })
      response.end('<html>Bad Gateway</html>')
    })
  })
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((closed) => server.close(closed))
})

test('sends the bearer token, JSON body and query parameters; parses the JSON answer', async () => {
  const client = new LitecellClient({ baseUrl: `${baseUrl}/`, token: 'lct_secret' })
  expect(await client.post('/v1/ok', { a: 1 })).toEqual({ ok: true })
  expect(await client.get('/v1/ok', { limit: 5, cursor: undefined, status: 'failed' })).toEqual({
    ok: true,
  })
  expect(seen.at(-2)).toMatchObject({
    method: 'POST',
    authorization: 'Bearer lct_secret',
    body: '{"a":1}',
  })
  expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/v1/ok?limit=5&status=failed' })
  await client.withToken(undefined).get('/v1/ok')
  expect(seen.at(-1)?.authorization).toBeUndefined()
})

test('API errors carry status, code and the server message, in one line', async () => {
  const client = new LitecellClient({ baseUrl })
  const cases = [
    ['/v1/missing', 404, 'TENANT_NOT_FOUND', '404 TENANT_NOT_FOUND: no tenant acme'],
    ['/v1/auth', 401, 'UNAUTHENTICATED', '401 UNAUTHENTICATED: no token'],
    ['/v1/proxy', 502, 'HTTP_502', '502 HTTP_502: <html>Bad Gateway</html>'],
  ] as const
  for (const [path, status, code, message] of cases) {
    const error = await client.get(path).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(LitecellError)
    expect(error).toMatchObject({ status, code, message })
  }
})

test('send returns any answer without throwing', async () => {
  const reply = await new LitecellClient({ baseUrl }).send('POST', '/v1/missing', {
    rawBody: '{',
  })
  expect(reply.status).toBe(404)
  expect(reply.body).toEqual({ error: { code: 'TENANT_NOT_FOUND', message: 'no tenant acme' } })
  expect(seen.at(-1)?.body).toBe('{')
})

test('an unreachable server is CONNECTION_FAILED naming the URL, and transient', async () => {
  const closed = createServer()
  await new Promise<void>((listening) => closed.listen(0, '127.0.0.1', listening))
  const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
  await new Promise((done) => closed.close(done))
  const error = await new LitecellClient({ baseUrl: url }).get('/v1/ok').catch((err) => err)
  expect(error).toMatchObject({ code: 'CONNECTION_FAILED', status: 0 })
  expect((error as Error).message).toBe(`cannot reach ${url} (connection refused)`)
  expect(isTransient(error)).toBe(true)
})

test('429 is transient; a failed tenant is not', async () => {
  const client = new LitecellClient({ baseUrl })
  expect(isTransient(await client.get('/v1/busy').catch((err) => err))).toBe(true)
  expect(isTransient(await client.get('/v1/failed').catch((err) => err))).toBe(false)
})

test('a URL that is not http(s) is refused at construction', () => {
  expect(() => new LitecellClient({ baseUrl: 'localhost:8787' })).toThrow(TypeError)
})

test('apiPath percent-encodes each segment', () => {
  expect(apiPath('tenants', 'a/b', 'runs')).toBe('/v1/tenants/a%2Fb/runs')
})
