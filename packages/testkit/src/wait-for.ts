/** Default time limit of {@link waitFor}: generous, since it only matters when a test fails. */
export const DEFAULT_WAIT_TIMEOUT_MS = 30_000
/** Default pause between two checks of {@link waitFor}. */
export const DEFAULT_WAIT_INTERVAL_MS = 25

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** @default DEFAULT_WAIT_TIMEOUT_MS */
  readonly timeoutMs?: number
  /** @default DEFAULT_WAIT_INTERVAL_MS */
  readonly intervalMs?: number
  /** What is awaited, for the timeout message. */
  readonly what?: string
}

/**
 * Polls `check` until it returns a value other than `undefined`, `null` or `false` (or `0`,
 * `''`), and returns that value; throws after `timeoutMs` with the last error `check` threw.
 * The one polling helper of litecell's tests and benchmarks, for waits across processes that
 * offer nothing to await; correctness never rests on a bare sleep (STYLE.md rule 17).
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : ''
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${options.what ?? 'condition'}${reason}`,
        { cause: lastError },
      )
    }
    await new Promise((resolve) =>
      setTimeout(resolve, options.intervalMs ?? DEFAULT_WAIT_INTERVAL_MS),
    )
  }
}
