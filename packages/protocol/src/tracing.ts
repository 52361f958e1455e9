import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context as otelContext,
  propagation,
  trace,
  type Attributes,
  type TextMapGetter,
} from '@opentelemetry/api'
import type { Context, MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import { requestHeader, requestHeaderNames } from './request-header.js'

/** The span attribute naming a request's, run's or step's tenant. */
export const TENANT_ID_ATTRIBUTE = 'litecell.tenant.id'

/** Reads propagation headers (`traceparent`, `tracestate`) from a request. */
const HEADERS_GETTER: TextMapGetter<Context> = {
  get: (c, key) => requestHeader(c, key),
  keys: (c) => requestHeaderNames(c),
}

/** `/v1/tenants/<id>/…` → `<id>` (raw; the route validates it). */
const TENANT_PATH = /^\/v1\/tenants\/([^/]+)/

/**
 * A path segment decoded, or as sent if its percent-escapes are malformed: the route answers
 * such a path with its 4xx, and a throw here (URIError) made it a 500.
 */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/**
 * Middleware: one SERVER span per request, named `METHOD route`, child of the caller's
 * `traceparent` (through the global propagator), active while the request is handled so
 * spans started below it (the proxy hop, a run started by it) are its children. The
 * attributes are the tenant id (from the path), the route and the status. With no
 * OpenTelemetry SDK registered the API's no-op tracer answers: one non-recording span and
 * nothing else per request.
 */
export function traceRequests(tracerName: string): MiddlewareHandler {
  const tracer = trace.getTracer(tracerName)
  return async function traceRequest(c: Context, next) {
    // The caller's context only, never the ambient one: a request is where a trace enters.
    const parent = propagation.extract(ROOT_CONTEXT, c, HEADERS_GETTER)
    const span = tracer.startSpan(c.req.method, { kind: SpanKind.SERVER }, parent)
    if (!span.isRecording()) return next()
    const path = c.req.path
    const tenantId = TENANT_PATH.exec(path)?.[1]
    const attributes: Attributes = { 'http.request.method': c.req.method, 'url.path': path }
    if (tenantId !== undefined) attributes[TENANT_ID_ATTRIBUTE] = decodePathSegment(tenantId)
    span.setAttributes(attributes)
    try {
      await otelContext.with(trace.setSpan(parent, span), next)
    } finally {
      // Hono turns a handler's throw into `c.res` (its onError) before `next` returns, and
      // leaves the route index at the handler that answered.
      const route = routePath(c)
      const status = c.res.status
      span.updateName(`${c.req.method} ${route}`)
      span.setAttributes({ 'http.route': route, 'http.response.status_code': status })
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
      span.end()
    }
  }
}
