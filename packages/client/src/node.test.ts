import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { LitecellClient, bufferedBody } from './node.js'

let server: Server
let baseUrl: string

beforeAll(async () => {
  server = createServer((request, response) => {
    const body = JSON.stringify({ path: request.url, agent: request.headers['user-agent'] ?? null })
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    })
    response.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

test('in Node, a client without its own fetch sends over node:http (nodeFetch), not the global fetch', async () => {
  const client = new LitecellClient({ baseUrl })
  const response = await client.fetch('GET', '/v1/whoami')
  // Only nodeFetch reads an answer whole into bytes; the global fetch sends a user-agent.
  expect(bufferedBody(response)).toBeDefined()
  expect(await client.get('/v1/whoami')).toEqual({ path: '/v1/whoami', agent: null })
})

test('a client given its own fetch keeps it', async () => {
  const client = new LitecellClient({ baseUrl, fetch: (url, init) => fetch(url, init) })
  expect(await client.get('/v1/whoami')).toEqual({ path: '/v1/whoami', agent: 'node' })
})
