/**
 * What an acknowledgement means (issue 11). `local`: the write is committed to the tenant
 * file on the worker's disk (it survives a process crash; Litestream ships it to S3 within a
 * sync interval). `replicated`: the answer waits until the write is confirmed in S3, so even
 * the loss of the machine loses nothing acknowledged, and a final run status is shown only
 * once it is in S3.
 */
export type Durability = 'local' | 'replicated'

/** Every {@link Durability}, for validation and docs. */
export const DURABILITIES: readonly Durability[] = ['local', 'replicated']

/** Response header that says what an answer's acknowledgement means. */
export const DURABILITY_HEADER = 'litecell-durability'

/**
 * Request header on the control plane's calls to a worker: the tenant's durability setting
 * (a request may override it with its own `durability`). Only the control plane, which holds
 * the worker secret, reaches a worker, so a client cannot set it.
 */
export const TENANT_DURABILITY_HEADER = 'x-litecell-tenant-durability'

/** How long a replicated acknowledgement waits for S3 before a 503 `STORAGE_UNAVAILABLE`. */
export const DEFAULT_REPLICATION_ACK_TIMEOUT_MS = 15_000

/** Whether a value is a {@link Durability}. */
export function isDurability(value: unknown): value is Durability {
  return value === 'local' || value === 'replicated'
}
