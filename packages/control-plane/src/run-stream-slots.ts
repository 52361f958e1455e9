import { ControlPlaneError } from './control-plane-error.js'

/**
 * Run streams (`GET …/runs/stream`) one tenant may hold open at once. Each open stream costs
 * the control plane a connection and, while the tenant sleeps, a look for its next worker
 * every half second: without a bound one tenant's token could open them by the thousand and
 * slow the control plane for every tenant. A dashboard holds one per tab.
 */
export const MAX_RUN_STREAMS_PER_TENANT = 32

/** Counts each tenant's open run streams; refuses one past {@link MAX_RUN_STREAMS_PER_TENANT}. */
export class RunStreamSlots {
  readonly #open = new Map<string, number>()

  /**
   * Takes a slot for a new stream of `tenantId`; returns its release (safe to call twice).
   *
   * @throws {ControlPlaneError} `TOO_MANY_STREAMS` (429) while the tenant holds the most.
   */
  take(tenantId: string): () => void {
    const open = this.#open.get(tenantId) ?? 0
    if (open >= MAX_RUN_STREAMS_PER_TENANT) {
      throw new ControlPlaneError(
        'TOO_MANY_STREAMS',
        `tenant ${tenantId} already has ${open} run streams open (at most ${MAX_RUN_STREAMS_PER_TENANT}); close one first`,
      )
    }
    this.#open.set(tenantId, open + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const left = (this.#open.get(tenantId) ?? 1) - 1
      if (left > 0) this.#open.set(tenantId, left)
      else this.#open.delete(tenantId)
    }
  }
}
