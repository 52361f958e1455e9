/** Default time limit of {@link waitFor}. */
export const DEFAULT_WAIT_TIMEOUT_MS = 10_000
/** Default delay between two checks of {@link waitFor}. */
export const DEFAULT_WAIT_INTERVAL_MS = 25

/**
 * Poll `check` until it returns a value other than `undefined`/`false`/`null`, and
 * return that value; throw after `timeoutMs` with the last error `check` threw. The one
 * polling helper of this package, for tests and benchmarks; correctness never rests on a
 * bare sleep.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  opts: { readonly timeoutMs?: number; readonly intervalMs?: number; readonly what?: string } = {},
): Promise<Exclude<T, undefined | false | null>> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS
  const intervalMs = opts.intervalMs ?? DEFAULT_WAIT_INTERVAL_MS
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== false && value !== null) {
        return value as Exclude<T, undefined | false | null>
      }
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : ''
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}${reason}`,
        {
          cause: lastError,
        },
      )
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
