/**
 * How a worker process ends, as the control plane reads its exit code. Anything else (a
 * signal, another code) is a crash.
 */

/** A verified hibernation: the replica holds the last transaction and the local files are gone. */
export const EXIT_HIBERNATED = 0
/** The worker failed (at start, or its hibernation failed for a reason other than storage). */
export const EXIT_FAILED = 1
/**
 * The storage could not be reached: at start, nothing could be restored (the worker never got
 * ready); at hibernation, the replica could not be verified (local files kept). Either way not
 * the tenant's fault: retried with backoff, never counted as a crash.
 */
export const EXIT_STORAGE_UNAVAILABLE = 69
/** The worker lost (or could not renew) its lease and stopped writing. */
export const EXIT_LEASE_LOST = 75
/** A new tenant's first wake found nothing to restore from its source (a fork at a bad time). */
export const EXIT_NO_RESTORE_POINT = 66
/**
 * The engine refused the tenant's file (it records another app, or an applied migration
 * changed: {@link APP_REFUSAL_CODES}); the worker reported why (`refused` callback) before it
 * exited. Not a crash: no retry helps until the tenant is upgraded or its app restored.
 */
export const EXIT_APP_REFUSED = 78
/**
 * The tenant's app module could not be loaded (a compile error, a missing file, a bad default
 * export): not the tenant's crash, and a restart cannot help until the app is fixed. The worker
 * reports the module's own error first (the `refused` callback, code `APP_LOAD_FAILED`).
 */
export const EXIT_APP_LOAD_FAILED = 79

/** The engine's error codes at open that refuse a tenant's file rather than fail the worker. */
export const APP_REFUSAL_CODES = ['APP_MISMATCH', 'MIGRATION_MISMATCH'] as const
/** One of {@link APP_REFUSAL_CODES}. */
export type AppRefusalCode = (typeof APP_REFUSAL_CODES)[number]
/** The codes a worker's `refused` report may carry: the engine's refusals, or an app that does not load. */
export const REFUSED_REPORT_CODES = [...APP_REFUSAL_CODES, 'APP_LOAD_FAILED'] as const
/** One of {@link REFUSED_REPORT_CODES}. */
export type RefusedCode = (typeof REFUSED_REPORT_CODES)[number]

/** Error codes meaning the storage is down or refuses us: the storage's fault, not the tenant's. */
const STORAGE_OUTAGE_CODES = new Set([
  'STORAGE_UNAVAILABLE',
  'STORAGE_AUTH_FAILED',
  'STORAGE_FORBIDDEN',
  'STORAGE_BUCKET_MISSING',
])

/** Whether an error code says the storage is unreachable or refuses us (not the tenant's fault). */
export function isStorageOutage(code: unknown): boolean {
  return typeof code === 'string' && STORAGE_OUTAGE_CODES.has(code)
}
