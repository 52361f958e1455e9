import type { RunContext } from './run-context.js'

/**
 * How long a run whose gate could not be confirmed (the storage is down: the hook rejected)
 * sleeps before it tries the gate again. The hook itself already waited its own timeout.
 */
export const GATE_RETRY_MS = 1_000

/**
 * The output gate of `ctx.step(name, fn, { gate: 'replicated' })` (issue 11), passed before
 * each attempt calls `fn`: commit whatever the run still has pending, then wait for the
 * engine's `confirmDurable` hook to say that everything committed so far (this run's earlier
 * checkpoints among it) is in the replica. Resolves when `fn` may run.
 *
 * If the hook rejects (no confirmation in time), `fn` is not called: the run is parked as
 * `sleeping` for {@link GATE_RETRY_MS} and replays to this gate. Nothing is recorded for the
 * step, so the attempt count does not move. If the engine closes meanwhile, the run stops
 * here and continues on the next open; a cancellation that came during the wait stops it too.
 */
export async function passGate(ctx: RunContext): Promise<void> {
  await ctx.durable()
  try {
    await ctx.host.confirmDurable()
  } catch {
    ctx.mayContinue()
    return ctx.suspend('sleeping', ctx.host.clock() + GATE_RETRY_MS, 'retry')
  }
  ctx.mayContinue()
}
