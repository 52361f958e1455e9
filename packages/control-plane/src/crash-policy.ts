/** Crashes within {@link CRASH_WINDOW_MS} that mark a tenant failed. */
export const CRASH_LIMIT = 5
/** The window crash-loop detection looks at. */
export const CRASH_WINDOW_MS = 5 * 60_000
/** First restart delay after a crash; doubles with each further crash. */
export const CRASH_BACKOFF_BASE_MS = 500
/** Longest restart delay. */
export const CRASH_BACKOFF_MAX_MS = 30_000

/** Delay before the scheduler restarts a tenant after its `crashCount`-th recent crash. */
export function crashBackoffMs(crashCount: number): number {
  return Math.min(CRASH_BACKOFF_MAX_MS, CRASH_BACKOFF_BASE_MS * 2 ** Math.max(0, crashCount - 1))
}
