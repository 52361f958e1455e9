import { closestNames } from './closest-names.js'
import { EngineError, invalidInput } from './engine-error.js'
import { toJsonText } from './json.js'
import type { StartRequest } from './run.js'
import { newRunId } from './run-id.js'
import type { RunRow, RunStore } from './run-store.js'

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
}

/** What validation needs to know about the app. */
export interface StartTarget {
  hasWorkflow(name: string): boolean
  hasQueue(name: string): boolean
  /** The app's workflow names, for "did you mean" hints. */
  workflowNames(): Iterable<string>
}

function bad(what: string, value: unknown, expected: string): never {
  throw invalidInput(what, value, expected)
}

/**
 * Checks one start request against the app, before anything is written.
 *
 * @throws {EngineError} `UNKNOWN_WORKFLOW`, or `INVALID_INPUT` for input that is not JSON, a
 *   bad idempotency key or an undeclared queue.
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
  return {
    workflow,
    input: toJsonText(input ?? null, `the input of ${what}`),
    idempotencyKey: idempotencyKey ?? null,
    queue: queue ?? null,
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
 * Inserts a `pending` run, or returns the run that already holds the request's idempotency
 * key (`created: false`). Runs inside the caller's batch, so a key used twice in one
 * `startMany` finds the first insert.
 *
 * @throws {EngineError} `IDEMPOTENCY_CONFLICT` if the key belongs to another workflow.
 */
export function insertOrFindRun(
  runs: RunStore,
  request: ValidStartRequest,
  nowMs: number,
): { row: RunRow; created: boolean } {
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
  const runId = newRunId(nowMs)
  const { workflow, queue, input, idempotencyKey } = request
  runs.insert({
    runId,
    workflow,
    queue,
    input,
    idempotencyKey,
    parentRunId: null,
    parentSeq: null,
    nowMs,
  })
  const row: RunRow = {
    id: 0,
    run_id: runId,
    workflow,
    status: 'pending',
    queue,
    input,
    output: null,
    error: null,
    idempotency_key: idempotencyKey,
    parent_run_id: null,
    parent_seq: null,
    wake_at: null,
    created_at: nowMs,
    updated_at: nowMs,
    crash_count: 0,
    app_version: runs.appVersion,
  }
  return { row, created: true }
}
