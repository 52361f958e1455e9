/**
 * `pnpm bench:tracing`: what the engine's OpenTelemetry hooks cost, printed as JSON.
 *
 * - noSdk.runHookNs: ns per run execution for the hooks with no SDK registered (the API's
 *   no-op tracer): capturing the scheduling context, starting the non-recording run span,
 *   finding it not recording. Steps add one `ctx.trace === undefined` branch each.
 * - withSdk.runHookNs / stepSpanNs: the same with a BasicTracerProvider and a no-op span
 *   processor registered (recording spans, exported nowhere): what turning tracing on adds.
 *
 * CPU time (process.cpuUsage), best of 5, so a loaded machine inflates it less than wall time.
 */
import os from 'node:os'
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base'
import {
  activeTraceContext,
  endRunTrace,
  startRunTrace,
  traceStepAttempt,
} from '../../packages/engine/src/tracing.js'

const ITERATIONS = 200_000
const ATTRIBUTES = { 'litecell.tenant.id': 'bench' }

/** Best CPU ns per iteration of `body` over 5 rounds. */
async function cpuNs(
  body: () => unknown | Promise<unknown>,
  iterations = ITERATIONS,
): Promise<number> {
  let best = Infinity
  for (let round = 0; round < 5; round++) {
    const start = process.cpuUsage()
    for (let i = 0; i < iterations; i++) await body()
    const used = process.cpuUsage(start)
    best = Math.min(best, ((used.user + used.system) * 1000) / iterations)
  }
  return Math.round(best)
}

function runHook(): void {
  const runTrace = startRunTrace(activeTraceContext(), ATTRIBUTES, 'run-1', 'bench')
  if (runTrace !== undefined) endRunTrace(runTrace, 'succeeded')
}

const baselineNs = await cpuNs(() => undefined)
const noSdkRunHookNs = await cpuNs(runHook)

trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] }),
)
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
const withSdkRunHookNs = await cpuNs(runHook)
const runTrace = startRunTrace(activeTraceContext(), ATTRIBUTES, 'run-1', 'bench')
if (runTrace === undefined) throw new Error('the registered SDK should record')
const stepSpanNs = await cpuNs(
  () => traceStepAttempt(runTrace, 'step', 1, async () => 1),
  ITERATIONS / 4,
)

console.log(
  JSON.stringify(
    {
      machine: {
        loadAverage1m: Number(os.loadavg()[0]?.toFixed(2)),
        cpuCount: os.cpus().length,
        node: process.version,
      },
      note: 'CPU ns per call, best of 5; the empty await loop is subtracted from each figure',
      emptyLoopNs: baselineNs,
      noSdk: { runHookNs: noSdkRunHookNs - baselineNs, stepHook: 'one branch' },
      withSdk: { runHookNs: withSdkRunHookNs - baselineNs, stepSpanNs: stepSpanNs - baselineNs },
    },
    null,
    2,
  ),
)
