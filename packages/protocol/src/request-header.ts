import type { Context } from 'hono'

/** What this module needs of a Node `IncomingMessage` (@hono/node-server's `env.incoming`). */
interface NodeIncoming {
  readonly headersDistinct: Readonly<Record<string, readonly string[] | undefined>>
}

function incomingOf(context: Context): NodeIncoming | undefined {
  return (context.env as { incoming?: NodeIncoming } | undefined)?.incoming
}

/**
 * A request header's value, as `Headers.get` gives it (repeated values joined by `, `), or
 * undefined. Under @hono/node-server it is read from the Node request: Hono's
 * `req.header()` first turns the request into a WHATWG `Request` (a copy of every header
 * into an undici `Headers`), measured here at 70–100 µs a request until V8 has optimized it
 * (≈ 12 µs after), and the request path reads a header or two at every hop. Elsewhere
 * (`app.request()` in tests) it is `req.header()`.
 */
export function requestHeader(context: Context, name: string): string | undefined {
  const incoming = incomingOf(context)
  if (incoming === undefined) return context.req.header(name)
  return incoming.headersDistinct[name.toLowerCase()]?.join(', ')
}

/** The names of the request's headers (lower case), read like {@link requestHeader}. */
export function requestHeaderNames(context: Context): string[] {
  const incoming = incomingOf(context)
  return incoming === undefined
    ? [...context.req.raw.headers.keys()]
    : Object.keys(incoming.headersDistinct)
}
