import type { Context, MiddlewareHandler } from 'hono'
import { ProtocolError } from './protocol-error.js'
import { requestHeader } from './request-header.js'

/** What this module needs of a Node `IncomingMessage` (@hono/node-server's `env.incoming`). */
interface NodeIncoming {
  readonly readableDidRead: boolean
  readonly readableEnded: boolean
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown
  on(event: 'end' | 'close', listener: () => void): unknown
  on(event: 'error', listener: (err: Error) => void): unknown
  removeAllListeners(event: 'data'): unknown
  pause(): unknown
}

/** Each request's body text, read once (a middleware and the route may both want it). */
const bodies = new WeakMap<Request, Promise<string>>()
/** The most bytes a request's body may have, as its app's {@link limitBody} said. */
const limits = new WeakMap<Request, number>()

/**
 * Middleware: a body over `maxBytes` is refused with 413 `BODY_TOO_LARGE` (its answer closes
 * the connection, where the rest of the body stays unread). A declared `content-length` is
 * checked at once; a chunked body when {@link readBodyText} reads it.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return async function bodyLimit(context, next) {
    if (Number(requestHeader(context, 'content-length') ?? 0) > maxBytes) throw tooLarge(maxBytes)
    limits.set(context.req.raw, maxBytes)
    await next()
  }
}

/**
 * The request's body as text (UTF-8, a leading byte-order mark dropped, as `Request.text()`
 * does), read once per request. Under @hono/node-server it reads the Node request itself:
 * Hono's `req.text()` first builds a WHATWG `Request` (an `AbortController`, a `Headers`, a web
 * stream) for every request, measured as the largest share of the control plane's CPU per
 * proxied request after the socket writes. Elsewhere (`app.request()` in tests) it is
 * `req.text()`.
 */
export function readBodyText(context: Context): Promise<string> {
  const request = context.req.raw
  let text = bodies.get(request)
  if (text === undefined) {
    const incoming = (context.env as { incoming?: NodeIncoming } | undefined)?.incoming
    const maxBytes = limits.get(request) ?? Infinity
    // Untouched by anyone else, or the web stream over it would see a part of it.
    text =
      incoming !== undefined && !incoming.readableDidRead && !incoming.readableEnded
        ? readIncoming(incoming, maxBytes)
        : context.req.text().then((whole) => {
            if (new TextEncoder().encode(whole).length > maxBytes) throw tooLarge(maxBytes)
            return whole
          })
    bodies.set(request, text)
  }
  return text
}

function readIncoming(incoming: NodeIncoming, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = []
    let size = 0
    incoming.on('data', (chunk) => {
      size += chunk.byteLength
      if (size <= maxBytes) {
        chunks.push(chunk)
        return
      }
      // The rest stays unread: the 413's `connection: close` ends it.
      incoming.removeAllListeners('data')
      incoming.pause()
      reject(tooLarge(maxBytes))
    })
    let ended = false
    incoming.on('end', () => {
      ended = true
      resolve(decode(chunks, size))
    })
    incoming.on('error', reject)
    // Closed before its end: the client went away mid-body (no answer will reach it).
    incoming.on('close', () => {
      if (!ended) reject(new ProtocolError('BAD_REQUEST', 'the client closed the request mid-body'))
    })
  })
}

function decode(chunks: readonly Uint8Array[], size: number): string {
  if (chunks.length === 1) return new TextDecoder().decode(chunks[0])
  const whole = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    whole.set(chunk, offset)
    offset += chunk.byteLength
  }
  return new TextDecoder().decode(whole)
}

function tooLarge(maxBytes: number): ProtocolError {
  return new ProtocolError('BODY_TOO_LARGE', `request body over ${maxBytes} bytes`)
}
