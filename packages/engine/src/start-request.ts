import type { AppDefinition, QueueDefinition } from './app.js'
import { closestNames } from './closest-names.js'
import type { DebounceStore } from './debounce.js'
import { EngineError, invalidInput } from './engine-error.js'
import { toJsonText } from './json.js'
import type { StartRequest } from './run.js'
import { newRunId } from './run-id.js'
import { insertedRow, type RunFlow, type RunRow, type RunStore } from './run-store.js'
import type { RunTagStore } from './run-tags.js'
import { validateFlowOptions, workflowDefaults, type FlowRequest } from './start-options.js'

/** Most runs one `startMany` call may create. */
export const MAX_START_MANY = 10_000
/** Longest idempotency key. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 512

/** A start request after validation: input as JSON text, absent options as `null`. */
export interface ValidStartRequest {
  workflow: string
  input: string
  idempotencyKey: string | null
  queue: string | null
  /** Flow-control options, `null` when the start uses none (the cheaper insert). */
  flow: FlowRequest | null
}

/** What validation needs to know about the app. */
export interface StartTarget {
  hasWorkflow(name: string): boolean
  hasQueue(name: string): boolean
  /** The app's workflow names, for "did you mean" hints. */
  workflowNames(): Iterable<string>
  queueDefinition(name: string | null): QueueDefinition | undefined
  readonly app: AppDefinition
}

/** The stores a start writes to. */
export interface StartStores {
  readonly runs: RunStore
  readonly debounce: DebounceStore
  readonly tags: RunTagStore
}

/** What {@link insertOrFindRun} did. */
export interface StartOutcome {
  row: RunRow
  /** False when an idempotency key found its run, or a debounced run absorbed the start. */
  created: boolean
}

function bad(what: string, value: unknown, expected: string): never {
  throw invalidInput(what, value, expected)
}

/**
 * Checks one start request against the app, before anything is written.
 *
 * @throws {EngineError} `UNKNOWN_WORKFLOW`, or `INVALID_INPUT` for input that is not JSON, a
 *   bad idempotency key, an undeclared queue or a bad flow-control option.
 */
export function validateStartRequest(
  target: StartTarget,
  request: StartRequest,
  what: string,
): ValidStartRequest {
  if (typeof request !== 'object' || request === null) bad(what, request, 'an object')
  const { workflow, input, idempotencyKey, queue } = request
  if (typeof workflow !== 'string' || !target.hasWorkflow(workflow)) {
    throw unknownWorkflow(target, workflow, what)
  }
  if (
    idempotencyKey !== undefined &&
    (typeof idempotencyKey !== 'string' ||
      idempotencyKey === '' ||
      idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)
  ) {
    bad(
      'idempotencyKey',
      idempotencyKey,
      `a string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
    )
  }
  if (queue !== undefined && (typeof queue !== 'string' || !target.hasQueue(queue))) {
    bad('queue', queue, 'a queue declared in the app')
  }
  const inputText = toJsonText(input ?? null, `the input of ${what}`)
  const defaults = workflowDefaults(target.app, workflow)
  const flow =
    defaults === null &&
    request.priority === undefined &&
    request.deduplicationId === undefined &&
    request.partitionKey === undefined &&
    request.tags === undefined &&
    request.timeoutMs === undefined &&
    request.debounce === undefined
      ? null
      : validateFlowOptions(target, request, defaults, queue ?? null, input ?? null, 'start')
  return {
    workflow,
    input: inputText,
    idempotencyKey: idempotencyKey ?? null,
    queue: queue ?? null,
    flow,
  }
}

/**
 * `UNKNOWN_WORKFLOW`, naming the app's closest workflows (edit distance) or, if none is close,
 * the workflows it has.
 */
export function unknownWorkflow(target: StartTarget, workflow: unknown, what: string): EngineError {
  const names = [...target.workflowNames()]
  const close = typeof workflow === 'string' ? closestNames(workflow, names) : []
  const hint =
    close.length > 0
      ? `; did you mean ${close.map((name) => `\`${name}\``).join(' or ')}?`
      : names.length > 0
        ? `; it has ${names.slice(0, 20).map((name) => `\`${name}\``).join(', ')}${names.length > 20 ? ', …' : ''}`
        : ''
  const shown = typeof workflow === 'string' ? `\`${workflow}\`` : `\`${String(workflow)}\` (${typeof workflow})`
  return new EngineError('UNKNOWN_WORKFLOW', `${what}: no workflow named ${shown} in the app${hint}`)
}

/**
 * Inserts a run (or, for a debounced start, finds the run collecting its burst), or returns
 * the run that already holds the request's idempotency key (`created: false`). Runs inside
 * the caller's batch, so a key or deduplication id used twice in one `startMany` finds the
 * first insert. `running` inserts a plain run (no flow options) as `running`: it executes at
 * once, and its insert commits its `running` mark (see Engine#start).
 *
 * @throws {EngineError} `IDEMPOTENCY_CONFLICT` if the key belongs to another workflow;
 *   `DUPLICATE_RUN` (with `details.runId`) if an unfinished run holds the deduplication id.
 */
export function insertOrFindRun(
  stores: StartStores,
  request: ValidStartRequest,
  nowMs: number,
  running = false,
): StartOutcome {
  const { runs } = stores
  if (request.idempotencyKey !== null) {
    const existing = runs.byIdempotencyKey(request.idempotencyKey)
    if (existing !== undefined) {
      if (existing.workflow !== request.workflow) {
        throw new EngineError(
          'IDEMPOTENCY_CONFLICT',
          `start ${request.workflow}: idempotency key \`${request.idempotencyKey}\` already started run ${existing.run_id} of workflow ${existing.workflow}`,
        )
      }
      return { row: existing, created: false }
    }
  }
  const flow = request.flow
  const debounce = flow?.debounce ?? null
  if (debounce !== null) {
    const collecting = stores.debounce.collecting(request.workflow, debounce.key)
    if (collecting !== undefined) {
      const row = stores.debounce.absorb(collecting, request.input, nowMs + debounce.delayMs, nowMs)
      return { row, created: false }
    }
  }
  if (flow?.deduplicationId != null) {
    const holder = runs.byDeduplicationId(flow.deduplicationId)
    if (holder !== undefined) {
      throw new EngineError(
        'DUPLICATE_RUN',
        `start ${request.workflow}: deduplication id \`${flow.deduplicationId}\` is held by run ${holder} until it ends`,
        { details: { runId: holder } },
      )
    }
  }
  const startAtMs = debounce === null ? nowMs : nowMs + debounce.delayMs
  const runFlow: RunFlow | null =
    flow === null
      ? null
      : {
          status: debounce === null ? 'pending' : 'sleeping',
          wakeAt: debounce === null ? null : startAtMs,
          priority: flow.priority,
          partitionKey: flow.partitionKey,
          deduplicationId: flow.deduplicationId,
          debounceKey: debounce?.key ?? null,
          tags: flow.tags,
          timeoutMs: flow.timeoutMs,
          deadlineAt: flow.timeoutMs === null ? null : startAtMs + flow.timeoutMs,
          detached: false,
        }
  const run = {
    runId: newRunId(nowMs),
    workflow: request.workflow,
    queue: request.queue,
    input: request.input,
    idempotencyKey: request.idempotencyKey,
    parentRunId: null,
    parentSeq: null,
    nowMs,
    flow: runFlow,
    running: running && runFlow === null,
  }
  const id = runs.insert(run)
  if (runFlow?.tags != null) stores.tags.insert(id, runFlow.tags)
  return { row: insertedRow(run, id, runs.appVersion), created: true }
}
