/**
 * Counts the syncs Litestream logs (an upload: a new generation, a snapshot, a WAL segment)
 * and lets callers wait for the next one after a point they noted: a replicator's way to
 * know that something committed after that point had a chance to be uploaded, without
 * polling.
 */
export class SyncLog {
  #count = 0
  #waiters: { after: number; resolve: () => void }[] = []

  /** Syncs logged so far. */
  get count(): number {
    return this.#count
  }

  /** Litestream logged a sync. */
  record(): void {
    this.#count += 1
    const due = this.#waiters.filter((waiter) => waiter.after < this.#count)
    this.#waiters = this.#waiters.filter((waiter) => waiter.after >= this.#count)
    for (const waiter of due) waiter.resolve()
  }

  /**
   * Resolves once more than `after` syncs were logged; rejects after `timeoutMs` with a
   * message saying what was awaited.
   */
  async next(after: number, timeoutMs: number, what: string): Promise<void> {
    if (this.#count > after) return
    let timer: NodeJS.Timeout | undefined
    const waiter = { after, resolve: () => undefined as void }
    const synced = new Promise<void>((resolve) => (waiter.resolve = resolve))
    this.#waiters.push(waiter)
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
        Math.max(timeoutMs, 1),
      )
    })
    try {
      await Promise.race([synced, timedOut])
    } finally {
      clearTimeout(timer)
      this.#waiters = this.#waiters.filter((other) => other !== waiter)
    }
  }
}
