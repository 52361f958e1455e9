import { EngineError, TerminalError } from './engine-error.js'
import type { StepRow } from './journal.js'
import { traceStepAttempt } from './tracing.js'
import { toNullableJsonText } from './json.js'
import { passGate } from './output-gate.js'
import { errorText, failureOf, withCause } from './recorded-error.js'
import type { RunContext } from './run-context.js'
import { CancelSignal, SuspendSignal } from './signal.js'
import type { Backoff, StepAttempt, StepOptions } from './workflow-context.js'

/** Retries after a step's first failed attempt, unless `StepOptions.retries` says otherwise. */
export const DEFAULT_STEP_RETRIES = 3
/** First retry wait. */
export const DEFAULT_BACKOFF_INITIAL_MS = 100
/** Growth of the retry wait per attempt. */
export const DEFAULT_BACKOFF_FACTOR = 2
/** Longest retry wait. */
export const DEFAULT_BACKOFF_MAX_MS = 60_000

/** The wait before the attempt after `attempt` (1-based). */
export function backoffMs(attempt: number, backoff: Backoff | undefined): number {
  const initialMs = backoff?.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS
  const factor = backoff?.factor ?? DEFAULT_BACKOFF_FACTOR
  const maxMs = backoff?.maxMs ?? DEFAULT_BACKOFF_MAX_MS
  return Math.min(initialMs * factor ** (attempt - 1), maxMs)
}

export function validateOptions(name: unknown, options: StepOptions | undefined): void {
  if (typeof name !== 'string' || name === '') {
    throw new EngineError(
      'INVALID_INPUT',
      `Expected step \`name\` to be a non-empty string, got \`${String(name)}\` (${typeof name})`,
    )
  }
  const retries = options?.retries
  if (retries !== undefined && !(Number.isInteger(retries) && retries >= 0)) {
    throw new EngineError(
      'INVALID_INPUT',
      `Expected \`retries\` to be a number from 0 and up, got \`${String(retries)}\` (${typeof retries})`,
    )
  }
  const timeoutMs = options?.timeoutMs
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0)) {
    throw new EngineError(
      'INVALID_INPUT',
      `Expected \`timeoutMs\` to be a number above 0, got \`${String(timeoutMs)}\` (${typeof timeoutMs})`,
    )
  }
  const gate = options?.gate
  if (gate !== undefined && gate !== 'replicated') {
    throw new EngineError(
      'INVALID_INPUT',
      `Expected \`gate\` to be 'replicated', got \`${String(gate)}\` (${typeof gate})`,
    )
  }
}

// Steps without `timeoutMs` share one signal that never aborts: an AbortController per step
// cost ~10 µs, a quarter of the per-step budget (measured with --cpu-prof).
const NEVER_ABORTED = new AbortController().signal

async function attemptOnce<T>(
  fn: (attempt: StepAttempt) => T | Promise<T>,
  attempt: number,
  timeoutMs: number | undefined,
): Promise<T> {
  if (timeoutMs === undefined) return fn({ attempt, signal: NEVER_ABORTED })
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new EngineError(
        'STEP_TIMEOUT',
        `step attempt ${attempt} exceeded timeoutMs ${timeoutMs}`,
      )
      reject(error)
      controller.abort(error)
    }, timeoutMs)
  })
  try {
    return await Promise.race([fn({ attempt, signal: controller.signal }), timeout])
  } finally {
    clearTimeout(timer)
  }
}

interface StepRowBase {
  seq: number
  name: string
  attempt: number
  startedAt: number
}

function stepRow(
  base: StepRowBase,
  status: StepRow['status'],
  output: string | null,
  error: string | null,
  endedAt: number | null,
): StepRow {
  const { seq, name, attempt, startedAt } = base
  return {
    seq,
    name,
    kind: 'step',
    status,
    attempts: attempt,
    output,
    error,
    started_at: startedAt,
    ended_at: endedAt,
  }
}

/** `ctx.step`: see {@link WorkflowContext.step} for the failure semantics. */
export async function runStep<T>(
  ctx: RunContext,
  name: string,
  fn: (attempt: StepAttempt) => T | Promise<T>,
  options: StepOptions | undefined,
): Promise<T> {
  validateOptions(name, options)
  const { seq, record } = ctx.enter('step', name)
  if (record !== undefined && (record.status === 'succeeded' || record.status === 'failed')) {
    return ctx.replay<T>(record)
  }
  const { clock, observer } = ctx.host
  if (record?.status === 'retrying') {
    const retryAtMs = JSON.parse(record.output ?? '0') as number
    if (clock() < retryAtMs) return ctx.suspend('sleeping', retryAtMs, 'retry')
  }
  if (options?.gate === 'replicated') await passGate(ctx)
  const attempt = (record?.attempts ?? 0) + 1
  const startedAt = record?.started_at ?? clock()
  // One shape for this step's records; a module function, not a closure: tsx/esbuild's
  // keepNames wraps every named closure in a defineProperty call, measurable per step.
  const base = { seq, name, attempt, startedAt }
  // No 'running' record before the attempt: it would double the writes of every step, and a
  // step in flight at a crash runs again either way (the journal only needs outcomes).
  const t0 = performance.now()
  let value: T
  try {
    // Untraced (no OpenTelemetry SDK): this one branch is the whole cost.
    value = await (ctx.trace === undefined
      ? attemptOnce(fn, attempt, options?.timeoutMs)
      : traceStepAttempt(ctx.trace, name, attempt, () => attemptOnce(fn, attempt, options?.timeoutMs)))
  } catch (error) {
    if (error instanceof SuspendSignal || error instanceof CancelSignal) throw error
    observer?.onStepEnd?.(ctx.workflow, name, performance.now() - t0, false)
    const retries = options?.retries ?? DEFAULT_STEP_RETRIES
    if (!(error instanceof TerminalError) && attempt <= retries) {
      const retryAtMs = clock() + backoffMs(attempt, options?.backoff)
      ctx.record(stepRow(base, 'retrying', JSON.stringify(retryAtMs), errorText(error), null))
      return ctx.suspend('sleeping', retryAtMs, 'retry')
    }
    const text = errorText(error)
    ctx.record(stepRow(base, 'failed', null, text, clock()))
    await ctx.durable()
    throw withCause(failureOf(text), error)
  }
  let output: string | null
  try {
    output = toNullableJsonText(value, `the result of step '${name}'`, 'NOT_SERIALIZABLE')
  } catch (error) {
    const text = errorText(error)
    ctx.record(stepRow(base, 'failed', null, text, clock()))
    await ctx.durable()
    throw withCause(failureOf(text), error)
  }
  const succeeded = stepRow(base, 'succeeded', output, null, clock())
  // A lone run holds the checkpoint back until its next ctx call or its end, which may then
  // share the commit (see RunContext#deferCheckpoint); otherwise it is committed here.
  if (!ctx.deferCheckpoint(succeeded)) {
    ctx.record(succeeded)
    await ctx.durable()
  }
  observer?.onStepEnd?.(ctx.workflow, name, performance.now() - t0, true)
  // Objects come back as their JSON round-trip so a live run sees what a replay will see.
  if (output === null) return undefined as T
  if (typeof value === 'object') return JSON.parse(output) as T
  return (typeof value === 'number' ? value + 0 : value) as T // -0 is recorded as 0
}
