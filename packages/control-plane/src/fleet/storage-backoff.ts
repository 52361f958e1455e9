import { ControlPlaneError } from '../control-plane-error.js'
import { storageBackoffMs } from './exit-policy.js'

/**
 * Tenants whose last worker could not reach the storage (exit `EXIT_STORAGE_UNAVAILABLE`):
 * how many times in a row, and when the next try is due. Until then a request's wake is
 * answered 503 `STORAGE_UNAVAILABLE` at once instead of launching a worker that would fail the
 * same way; the scheduler tries again when the backoff ends (issue 9, item 7). In memory: a
 * restarted control plane simply tries again.
 */
export class StorageBackoff {
  readonly #outages = new Map<string, { failures: number; retryAtMs: number }>()

  /** Records one more storage failure of the tenant; returns how many in a row. */
  failed(tenantId: string, nowMs: number): number {
    const failures = (this.#outages.get(tenantId)?.failures ?? 0) + 1
    this.#outages.set(tenantId, { failures, retryAtMs: nowMs + storageBackoffMs(failures) })
    return failures
  }

  /** The tenant's worker got ready, or ended for another reason: the outage is over for it. */
  cleared(tenantId: string): void {
    this.#outages.delete(tenantId)
  }

  /** Throws `STORAGE_UNAVAILABLE` while the tenant's backoff runs. */
  checkWake(tenantId: string, nowMs: number): void {
    const outage = this.#outages.get(tenantId)
    if (!outage || outage.retryAtMs <= nowMs) return
    throw new ControlPlaneError(
      'STORAGE_UNAVAILABLE',
      `wake tenant ${tenantId}: the storage was unreachable at its last ${outage.failures} start(s); next try at ${new Date(outage.retryAtMs).toISOString()}`,
    )
  }
}
