import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { Readable } from 'node:stream'
import { rememberBufferedBody } from './buffered-body.js'

/** Longest answer read whole before the promise resolves (larger ones, and streams, flow). */
const BUFFERED_ANSWER_BYTES = 1024 * 1024
/**
 * An idle connection is closed after this long: well before the server closes it (Node's
 * default keep-alive timeout, 5 s, for litecell's servers), so a request never goes out on a
 * connection the server is closing at that moment (it could not tell "never sent" then).
 * The agents apply it to idle connections only: a long `result?waitMs=` is not cut.
 */
const IDLE_CONNECTION_MS = 2_000

const httpAgent = new HttpAgent({ keepAlive: true, timeout: IDLE_CONNECTION_MS })
const httpsAgent = new HttpsAgent({ keepAlive: true, timeout: IDLE_CONNECTION_MS })

/**
 * `fetch` over `node:http` / `node:https` with keep-alive agents: the client's transport in
 * Node, and the control plane's for its calls to workers (on every tenant request). Measured
 * on loopback here, Node's global fetch (undici's WHATWG layer) spends about five times the
 * CPU of `node:http` per request (≈ 0.6 vs 0.12 ms, both ends in one process). It takes what
 * litecell's clients send (a string or byte body, plain or `Headers` headers, a signal) and
 * fails like fetch: a `TypeError` whose `cause` is the network error (`ECONNREFUSED`: the
 * request never left). An answer of known small length resolves once read whole (its bytes
 * are then also at {@link bufferedBody}); any other answer resolves at its headers and streams.
 * Redirects are not followed (the litecell API sends none).
 */
export const nodeFetch = (url: string, init: RequestInit): Promise<Response> =>
  new Promise<Response>((resolve, reject) => {
    const failed = (err: Error) => reject(new TypeError('fetch failed', { cause: err }))
    let outgoing
    try {
      const https = url.startsWith('https:')
      outgoing = (https ? httpsRequest : httpRequest)(url, {
        agent: https ? httpsAgent : httpAgent,
        method: init.method ?? 'GET',
        headers: plainHeaders(init.headers),
        ...(init.signal ? { signal: init.signal } : {}),
      })
    } catch (err) {
      failed(err as Error)
      return
    }
    // `on`, not `once`: a second error event with no listener would crash the control plane.
    outgoing.on('error', failed)
    outgoing.once('response', (incoming) => {
      const status = incoming.statusCode ?? 502
      const headers = webHeaders(incoming.headers)
      const length = Number(incoming.headers['content-length'] ?? NaN)
      if (!(length <= BUFFERED_ANSWER_BYTES)) {
        resolve(
          new Response(
            hasNoBody(status) ? null : (Readable.toWeb(incoming) as ReadableStream<Uint8Array>),
            { status, headers },
          ),
        )
        return
      }
      readWhole(incoming).then((body) => {
        if (hasNoBody(status)) {
          resolve(new Response(null, { status, headers }))
          return
        }
        resolve(rememberBufferedBody(new Response(body, { status, headers }), body))
      }, failed)
    })
    outgoing.end(bodyOf(init.body))
  })

function readWhole(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)))
    incoming.on('error', reject)
    incoming.once('aborted', () => reject(new Error('the worker closed the connection mid-answer')))
  })
}

/** A `Response` refuses a body with these statuses. */
function hasNoBody(status: number): boolean {
  return status === 204 || status === 205 || status === 304
}

function plainHeaders(headers: RequestInit['headers']): Record<string, string> {
  if (headers === undefined) return {}
  if (headers instanceof Headers || Array.isArray(headers)) return Object.fromEntries(headers)
  return headers as Record<string, string>
}

function webHeaders(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers()
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue
    if (Array.isArray(value)) for (const one of value) headers.append(name, one)
    else headers.set(name, value)
  }
  return headers
}

function bodyOf(body: RequestInit['body']): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined
  if (typeof body === 'string' || body instanceof Uint8Array) return body
  throw new TypeError('nodeFetch sends string or byte bodies only')
}
