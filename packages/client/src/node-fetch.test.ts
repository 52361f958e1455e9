import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { bufferedBody } from './buffered-body.js'
import { nodeFetch } from './node-fetch.js'

let server: Server | undefined

afterEach(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
  server = undefined
})

/** A real HTTP server on loopback; resolves its base URL. */
async function serve(
  handler: (request: IncomingMessage, body: string, response: ServerResponse) => void,
): Promise<string> {
  server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => handler(request, body, response))
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('nodeFetch (the client in Node, and the control plane → worker hop)', () => {
  it('sends method, headers and body, and answers status, headers and body like fetch', async () => {
    const url = await serve((request, body, response) => {
      response.setHeader('content-type', 'application/json')
      response.setHeader(
        'x-seen',
        `${request.method} ${request.url} ${request.headers['x-secret']}`,
      )
      response.statusCode = 202
      response.end(JSON.stringify({ echoed: JSON.parse(body) }))
    })
    const answer = await nodeFetch(`${url}/v1/runs?x=1`, {
      method: 'POST',
      headers: { 'x-secret': 's3', 'content-type': 'application/json' },
      body: JSON.stringify({ n: 1 }),
    })
    expect(answer.status).toBe(202)
    expect(answer.headers.get('x-seen')).toBe('POST /v1/runs?x=1 s3')
    expect(answer.headers.get('content-type')).toBe('application/json')
    expect(await answer.json()).toEqual({ echoed: { n: 1 } })
  })

  it('reuses one connection for requests in sequence', async () => {
    const url = await serve((request, _body, response) =>
      response.end(String(request.socket.remotePort)),
    )
    const ports = new Set<string>()
    for (let i = 0; i < 5; i++)
      ports.add(await (await nodeFetch(`${url}/`, { method: 'GET' })).text())
    expect(ports.size).toBe(1)
  })

  it('streams an answer of unknown length as it comes (a run stream)', async () => {
    let finish: () => void = () => undefined
    const url = await serve((_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      response.write('event: first\n\n')
      finish = () => response.end('event: last\n\n')
    })
    const answer = await nodeFetch(`${url}/stream`, { method: 'GET' })
    const reader = answer.body!.getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toBe('event: first\n\n')
    finish()
    let rest = ''
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest += new TextDecoder().decode(chunk.value)
    expect(rest).toBe('event: last\n\n')
  })

  it('lets an answer take longer than the idle-connection timeout (a long result?waitMs=)', async () => {
    const url = await serve((_request, _body, response) => {
      setTimeout(() => response.end('late'), 2_500)
    })
    const answer = await nodeFetch(`${url}/wait`, { method: 'GET' })
    expect(await answer.text()).toBe('late')
  })

  it('hands the bytes of an answer read whole to the proxy, and none of a streamed one', async () => {
    const url = await serve((request, _body, response) => {
      if (request.url === '/stream') {
        response.writeHead(200, { 'content-type': 'text/event-stream' })
        response.end('event: only\n\n')
        return
      }
      response.setHeader('content-type', 'application/json')
      response.end('{"runId":"r1"}')
    })
    const whole = await nodeFetch(`${url}/run`, { method: 'GET' })
    expect(new TextDecoder().decode(bufferedBody(whole))).toBe('{"runId":"r1"}')
    // The same bytes are still there for anyone who reads the answer itself.
    expect(await whole.json()).toEqual({ runId: 'r1' })
    const streamed = await nodeFetch(`${url}/stream`, { method: 'GET' })
    expect(bufferedBody(streamed)).toBeUndefined()
    expect(await streamed.text()).toBe('event: only\n\n')
  })

  it('answers 204 with no body', async () => {
    const url = await serve((_request, _body, response) => {
      response.statusCode = 204
      response.end()
    })
    const answer = await nodeFetch(`${url}/`, { method: 'DELETE' })
    expect(answer.status).toBe(204)
    expect(answer.body).toBeNull()
  })

  it('fails like fetch when nothing listens: a TypeError whose cause is ECONNREFUSED (never sent)', async () => {
    const url = await serve(() => undefined)
    server!.close()
    await new Promise((resolve) => setTimeout(resolve, 10))
    const err = await nodeFetch(`${url}/`, { method: 'POST', body: '{}' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TypeError)
    expect((err as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED')
  })

  it('fails when the worker dies mid-request, and gives up at its signal', async () => {
    const url = await serve((request) => {
      if (request.url === '/die') request.socket.destroy()
    })
    await expect(nodeFetch(`${url}/die`, { method: 'POST', body: '{}' })).rejects.toBeInstanceOf(
      TypeError,
    )
    // The hanging request would time the test out if the signal were ignored.
    await expect(
      nodeFetch(`${url}/hang`, { method: 'GET', signal: AbortSignal.timeout(100) }),
    ).rejects.toBeInstanceOf(TypeError)
  })
})

describe('nodeFetch over TLS', () => {
  it('speaks https and verifies the certificate (a self-signed one is refused, like fetch)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'litecell-node-fetch-'))
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
      ],
      { cwd: dir, stdio: 'ignore' },
    )
    const tls = createHttpsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (_request, response) => response.end('secret'),
    )
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve))
    try {
      const port = (tls.address() as AddressInfo).port
      const err = await nodeFetch(`https://127.0.0.1:${port}/`, { method: 'GET' }).catch(
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(TypeError)
      expect((err as { cause?: { code?: string } }).cause?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT')
    } finally {
      tls.closeAllConnections()
      await new Promise((resolve) => tls.close(resolve))
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
