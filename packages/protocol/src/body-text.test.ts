import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { Hono } from 'hono'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { limitBody, readBodyText } from './body-text.js'
import { errorResponse } from './error-response.js'
import { readJsonObject } from './request-body.js'

const LIMIT = 64 * 1024

// A real @hono/node-server, as the control plane and the worker run: the body is read from
// the Node request itself there, and `app.request()` (no Node request) takes Hono's path.
const app = new Hono()
app.onError((err, context) => errorResponse(context, err))
app.use('*', limitBody(LIMIT))
app.post('/echo', async (context) => context.json({ text: await readBodyText(context) }))
// Two readers of one body (a middleware and its route) get the same text.
app.post('/twice', async (context) => {
  const first = await readBodyText(context)
  return context.json({
    same: first === (await readBodyText(context)),
    body: await readJsonObject(context),
  })
})

let server: ServerType
let base: string
beforeAll(async () => {
  await new Promise<void>((listening) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => listening())
  })
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((closed) => server.close(() => closed())))

/** Sends `chunks` as a chunked body (no content-length) or, with `declareLength`, a declared one. */
function send(
  path: string,
  chunks: readonly (string | Buffer)[],
  options: { declareLength?: boolean } = {},
): Promise<{ status: number; connection: string | undefined; body: any }> {
  return new Promise((resolve, reject) => {
    const whole = Buffer.concat(chunks.map((chunk) => Buffer.from(chunk)))
    const outgoing = request(`${base}${path}`, {
      method: 'POST',
      agent: false,
      headers: options.declareLength ? { 'content-length': String(whole.length) } : {},
    })
    outgoing.on('error', reject)
    outgoing.on('response', (incoming) => {
      let text = ''
      incoming.setEncoding('utf8')
      incoming.on('data', (chunk: string) => (text += chunk))
      incoming.on('end', () =>
        resolve({
          status: incoming.statusCode!,
          connection: incoming.headers.connection,
          body: JSON.parse(text),
        }),
      )
    })
    if (options.declareLength) outgoing.end(whole)
    else {
      for (const chunk of chunks) outgoing.write(chunk)
      outgoing.end()
    }
  })
}

test('a chunked body is read whole, a character split across chunks intact, a leading BOM dropped', async () => {
  const euro = Buffer.from('€')
  const reply = await send('/echo', ['\uFEFF{"a":"', euro.subarray(0, 1), euro.subarray(1), '"}'])
  expect(reply).toMatchObject({ status: 200, body: { text: '{"a":"€"}' } })
})

test('an empty body is the empty string', async () => {
  expect(await send('/echo', [])).toMatchObject({ status: 200, body: { text: '' } })
  expect(await send('/echo', [], { declareLength: true })).toMatchObject({
    status: 200,
    body: { text: '' },
  })
})

test('one body read by two readers is the same text, and parses as JSON', async () => {
  const reply = await send('/twice', ['{"n":', '1}'])
  expect(reply).toMatchObject({ status: 200, body: { same: true, body: { n: 1 } } })
})

test('a chunked body over the limit: 413 BODY_TOO_LARGE and the connection closes', async () => {
  const reply = await send('/echo', ['x'.repeat(LIMIT / 2), 'x'.repeat(LIMIT / 2 + 1)])
  expect(reply.status).toBe(413)
  expect(reply.body.error.code).toBe('BODY_TOO_LARGE')
  expect(reply.connection).toBe('close')
})

test('a declared length over the limit is refused before the body is read', async () => {
  const reply = await send('/echo', ['x'.repeat(LIMIT + 1)], { declareLength: true })
  expect(reply).toMatchObject({
    status: 413,
    connection: 'close',
    body: { error: { code: 'BODY_TOO_LARGE' } },
  })
})

test('a body of exactly the limit is read', async () => {
  const reply = await send('/echo', ['x'.repeat(LIMIT)])
  expect(reply.status).toBe(200)
  expect(reply.body.text).toHaveLength(LIMIT)
})

test('without a Node request (app.request) the same limit and text hold', async () => {
  const ok = await app.request('/echo', { method: 'POST', body: '{"a":1}' })
  expect(await ok.json()).toEqual({ text: '{"a":1}' })
  const tooLarge = await app.request('/echo', { method: 'POST', body: 'x'.repeat(LIMIT + 1) })
  expect(tooLarge.status).toBe(413)
})
