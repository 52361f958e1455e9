import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { ApiClient, ApiError, apiPath } from './api-client.js'
import { EXIT_CODES } from './cli-error.js'

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
      const send = (status: number, payload: string) => {
        response.writeHead(status, { 'content-type': 'application/json' })
        response.end(payload)
      }
      if (request.url?.startsWith('/v1/ok')) return send(200, JSON.stringify({ ok: true }))
      if (request.url === '/v1/missing')
        return send(
          404,
          JSON.stringify({ error: { code: 'TENANT_NOT_FOUND', message: 'no tenant acme' } }),
        )
      if (request.url === '/v1/auth')
        return send(
          401,
          JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'no token' } }),
        )
      if (request.url === '/v1/forbidden')
        return send(403, JSON.stringify({ error: { code: 'FORBIDDEN', message: 'admin only' } }))
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
  const client = new ApiClient({ baseUrl: `${baseUrl}/`, token: 'lct_secret' })
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
})

test('API errors carry status, code and the exit code scripts rely on, in one line', async () => {
  const client = new ApiClient({ baseUrl })
  const cases = [
    [
      '/v1/missing',
      404,
      'TENANT_NOT_FOUND',
      EXIT_CODES.NOT_FOUND,
      '404 TENANT_NOT_FOUND: no tenant acme',
    ],
    [
      '/v1/auth',
      401,
      'UNAUTHENTICATED',
      EXIT_CODES.AUTH,
      '401 UNAUTHENTICATED: no token (set LITECELL_TOKEN or pass --token)',
    ],
    ['/v1/forbidden', 403, 'FORBIDDEN', EXIT_CODES.AUTH, '403 FORBIDDEN: admin only'],
    ['/v1/proxy', 502, 'HTTP_502', EXIT_CODES.ERROR, '502 HTTP_502: <html>Bad Gateway</html>'],
  ] as const
  for (const [path, status, code, exitCode, message] of cases) {
    const error = await client.get(path).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status, code, exitCode, message })
  }
})

test('an unreachable server is CONNECTION_FAILED naming the URL', async () => {
  const closed = createServer()
  await new Promise<void>((listening) => closed.listen(0, '127.0.0.1', listening))
  const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
  await new Promise((done) => closed.close(done))
  const error = await new ApiClient({ baseUrl: url }).get('/v1/ok').catch((err: unknown) => err)
  expect(error).toMatchObject({ code: 'CONNECTION_FAILED', exitCode: EXIT_CODES.ERROR })
  expect((error as Error).message).toContain(`cannot reach ${url} (connection refused)`)
})

test('apiPath percent-encodes each segment', () => {
  expect(apiPath('tenants', 'a/b', 'runs')).toBe('/v1/tenants/a%2Fb/runs')
})
