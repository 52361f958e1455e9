import { type LitestreamExit, type LitestreamProcess, describeExit } from './litestream-process.js'
import type { PositionWatcher } from './position-watcher.js'
import { ReplicaError } from './replica-error.js'
import type { ReplicaPosition } from './replica-position.js'
import type { WalCommit } from './wal-commit.js'

/** How Litestream ended after its final sync. */
export type FinalExit = LitestreamExit & { readonly killed: boolean }

/** A final sync whose last commit is confirmed in S3; Litestream may still be exiting. */
export interface FinalSync {
  /** Where the commit is in the replica. */
  readonly position: ReplicaPosition
  /** Settles once Litestream has exited (SIGKILL after the time budget). */
  readonly exited: Promise<FinalExit>
}

/**
 * Make Litestream upload `commit` now and return as soon as the watcher sees it in S3.
 * SIGTERM is the one way to make Litestream 0.3.13 sync at once (it has no other signal or
 * trigger: its monitor and sync loops are plain tickers): it runs a final shadow-WAL copy
 * and upload, then exits. The wait ends on the store's listing, not on Litestream's exit,
 * which can lag behind (closing its connection checkpoints the WAL). If Litestream exits
 * first, one last look decides; no confirmation then throws `REPLICA_NOT_VERIFIED`.
 * Litestream must have opened the database already, or its SIGTERM uploads nothing.
 */
export async function finalSync(
  child: LitestreamProcess,
  watcher: PositionWatcher,
  commit: WalCommit,
  timeoutMs: number,
): Promise<FinalSync> {
  const exited = child.terminate(timeoutMs)
  const abort = new AbortController()
  const confirmed = watcher.waitFor(commit, { timeoutMs, urgent: true, signal: abort.signal })
  const pending = Symbol('pending')
  let done = false
  const first = await Promise.race([
    confirmed,
    exited.then(async (exit) => {
      if (done) return pending
      await watcher.refresh()
      // The refresh settled the waiter if S3 holds the commit: `confirmed` wins when settled.
      const settled = await Promise.race([confirmed, Promise.resolve(pending)])
      if (settled !== pending) return settled
      abort.abort()
      const killed = exit.killed ? ', killed after the time budget' : ''
      throw new ReplicaError(
        'REPLICA_NOT_VERIFIED',
        `litestream exited (${describeExit(exit)}${killed}) before the last commit was seen in S3`,
      )
    }),
  ]).finally(() => {
    done = true
  })
  confirmed.catch(() => undefined)
  if (first === pending) throw new Error('unreachable: final sync settled twice')
  return { position: first, exited }
}
