import { invalidInput } from './engine-error.js'
import type { StepRow } from './journal.js'
import type { RunContext } from './run-context.js'

/** Longest patch name. */
export const MAX_PATCH_NAME_LENGTH = 128

function validateName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '' || name.length > MAX_PATCH_NAME_LENGTH) {
    throw invalidInput('patch name', name, `a string of 1 to ${MAX_PATCH_NAME_LENGTH} characters`)
  }
}

function isMarker(record: StepRow | undefined, name: string): boolean {
  return record !== undefined && record.kind === 'patch' && record.name === name
}

/**
 * `ctx.patched(name)`: see {@link WorkflowContext.patched}. Looks at the journal record of the
 * next call before taking a sequence number: a record other than this patch's marker means
 * the run went past this point under code without the patch, so the call returns `false` and
 * takes no number (the old branch's calls replay at the numbers they were recorded at).
 * Otherwise it takes the number, records the marker (once), and returns `true`.
 */
export async function patched(ctx: RunContext, name: string): Promise<boolean> {
  validateName(name)
  const next = ctx.peekNext()
  if (next !== undefined && !isMarker(next, name)) return false
  const { seq, record } = ctx.enter('patch', name)
  if (record !== undefined) return true
  const nowMs = ctx.host.clock()
  ctx.record({
    seq,
    name,
    kind: 'patch',
    status: 'succeeded',
    attempts: 0,
    output: null,
    error: null,
    started_at: nowMs,
    ended_at: nowMs,
  })
  await ctx.durable()
  return true
}

/**
 * `ctx.deprecatePatch(name)`: see {@link WorkflowContext.deprecatePatch}. Takes the next
 * sequence number only if its record is this patch's marker (a run that took the patched
 * branch while the code still asked `patched`); records nothing, so runs started from now on
 * carry no marker and the call can be deleted once the runs with one have ended.
 */
export async function deprecatePatch(ctx: RunContext, name: string): Promise<void> {
  validateName(name)
  if (isMarker(ctx.peekNext(), name)) ctx.enter('patch', name)
}
