import { toMs } from './duration.js'
import { EngineError } from './engine-error.js'
import { fromJsonText } from './json.js'
import type { RunContext } from './run-context.js'

/**
 * `ctx.waitForEvent`: takes the oldest unconsumed event `name` of the run, or parks the run as
 * `waiting` (with the timeout as its durable timer) until `Engine.sendEvent` or the timeout
 * wakes it. Taking the event and recording the call happen in the same batch, so an event is
 * consumed exactly once. See {@link WorkflowContext.waitForEvent}.
 */
export async function waitForEvent<T>(
  ctx: RunContext,
  name: string,
  options: { timeoutMs?: number } | undefined,
): Promise<T | null> {
  if (typeof name !== 'string' || name === '') {
    throw new EngineError(
      'INVALID_INPUT',
      `Expected event \`name\` to be a non-empty string, got \`${String(name)}\` (${typeof name})`,
    )
  }
  const timeoutMs = options?.timeoutMs === undefined ? null : toMs(options.timeoutMs, 'timeoutMs')
  const { seq, record } = ctx.enter('event', name)
  if (record?.status === 'succeeded') return ctx.replay<T | null>(record)
  const { runs, clock } = ctx.host
  const nowMs = clock()
  const deadlineMs =
    record === undefined
      ? timeoutMs === null
        ? null
        : nowMs + timeoutMs
      : (fromJsonText(record.output) as number | null)
  const startedAt = record?.started_at ?? nowMs
  // Taking the event and recording the call share one transaction: both or neither.
  const payload = ctx.host.writer.write(() => {
    const event = runs.takeEvent(ctx.runId, name, seq)
    if (event === undefined && !(deadlineMs !== null && nowMs >= deadlineMs)) return undefined
    const output = event?.payload ?? 'null'
    ctx.recordWithin({
      seq,
      name,
      kind: 'event',
      status: 'succeeded',
      attempts: 0,
      output,
      error: null,
      started_at: startedAt,
      ended_at: nowMs,
    })
    return output
  })
  if (payload !== undefined) {
    await ctx.durable()
    return fromJsonText(payload) as T | null
  }
  if (record === undefined) {
    ctx.record({
      seq,
      name,
      kind: 'event',
      status: 'waiting',
      attempts: 0,
      output: JSON.stringify(deadlineMs),
      error: null,
      started_at: nowMs,
      ended_at: null,
    })
  }
  return ctx.suspend('waiting', deadlineMs, 'wait')
}
