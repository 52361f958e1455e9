import { positiveMs, type AppDefinition, type WorkflowOptions } from './app.js'
import { EngineError, invalidInput } from './engine-error.js'
import type { JsonValue } from './json.js'
import type { StartOptions } from './run.js'
import { tagsText } from './run-tags.js'
import type { StartTarget } from './start-request.js'
import type { ChildOptions } from './workflow-context.js'

/** Lowest (most urgent) priority. */
export const MIN_PRIORITY = -1_000_000
/** Highest (least urgent) priority. */
export const MAX_PRIORITY = 1_000_000
/** Longest deduplication id. */
export const MAX_DEDUPLICATION_ID_LENGTH = 512
/** Longest partition key. */
export const MAX_PARTITION_KEY_LENGTH = 256
/** Longest debounce key. */
export const MAX_DEBOUNCE_KEY_LENGTH = 512
/**
 * Longest `timeoutMs` or `debounce.delayMs` of a start (10 years): the deadline or start
 * time it makes must stay a date (`Date` ends at 8.64e15 ms); a larger one, accepted, made
 * every `get` and `list` showing the run throw.
 */
export const MAX_FLOW_MS = 10 * 365 * 86_400_000

/** The flow-control options of one start, validated, with the workflow's defaults applied. */
export interface FlowRequest {
  priority: number
  partitionKey: string | null
  deduplicationId: string | null
  /** JSON text (sorted keys), or `null`. */
  tags: string | null
  timeoutMs: number | null
  debounce: { key: string; delayMs: number } | null
  /** Child runs only: its parent's cancellation does not reach it. */
  detached: boolean
}

/** A workflow's `workflowOptions`, parsed once. */
export interface WorkflowDefaults {
  timeoutMs: number | null
  debounce: { delayMs: number; key: ((input: JsonValue) => string) | null } | null
}

const parsed = new WeakMap<object, WorkflowDefaults>()

/** The parsed `workflowOptions` of a workflow, or `null` if it has none. */
export function workflowDefaults(app: AppDefinition, workflow: string): WorkflowDefaults | null {
  const all = app.workflowOptions
  if (all === undefined || !Object.hasOwn(all, workflow)) return null
  const options = all[workflow] as WorkflowOptions<JsonValue>
  let defaults = parsed.get(options)
  if (defaults === undefined) {
    const what = `app.workflowOptions.${workflow}`
    const debounce = options.debounce
    defaults = {
      timeoutMs:
        options.timeoutMs === undefined ? null : positiveMs(options.timeoutMs, `${what}.timeoutMs`),
      debounce:
        debounce === undefined
          ? null
          : {
              delayMs: positiveMs(debounce.delayMs, `${what}.debounce.delayMs`),
              key: debounce.key ?? null,
            },
    }
    parsed.set(options, defaults)
  }
  return defaults
}

function bad(what: string, value: unknown, expected: string): never {
  throw invalidInput(what, value, expected)
}

function optionalText(value: unknown, what: string, maxLength: number): string | null {
  if (value === undefined) return null
  if (typeof value !== 'string' || value === '' || value.length > maxLength) {
    bad(what, value, `a string of 1 to ${maxLength} characters`)
  }
  return value
}

/**
 * Validates the flow-control options of a start (`kind: 'start'`) or of a `ctx.startChild`
 * (`kind: 'child'`: no deduplication or debounce, but `detached`), applying the workflow's
 * `defaults` where the options leave a field out.
 *
 * @throws {EngineError} `INVALID_INPUT` quoting the bad value and the limits.
 */
export function validateFlowOptions(
  target: StartTarget,
  options: StartOptions & ChildOptions,
  defaults: WorkflowDefaults | null,
  queue: string | null,
  input: JsonValue,
  kind: 'start' | 'child',
): FlowRequest {
  const { priority, partitionKey, timeoutMs, debounce, detached } = options
  if (
    priority !== undefined &&
    !(Number.isInteger(priority) && priority >= MIN_PRIORITY && priority <= MAX_PRIORITY)
  ) {
    bad('priority', priority, `an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}`)
  }
  if (partitionKey !== undefined) {
    optionalText(partitionKey, 'partitionKey', MAX_PARTITION_KEY_LENGTH)
    if (target.queueDefinition(queue)?.partitionConcurrency === undefined) {
      bad(
        'partitionKey',
        partitionKey,
        `used with a queue that declares \`partitionConcurrency\` (queue ${queue === null ? 'default' : `\`${queue}\``} does not)`,
      )
    }
  }
  if (
    timeoutMs !== undefined &&
    !(Number.isSafeInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= MAX_FLOW_MS)
  ) {
    bad('timeoutMs', timeoutMs, `a number of ms from 1 to ${MAX_FLOW_MS}`)
  }
  let deduplicationId: string | null = null
  let debounceKey: { key: string; delayMs: number } | null = null
  if (kind === 'start') {
    deduplicationId = optionalText(
      options.deduplicationId,
      'deduplicationId',
      MAX_DEDUPLICATION_ID_LENGTH,
    )
    debounceKey = resolveDebounce(debounce, defaults, input)
    if (debounceKey !== null && deduplicationId !== null) {
      throw new EngineError(
        'INVALID_INPUT',
        `start: \`debounce\` and \`deduplicationId\` exclude each other (a debounced burst already becomes one run), got deduplicationId \`${deduplicationId}\``,
      )
    }
  } else if (detached !== undefined && typeof detached !== 'boolean') {
    bad('detached', detached, 'a boolean')
  }
  return {
    priority: priority ?? 0,
    partitionKey: partitionKey ?? null,
    deduplicationId,
    tags: tagsText(options.tags),
    timeoutMs: timeoutMs ?? defaults?.timeoutMs ?? null,
    debounce: debounceKey,
    detached: kind === 'child' && detached === true,
  }
}

function resolveDebounce(
  debounce: unknown,
  defaults: WorkflowDefaults | null,
  input: JsonValue,
): { key: string; delayMs: number } | null {
  if (debounce !== undefined) {
    if (typeof debounce !== 'object' || debounce === null || Array.isArray(debounce)) {
      bad('debounce', debounce, 'an object `{ key, delayMs }`')
    }
    const { key, delayMs } = debounce as { key?: unknown; delayMs?: unknown }
    const text = optionalText(key, 'debounce.key', MAX_DEBOUNCE_KEY_LENGTH)
    if (text === null)
      bad('debounce.key', key, `a string of 1 to ${MAX_DEBOUNCE_KEY_LENGTH} characters`)
    if (!(
      Number.isSafeInteger(delayMs) &&
      (delayMs as number) >= 1 &&
      (delayMs as number) <= MAX_FLOW_MS
    )) {
      bad('debounce.delayMs', delayMs, `a number of ms from 1 to ${MAX_FLOW_MS}`)
    }
    return { key: text, delayMs: delayMs as number }
  }
  const declared = defaults?.debounce
  if (declared === undefined || declared === null) return null
  if (declared.key === null) return { key: '', delayMs: declared.delayMs }
  let key: unknown
  try {
    key = declared.key(input)
  } catch (error) {
    throw new EngineError(
      'INVALID_INPUT',
      `start: the workflow's debounce key function threw: ${(error as Error)?.message ?? String(error)}`,
      { cause: error },
    )
  }
  if (typeof key !== 'string' || key.length > MAX_DEBOUNCE_KEY_LENGTH) {
    bad('the debounce key', key, `a string of at most ${MAX_DEBOUNCE_KEY_LENGTH} characters`)
  }
  return { key, delayMs: declared.delayMs }
}
