/**
 * OpenTelemetry tracing (issue 13, section 6) through the control plane's real app and a real
 * in-process worker, with the SDK's in-memory exporter registered the way a user would
 * (BasicTracerProvider, AsyncLocalStorage context manager, W3C propagator). One run started
 * with a client `traceparent` must give one trace: client → control-plane request span →
 * proxy hop (CLIENT) → worker request span → run span → one span per step, each carrying
 * its tenant, run id, workflow, step name and attempt. Catches: a proxy that stops injecting
 * `traceparent` (the worker's span becomes a root), a worker that stops extracting it, an
 * engine that runs a run outside the context that started it (the run span becomes a root
 * or a child of the wrong span), and steps that stop nesting under their run.
 */
import { join } from 'node:path'
import { context, propagation, trace, SpanKind } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, expect, test, vi } from 'vitest'
import { TEST_APP_PATH, createTenant } from '@litecell/testkit/e2e'
import { REPO_ROOT } from '@litecell/testkit/server'
import { useInProcessServer } from '@litecell/testkit/in-process'

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
// Registered before the server starts; the libraries' tracers are the API's proxies, so they
// pick the provider up whenever it comes.
trace.setGlobalTracerProvider(provider)
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
propagation.setGlobalPropagator(new W3CTraceContextPropagator())

const server = useInProcessServer({
  apps: { default: TEST_APP_PATH, flow: join(REPO_ROOT, 'test/apps/flow-app.ts') },
})
const TENANT = 'traced'

beforeAll(async () => {
  await createTenant(server.admin, TENANT, 'flow')
})

afterAll(async () => {
  await provider.shutdown()
  trace.disable()
  context.disable()
  propagation.disable()
})

const CLIENT_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const CLIENT_SPAN_ID = '00f067aa0ba902b7'

/** The one span of `spans` that `match` accepts (fails naming the candidates otherwise). */
function only(
  spans: ReadableSpan[],
  what: string,
  match: (span: ReadableSpan) => boolean,
): ReadableSpan {
  const found = spans.filter(match)
  expect(found, `${what} among ${spans.map((span) => span.name).join(', ')}`).toHaveLength(1)
  return found[0] as ReadableSpan
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId
const idOf = (span: ReadableSpan) => span.spanContext().spanId

test('one run started with a client traceparent is one trace from the request to each step', async () => {
  const response = await server.fetch(`/v1/tenants/${TENANT}/runs`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${server.adminToken}`,
      'content-type': 'application/json',
      traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01`,
    },
    body: JSON.stringify({ workflow: 'three', input: { n: 1 } }),
  })
  expect(response.status).toBe(202)
  const { runId } = (await response.json()) as { runId: string }
  const result = await server.admin.waitForResult(TENANT, runId)
  expect(result.run).toMatchObject({ status: 'succeeded', output: 5 })

  // A run's span ends just after its final status is committed: wait for the last one.
  const spans = await vi.waitFor(
    () => {
      const inTrace = exporter
        .getFinishedSpans()
        .filter((span) => span.spanContext().traceId === CLIENT_TRACE_ID)
      expect(inTrace.filter((span) => span.name.startsWith('step '))).toHaveLength(3)
      expect(inTrace.some((span) => span.name === 'run three')).toBe(true)
      return inTrace
    },
    { timeout: 10_000, interval: 20 },
  )

  const request = only(
    spans,
    'control-plane request span',
    (span) =>
      span.instrumentationScope.name === '@litecell/control-plane' && span.kind === SpanKind.SERVER,
  )
  expect(parentOf(request)).toBe(CLIENT_SPAN_ID)
  expect(request.name).toBe('POST /v1/tenants/:id/runs')
  expect(request.attributes).toMatchObject({
    'litecell.tenant.id': TENANT,
    'http.route': '/v1/tenants/:id/runs',
    'http.response.status_code': 202,
  })

  const proxy = only(spans, 'proxy span', (span) => span.kind === SpanKind.CLIENT)
  expect(parentOf(proxy)).toBe(idOf(request))
  expect(proxy.attributes).toMatchObject({
    'litecell.tenant.id': TENANT,
    'http.response.status_code': 202,
  })

  const worker = only(
    spans,
    'worker request span',
    (span) => span.instrumentationScope.name === '@litecell/worker',
  )
  expect(worker.kind).toBe(SpanKind.SERVER)
  expect(parentOf(worker)).toBe(idOf(proxy))
  expect(worker.attributes).toMatchObject({
    'litecell.tenant.id': TENANT,
    'http.response.status_code': 202,
  })

  const run = only(spans, 'run span', (span) => span.name === 'run three')
  expect(parentOf(run)).toBe(idOf(worker))
  expect(run.attributes).toMatchObject({
    'litecell.tenant.id': TENANT,
    'litecell.run.id': runId,
    'litecell.workflow': 'three',
    'litecell.run.status': 'succeeded',
  })

  const steps = spans
    .filter((span) => span.name.startsWith('step '))
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
  expect(steps.map((span) => span.name)).toEqual(['step a', 'step b', 'step c'])
  for (const step of steps) {
    expect(parentOf(step)).toBe(idOf(run))
    expect(step.attributes).toMatchObject({
      'litecell.tenant.id': TENANT,
      'litecell.run.id': runId,
      'litecell.workflow': 'three',
      'litecell.step.name': step.name.slice('step '.length),
      'litecell.step.attempt': 1,
    })
  }
})

// With a provider registered, the request middleware decoded the tenant id of the path for its
// span attribute outside any guard: a malformed percent-escape (`%E0%A4%A`) threw URIError
// there, and the request answered 500 instead of the route's 4xx.
test('a malformed percent-escape in the tenant path is a 4xx, not a 500, while tracing', async () => {
  const response = await server.fetch('/v1/tenants/%E0%A4%A/runs', {
    headers: { authorization: `Bearer ${server.adminToken}` },
  })
  expect(response.status).toBeGreaterThanOrEqual(400)
  expect(response.status).toBeLessThan(500)
})
