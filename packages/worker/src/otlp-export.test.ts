/**
 * The OTLP wiring of `litecell serve` and its workers: with `OTEL_EXPORTER_OTLP_ENDPOINT`
 * set, a span reaches an OTLP/HTTP receiver (an in-process HTTP server on loopback) by the
 * time `stop` resolves; without it nothing is registered and spans stay no-ops. Catches a
 * server that silently exports nowhere, and one that registers an SDK nobody asked for.
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { context, propagation, trace } from '@opentelemetry/api'
import { afterEach, expect, test } from 'vitest'
import { startOtlpExportFromEnv } from './otlp-export.js'

afterEach(() => {
  trace.disable()
  context.disable()
  propagation.disable()
})

test('without OTEL_EXPORTER_OTLP_ENDPOINT nothing is registered and spans do not record', async () => {
  expect(await startOtlpExportFromEnv('test', {})).toBeUndefined()
  const span = trace.getTracer('test').startSpan('x')
  expect(span.isRecording()).toBe(false)
  span.end()
})

test('with OTEL_EXPORTER_OTLP_ENDPOINT a span reaches the receiver before stop resolves', async () => {
  const received: { path: string | undefined; bytes: number }[] = []
  const receiver = createServer((request: IncomingMessage, response) => {
    let bytes = 0
    request.on('data', (chunk: Buffer) => (bytes += chunk.length))
    request.on('end', () => {
      received.push({ path: request.url, bytes })
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  try {
    const { port } = receiver.address() as AddressInfo
    const stop = await startOtlpExportFromEnv('test', {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    })
    expect(stop).toBeDefined()
    const span = trace.getTracer('test').startSpan('exported')
    expect(span.isRecording()).toBe(true)
    span.end()
    await stop?.()
    expect(received).toHaveLength(1)
    expect(received[0]).toMatchObject({ path: '/v1/traces' })
    expect(received[0]?.bytes).toBeGreaterThan(0)
  } finally {
    await new Promise((resolve) => receiver.close(resolve))
  }
})
