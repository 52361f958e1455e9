import {
  SpanKind,
  SpanStatusCode,
  context as otelContext,
  propagation,
  trace,
} from '@opentelemetry/api'
import { TENANT_ID_ATTRIBUTE, traceRequests } from '@litecell/protocol'

/** The instrumentation scope of the control plane's spans. */
const TRACER_NAME = '@litecell/control-plane'
const tracer = trace.getTracer(TRACER_NAME)

/** Middleware: one SERVER span per API request (see `traceRequests` in @litecell/protocol). */
export const traceApiRequests = () => traceRequests(TRACER_NAME)

/**
 * The proxy hop to a tenant's worker as a CLIENT span, child of the request's span; `send`
 * gets the headers (`traceparent`) that make the worker's request span its child. The
 * response's status ends the span (5xx is an error); a network failure is recorded and
 * rethrown. With no SDK registered `send` gets no headers and no span is recorded.
 */
export async function traceProxyHop(
  tenantId: string,
  method: string,
  path: string,
  send: (headers: Record<string, string>) => Promise<Response>,
): Promise<Response> {
  const span = tracer.startSpan(`proxy ${method}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      [TENANT_ID_ATTRIBUTE]: tenantId,
      'http.request.method': method,
      'url.path': path,
    },
  })
  if (!span.isRecording()) return send({})
  const headers: Record<string, string> = {}
  propagation.inject(trace.setSpan(otelContext.active(), span), headers)
  try {
    const response = await send(headers)
    span.setAttribute('http.response.status_code', response.status)
    if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
    return response
  } catch (err) {
    span.recordException(err as Error)
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) })
    throw err
  } finally {
    span.end()
  }
}
