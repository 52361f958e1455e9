/**
 * How a worker process ends, as the control plane reads its exit code. Anything else (a
 * signal, another code) is a crash.
 */

/** A verified hibernation: the replica holds the last transaction and the local files are gone. */
export const EXIT_HIBERNATED = 0
/** The worker failed (at start, or its hibernation failed for a reason other than storage). */
export const EXIT_FAILED = 1
/** The replica could not be verified (storage down): local files kept, not the tenant's fault. */
export const EXIT_STORAGE_UNAVAILABLE = 69
/** The worker lost (or could not renew) its lease and stopped writing. */
export const EXIT_LEASE_LOST = 75
/** A new tenant's first wake found nothing to restore from its source (a fork at a bad time). */
export const EXIT_NO_RESTORE_POINT = 66
/**
 * The tenant's app module could not be loaded (a compile error, a missing file, a bad default
 * export): not the tenant's crash, and a restart cannot help until the app is fixed. The worker
 * reports the module's own error first (the `refused` callback).
 */
export const EXIT_APP_LOAD_FAILED = 78
