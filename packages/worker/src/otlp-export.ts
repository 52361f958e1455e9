/** The variable that turns the OTLP trace export on (the OpenTelemetry SDK's own name). */
export const OTLP_ENDPOINT_ENV = 'OTEL_EXPORTER_OTLP_ENDPOINT'

/** Flushes and stops the exporter (spans still buffered are sent). */
export type StopTracing = () => Promise<void>

/**
 * Registers an OpenTelemetry SDK that exports spans over OTLP/HTTP, only when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set: `litecell serve` calls it, and so does every worker
 * it launches (workers inherit the environment). The SDK is imported only then, so a server
 * without the variable loads none of it and its spans stay the API's no-ops. The exporter
 * reads the other standard `OTEL_*` variables itself (headers, timeouts).
 * Registers the W3C `traceparent` propagator and an AsyncLocalStorage context manager.
 */
export async function startOtlpExportFromEnv(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StopTracing | undefined> {
  const endpoint = env[OTLP_ENDPOINT_ENV]
  if (!endpoint) return undefined
  const [
    { NodeTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { resourceFromAttributes },
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ])
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env['OTEL_SERVICE_NAME'] ?? serviceName }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(endpoint, env) })),
    ],
  })
  provider.register()
  return () => provider.shutdown()
}

/**
 * Where traces go, as the OTLP specification derives it: the signal's own variable as given,
 * else the base endpoint plus `/v1/traces`. Read from `env` (not only `process.env`, which
 * the exporter would read), so the server's configuration is what counts.
 */
function tracesUrl(endpoint: string, env: NodeJS.ProcessEnv): string {
  return env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || `${endpoint.replace(/\/+$/, '')}/v1/traces`
}
