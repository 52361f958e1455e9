import {
  ROOT_CONTEXT,
  SpanStatusCode,
  context as otelContext,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api'

/**
 * OpenTelemetry spans of runs and steps, through `@opentelemetry/api` only: the engine forces
 * no SDK on its users. Without a registered SDK the API's tracer is a no-op, a run's span is
 * not recording, {@link startRunTrace} answers `undefined`, and each step pays one
 * `ctx.trace === undefined` branch.
 */
const tracer = trace.getTracer('@litecell/engine')

/** Span attribute names of the engine (the worker adds `litecell.tenant.id`). */
export const RUN_ID_ATTRIBUTE = 'litecell.run.id'
export const WORKFLOW_ATTRIBUTE = 'litecell.workflow'
export const STEP_NAME_ATTRIBUTE = 'litecell.step.name'
export const STEP_ATTEMPT_ATTRIBUTE = 'litecell.step.attempt'
export const RUN_STATUS_ATTRIBUTE = 'litecell.run.status'

/** A propagation context (re-exported so the executor names no OpenTelemetry type itself). */
export type TraceContext = Context

/** The recording span of one run execution, and what its step spans inherit. */
export interface RunTrace {
  readonly span: Span
  /** The run span's context: the parent of its steps and of spans the workflow code starts. */
  readonly context: Context
  /** Tenant (from the engine's `traceAttributes`), run id and workflow. */
  readonly attributes: Attributes
}

/** The active context (a request's span when a request starts or resumes a run). */
export function activeTraceContext(): Context {
  return otelContext.active()
}

/** Runs `body` outside any trace (timers: the context that armed them is not their cause). */
export function withoutTraceContext<T>(body: () => T): T {
  return otelContext.with(ROOT_CONTEXT, body)
}

/**
 * Starts the span of one execution of a run (a run that sleeps and wakes has one per
 * execution), child of `parent`: the context that scheduled it. `undefined` when not
 * recording (no SDK, or sampled out).
 */
export function startRunTrace(
  parent: Context,
  base: Attributes | undefined,
  runId: string,
  workflow: string,
): RunTrace | undefined {
  const span = tracer.startSpan(`run ${workflow}`, undefined, parent)
  if (!span.isRecording()) return undefined
  const attributes: Attributes = {
    ...base,
    [RUN_ID_ATTRIBUTE]: runId,
    [WORKFLOW_ATTRIBUTE]: workflow,
  }
  span.setAttributes(attributes)
  return { span, context: trace.setSpan(parent, span), attributes }
}

/** Ends a run execution's span with the status the run was left in (`failed` is an error). */
export function endRunTrace(runTrace: RunTrace, status: string | undefined): void {
  if (status !== undefined) runTrace.span.setAttribute(RUN_STATUS_ATTRIBUTE, status)
  if (status === 'failed') runTrace.span.setStatus({ code: SpanStatusCode.ERROR })
  runTrace.span.end()
}

/** Runs `body` (a workflow function) with the run's span active, for spans the app starts. */
export function withRunTrace<T>(runTrace: RunTrace, body: () => T): T {
  return otelContext.with(runTrace.context, body)
}

/**
 * One step attempt as a span, child of the run's span and active while the step's function
 * runs; a throw marks it as an error and is rethrown unchanged.
 */
export async function traceStepAttempt<T>(
  runTrace: RunTrace,
  name: string,
  attempt: number,
  body: () => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan(
    `step ${name}`,
    {
      attributes: {
        ...runTrace.attributes,
        [STEP_NAME_ATTRIBUTE]: name,
        [STEP_ATTEMPT_ATTRIBUTE]: attempt,
      },
    },
    runTrace.context,
  )
  try {
    return await otelContext.with(trace.setSpan(runTrace.context, span), body)
  } catch (error) {
    span.recordException(error as Error)
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    })
    throw error
  } finally {
    span.end()
  }
}
