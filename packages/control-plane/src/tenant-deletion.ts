import { setTimeout as delay } from 'node:timers/promises'
import { ControlPlaneError } from './control-plane-error.js'
import type { Fleet } from './fleet/fleet.js'
import type { Registry } from './registry.js'
import type { TenantReplicas } from './tenant-replicas.js'

/** Slack past a lease's expiry before its worker is taken to have fenced itself. */
const LEASE_SLACK_MS = 250

/**
 * Deleting a tenant, so that it stays deleted (issue 9, item 6; ARCHITECTURE invariant 8).
 *
 * 1. Mark the row `deleting` (durably, in the replicated registry) before anything is torn
 *    down: from then on no route reaches the tenant (404), no timer or request wakes it, no
 *    lease is begun or renewed and no worker becomes its server (see `Registry.markDeleting`).
 * 2. Kill its worker, wait for its exit and remove its local files; wait out a lease a worker
 *    this process does not know may still hold (one of a previous control plane: it fences
 *    itself when its renewal fails, and must not upload after the replica is gone).
 * 3. Remove every replica of the id, then the row.
 *
 * A crash anywhere in between leaves the row `deleting`; the next start resumes from step 2
 * ({@link resume}). Concurrent deletes of one tenant share one teardown.
 */
export class TenantDeletion {
  readonly #registry: Registry
  readonly #fleet: Fleet
  readonly #replicas: TenantReplicas
  readonly #running = new Map<string, Promise<void>>()

  constructor(parts: { registry: Registry; fleet: Fleet; replicas: TenantReplicas }) {
    this.#registry = parts.registry
    this.#fleet = parts.fleet
    this.#replicas = parts.replicas
  }

  /** Deletes the tenant; `TENANT_NOT_FOUND` if there is none (a delete under way is joined). */
  async delete(id: string): Promise<void> {
    const running = this.#running.get(id)
    if (running) return running
    if (!this.#registry.markDeleting(id)) {
      throw new ControlPlaneError('TENANT_NOT_FOUND', `no tenant ${id}`)
    }
    return this.#tearDown(id)
  }

  /** Finishes every delete a crash interrupted; resolves with their tenant ids. */
  async resume(): Promise<string[]> {
    const ids = this.#registry.deletingTenants()
    await Promise.all(ids.map((id) => this.#running.get(id) ?? this.#tearDown(id)))
    return ids
  }

  #tearDown(id: string): Promise<void> {
    const teardown = (async () => {
      await this.#fleet.discard(id)
      const leaseLeftMs = (this.#registry.get(id)?.leaseExpiresAt ?? 0) - Date.now()
      if (leaseLeftMs > 0) await delay(leaseLeftMs + LEASE_SLACK_MS)
      await this.#replicas.delete(id)
      this.#registry.delete(id)
    })()
    this.#running.set(id, teardown)
    void teardown.finally(() => this.#running.delete(id)).catch(() => undefined)
    return teardown
  }
}
