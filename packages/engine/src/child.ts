import { EngineError, invalidInput } from './engine-error.js'
import { fromJsonText, toJsonText, type JsonValue } from './json.js'
import { errorText, failureOf } from './recorded-error.js'
import type { RunContext, RunHost } from './run-context.js'
import { newRunId } from './run-id.js'
import type { RunFlow } from './run-store.js'
import { validateFlowOptions, workflowDefaults, type FlowRequest } from './start-options.js'
import { unknownWorkflow } from './start-request.js'
import type { ChildHandle, ChildOptions } from './workflow-context.js'

/**
 * `ctx.startChild`: inserts the child run and the parent's journal record in the same batch,
 * so after a crash either both exist or neither; a replay returns the recorded child.
 */
export async function startChild<Output>(
  ctx: RunContext,
  workflow: string,
  input: JsonValue | undefined,
  options: ChildOptions | undefined,
): Promise<ChildHandle<Output>> {
  const { host } = ctx
  if (typeof workflow !== 'string' || !host.hasWorkflow(workflow)) {
    throw unknownWorkflow(host, workflow, `start child of run ${ctx.runId}`)
  }
  const inputText = toJsonText(input ?? null, `the input of child workflow '${workflow}'`)
  const { queue, flow } = childFlow(host, workflow, input ?? null, options)
  const { seq, record } = ctx.enter('child', workflow)
  if (record !== undefined) {
    const childRunId = fromJsonText(record.output) as string
    return handle<Output>(ctx, childRunId, workflow)
  }
  const nowMs = host.clock()
  const childRunId = newRunId()
  const runFlow = flow === null ? null : childRunFlow(flow, nowMs)
  // The child run and the parent's record commit together, so a replay after a crash finds
  // either both (and returns this child) or neither (and starts it then).
  host.writer.write(() => {
    const id = host.runs.insert({
      runId: childRunId,
      workflow,
      queue,
      input: inputText,
      idempotencyKey: null,
      parentRunId: ctx.runId,
      parentSeq: seq,
      nowMs,
      flow: runFlow,
    })
    if (runFlow?.tags != null) host.tags.insert(id, runFlow.tags)
    ctx.recordWithin({
      seq,
      name: workflow,
      kind: 'child',
      status: 'succeeded',
      attempts: 0,
      output: JSON.stringify(childRunId),
      error: null,
      started_at: nowMs,
      ended_at: nowMs,
    })
  })
  await ctx.durable()
  host.observer?.onRunStatus?.(childRunId, workflow, 'pending')
  host.schedule(childRunId, undefined, false)
  if (runFlow?.deadlineAt != null) host.armTimer(runFlow.deadlineAt)
  return handle<Output>(ctx, childRunId, workflow)
}

/**
 * Validates a child's options (before anything is recorded) and applies the workflow's
 * defaults; `flow: null` when the child uses none (the cheaper insert).
 */
function childFlow(
  host: RunHost,
  workflow: string,
  input: JsonValue,
  options: ChildOptions | undefined,
): { queue: string | null; flow: FlowRequest | null } {
  const defaults = workflowDefaults(host.app, workflow)
  if (options === undefined && defaults === null) return { queue: null, flow: null }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw invalidInput('options', options, 'an object')
  }
  const queue = options?.queue
  if (queue !== undefined && (typeof queue !== 'string' || !host.hasQueue(queue))) {
    throw invalidInput('queue', queue, 'a queue declared in the app')
  }
  const flow = validateFlowOptions(host, options ?? {}, defaults, queue ?? null, input, 'child')
  return { queue: queue ?? null, flow }
}

/** The columns of a child run from its validated options. */
export function childRunFlow(flow: FlowRequest, nowMs: number): RunFlow {
  return {
    status: 'pending',
    wakeAt: null,
    priority: flow.priority,
    partitionKey: flow.partitionKey,
    deduplicationId: null,
    debounceKey: null,
    tags: flow.tags,
    timeoutMs: flow.timeoutMs,
    deadlineAt: flow.timeoutMs === null ? null : nowMs + flow.timeoutMs,
    detached: flow.detached,
  }
}

function handle<Output>(ctx: RunContext, runId: string, workflow: string): ChildHandle<Output> {
  return { runId, result: () => ctx.childResult<Output>(runId, workflow) }
}

/**
 * `ChildHandle.result`: returns the child's recorded outcome, or parks the parent as
 * `waiting` until the child ends (the engine wakes the parent then).
 */
export async function waitForChild<Output>(
  ctx: RunContext,
  childRunId: string,
  workflow: string,
): Promise<Output> {
  const { seq, record } = ctx.enter('result', workflow)
  if (record?.status === 'succeeded' || record?.status === 'failed')
    return ctx.replay<Output>(record)
  const { host } = ctx
  const nowMs = host.clock()
  const child = host.runs.get(childRunId)
  const startedAt = record?.started_at ?? nowMs
  if (child !== undefined && child.status === 'succeeded') {
    ctx.record({
      seq,
      name: workflow,
      kind: 'result',
      status: 'succeeded',
      attempts: 0,
      output: child.output,
      error: null,
      started_at: startedAt,
      ended_at: nowMs,
    })
    await ctx.durable()
    return fromJsonText(child.output) as Output
  }
  if (child === undefined || child.status === 'failed' || child.status === 'cancelled') {
    const recorded = child === undefined ? undefined : (fromJsonText(child.error) as { message?: string } | undefined)
    const reason =
      child === undefined
        ? 'is missing (deleted by retention?)'
        : child.status === 'failed'
          ? `failed: ${recorded?.message ?? 'unknown error'}`
          : `was cancelled: ${recorded?.message ?? 'run cancelled'}`
    const error = new EngineError('CHILD_FAILED', `child run ${childRunId} (${workflow}) ${reason}`)
    const text = errorText(error)
    ctx.record({
      seq,
      name: workflow,
      kind: 'result',
      status: 'failed',
      attempts: 0,
      output: null,
      error: text,
      started_at: startedAt,
      ended_at: nowMs,
    })
    await ctx.durable()
    throw failureOf(text)
  }
  if (record === undefined) {
    ctx.record({
      seq,
      name: workflow,
      kind: 'result',
      status: 'waiting',
      attempts: 0,
      output: null,
      error: null,
      started_at: nowMs,
      ended_at: null,
    })
  }
  return ctx.suspend('waiting', null, 'wait')
}
