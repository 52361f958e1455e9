import { connect, type AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { Hono } from 'hono'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { requestHeader, requestHeaderNames } from './request-header.js'

// What the route saw, and whether it had to build a WHATWG `Request` to see it.
const app = new Hono()
app.get('/headers', (context) =>
  context.json({
    token: requestHeader(context, 'Authorization') ?? null,
    repeated: requestHeader(context, 'x-repeated') ?? null,
    absent: requestHeader(context, 'x-absent') ?? null,
    names: requestHeaderNames(context)
      .filter((name) => name.startsWith('x-'))
      .sort(),
  }),
)

let server: ServerType
beforeAll(async () => {
  await new Promise<void>((listening) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => listening())
  })
})
afterAll(() => new Promise<void>((closed) => server.close(() => closed())))

/** A GET with raw header pairs (a name may repeat), written to a socket as they are. */
function get(headers: readonly [string, string][]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const { port } = server.address() as AddressInfo
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    socket.on('data', (chunk) => (answer += chunk.toString()))
    socket.on('error', reject)
    socket.on('end', () => resolve(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))))
    const lines = headers.map(([name, value]) => `${name}: ${value}`)
    socket.end(
      ['GET /headers HTTP/1.1', 'Host: x', 'Connection: close', ...lines, '', ''].join('\r\n'),
    )
  })
}

const HEADERS: [string, string][] = [
  ['Authorization', 'Bearer one'],
  ['X-Repeated', 'a'],
  ['x-repeated', 'b'],
]

test('reads headers from the Node request as Headers.get would: any case, repeats joined', async () => {
  const expected = {
    token: 'Bearer one',
    repeated: 'a, b',
    absent: null,
    names: ['x-repeated'],
  }
  expect(await get(HEADERS)).toEqual(expected)
  // Without a Node request (`app.request()`, in-process tests) Hono's own reading answers the same.
  const inProcess = new Headers()
  for (const [name, value] of HEADERS) inProcess.append(name, value)
  expect(await (await app.request('/headers', { headers: inProcess })).json()).toEqual(expected)
})

test('a repeated Authorization header is both values joined (refused as a token), never the first alone', async () => {
  expect(
    await get([
      ['authorization', 'Bearer one'],
      ['authorization', 'Bearer two'],
    ]),
  ).toMatchObject({ token: 'Bearer one, Bearer two' })
})
