/**
 * The Litestream supervisor behind {@link Replicator}. Over 300 lines on purpose: start,
 * restart with backoff, the verified stop (with its quick replacement and final sync), the
 * verified sync, stop and kill all act on one current Litestream process and its flags, and
 * splitting them would spread one state machine over several files.
 */
import { existsSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import type { LitestreamBinary } from './litestream-binary.js'
import { LitestreamConfig } from './litestream-config.js'
import { type LitestreamProcess, describeExit } from './litestream-process.js'
import { finalSync } from './final-sync.js'
import { LogBuffer } from './log-buffer.js'
import type { ConfirmOptions, PositionWatcher, PositionWatcherStats } from './position-watcher.js'
import { ReplicaError, messageOf } from './replica-error.js'
import type { ReplicaLocation } from './replica-location.js'
import type { ReplicaLock } from './replica-lock.js'
import { type ReplicaPosition, formatPosition } from './replica-position.js'
import { proveSynced, verifyReplicaHolds } from './replica-verification.js'
import { StallWatch } from './stall-watch.js'
import { writeSyncMarker } from './sync-marker.js'
import { type WalCommit, readLastCommit } from './wal-commit.js'
import {
  DEFAULT_STOP_VERIFIED_TIMEOUT_MS,
  type Replicator,
  type StopVerifiedResult,
  type SyncVerifiedResult,
} from './replicator.js'

/** How long {@link Replicator.stop} waits for the final sync before SIGKILL. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000
/** Part of the stopVerified budget kept for the verification after the final sync. */
export const VERIFY_RESERVE_MS = 5_000
/** First delay before restarting a Litestream process that died. */
export const RESTART_BACKOFF_INITIAL_MS = 100
/** Longest delay between restarts. */
export const RESTART_BACKOFF_MAX_MS = 10_000
/** A process that ran at least this long resets the backoff. */
export const RESTART_BACKOFF_RESET_AFTER_MS = 30_000
/** After the proof, how long Litestream may take to finish exiting before SIGKILL. */
export const EXIT_GRACE_MS = 1_000

/** What {@link LitestreamReplicator} needs; prepared (validated, locked) by `replicate()`. */
export interface ReplicatorParts {
  readonly binary: LitestreamBinary
  readonly dbPath: string
  readonly replica: ReplicaLocation
  readonly config: LitestreamConfig
  readonly locks: readonly ReplicaLock[]
  /** Start Litestream; `quick`: with the quick config (opens the database and syncs at once). */
  readonly spawn: (onLine: (line: string) => void, quick?: boolean) => LitestreamProcess
  readonly startTimeoutMs: number
  /** How long an un-uploaded change may wait before the replicator nudges Litestream. */
  readonly stallAfterMs: number
  /** Confirms commits in S3 for every waiter; closed with the replicator. */
  readonly watcher: PositionWatcher
  readonly onLog?: (line: string) => void
  readonly onRestart?: (err: ReplicaError) => void
}

type State = 'running' | 'stopping' | 'stopped'

/** The supervisor behind {@link Replicator}: one Litestream at a time, restarted if it dies. */
export class LitestreamReplicator implements Replicator {
  readonly #parts: ReplicatorParts
  readonly #logs = new LogBuffer()
  #state: State = 'running'
  #child: LitestreamProcess | undefined
  #childStartedAtMs = 0
  #childHasBegun = false
  /** Resolves once the current process logged a sync, or a failed upload. */
  #childSettled = signal()
  /** Verified syncs run one at a time (each proves its own marker). */
  #syncing: Promise<unknown> = Promise.resolve()
  #restarts = 0
  #failuresInARow = 0
  #restartTimer: NodeJS.Timeout | undefined
  readonly #stallWatch: StallWatch
  readonly #onProcessExit = (): void => this.#child?.kill()

  constructor(parts: ReplicatorParts) {
    this.#parts = parts
    this.#stallWatch = new StallWatch(parts.dbPath, parts.stallAfterMs, (text) => this.#note(text))
    // An orphaned Litestream would keep replicating after this process is gone.
    process.once('exit', this.#onProcessExit)
  }

  get pid(): number | undefined {
    return this.#child?.isExited ? undefined : this.#child?.pid
  }

  get restarts(): number {
    return this.#restarts
  }

  logs(): string[] {
    return this.#logs.lines()
  }

  lastCommit(): WalCommit {
    return readLastCommit(this.#parts.dbPath)
  }

  confirmed(commit: WalCommit, opts?: ConfirmOptions): Promise<ReplicaPosition> {
    return this.#parts.watcher.waitFor(commit, opts)
  }

  watcherStats(): PositionWatcherStats {
    return this.#parts.watcher.stats()
  }

  /** Start Litestream and wait until it reports that it replicates. */
  async start(): Promise<void> {
    const child = this.#spawn()
    try {
      await child.waitForLine(isReadyLine, this.#parts.startTimeoutMs)
      this.#stallWatch.start()
    } catch (err) {
      this.kill()
      throw new ReplicaError(
        'LITESTREAM_FAILED',
        `start litestream: ${messageOf(err)}; last lines:\n${this.#logs.tail()}`,
        {
          cause: err,
          hint: 'see replicator logs; check the database path and the storage settings',
        },
      )
    }
  }

  async stopVerified(opts: { readonly timeoutMs?: number } = {}): Promise<StopVerifiedResult> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_STOP_VERIFIED_TIMEOUT_MS
    const started = performance.now()
    const remainingMs = (): number => Math.max(0, timeoutMs - (performance.now() - started))
    const phases: Record<string, number> = {}
    let lapAt = started
    const lap = (name: string): void => {
      const now = performance.now()
      phases[name] = Math.round(now - lapAt)
      lapAt = now
    }
    const { dbPath, replica } = this.#parts
    if (this.#state !== 'running') {
      throw new ReplicaError(
        'REPLICA_NOT_VERIFIED',
        `stop replicating ${dbPath}: replicator is already ${this.#state}`,
      )
    }
    this.#state = 'stopping'
    this.#cancelRestart()
    this.#stallWatch.stop()
    try {
      // Litestream must run to upload the marker; between crash and restart it does not.
      if (!this.#child || this.#child.isExited) await this.#startNow(remainingMs())
      lap('startMs')
      const { marker, commit } = await writeSyncMarker(dbPath)
      lap('markerMs')
      if (!this.#childHasBegun) {
        await this.#replaceWithQuick(remainingMs())
        lap('quickMs')
      }
      await this.#untilSynced(remainingMs(), commit)
      lap('untilSyncedMs')
      const child = this.#child!
      const final = await finalSync(
        child,
        this.#parts.watcher,
        commit,
        Math.max(remainingMs() - VERIFY_RESERVE_MS, remainingMs() / 2),
      )
      lap('finalSyncMs')
      this.#note(
        `final sync confirmed in S3 in ${Math.round(performance.now() - started)} ms at ${formatPosition(final.position)}`,
      )
      await verifyReplicaHolds(
        this.#parts.binary,
        replica,
        marker,
        Math.max(remainingMs(), 1),
        final.position.generation,
        dbPath,
      )
      lap('proofMs')
      this.#note(
        `replica verified in ${Math.round(performance.now() - started)} ms: holds sync marker ${marker}`,
      )
      // Proven: whatever Litestream still does on its way out is local (closing checkpoints).
      const exit = await child.waitForExit(EXIT_GRACE_MS)
      lap('exitMs')
      const killed = exit.killed ? ' (killed after the proof)' : ''
      this.#note(`litestream ${describeExit(exit)}${killed}`)
      return {
        verifiedAtMs: Date.now(),
        exitCode: exit.code,
        durationMs: Math.round(performance.now() - started),
        phases,
      }
    } catch (err) {
      this.#note(`verification failed: ${messageOf(err)}`)
      throw new ReplicaError(
        'REPLICA_NOT_VERIFIED',
        `stop replicating ${dbPath}: replica ${replica.path} not verified: ${messageOf(err)}`,
        {
          cause: err,
          hint: `the local database ${dbPath} was left in place; check that the storage is reachable (logs()), then replicate() again and retry stopVerified()`,
        },
      )
    } finally {
      this.#child?.kill()
      await this.#release()
    }
  }

  syncVerified(opts: { readonly timeoutMs?: number } = {}): Promise<SyncVerifiedResult> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_STOP_VERIFIED_TIMEOUT_MS
    const run = this.#syncing.then(async () => {
      const { binary, dbPath, replica } = this.#parts
      if (this.#state !== 'running') {
        throw new ReplicaError(
          'REPLICA_NOT_VERIFIED',
          `sync ${dbPath}: replicator is ${this.#state}`,
        )
      }
      const proof = await proveSynced({
        binary,
        dbPath,
        replica,
        timeoutMs,
        confirm: (commit, confirmMs) =>
          this.confirmed(commit, { timeoutMs: confirmMs, urgent: true }),
      })
      this.#note(
        `sync verified in ${proof.durationMs} ms: replica holds sync marker ${proof.marker}`,
      )
      return { verifiedAtMs: proof.verifiedAtMs, durationMs: proof.durationMs }
    })
    this.#syncing = run.catch(() => undefined)
    return run
  }

  async stop(opts: { readonly timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new TypeError(
        `Expected \`timeoutMs\` to be a number from 0 and up, got \`${timeoutMs}\` (${typeof timeoutMs})`,
      )
    }
    if (this.#state !== 'running') return
    this.#state = 'stopping'
    this.#cancelRestart()
    this.#stallWatch.stop()
    try {
      if (this.#child && !this.#child.isExited) {
        const exit = await this.#child.terminate(timeoutMs)
        this.#note(`stopped: ${describeExit(exit)}${exit.killed ? ' (killed after timeout)' : ''}`)
      }
    } finally {
      await this.#release()
    }
  }

  kill(): void {
    if (this.#state === 'stopped') return
    this.#state = 'stopped'
    this.#cancelRestart()
    this.#stallWatch.stop()
    this.#child?.kill()
    this.#parts.watcher.close('the replicator was killed before the commit was confirmed')
    process.removeListener('exit', this.#onProcessExit)
    for (const lock of this.#parts.locks) lock.release()
    this.#parts.config.removeSync()
  }

  #spawn(quick = false): LitestreamProcess {
    const child = this.#parts.spawn((line) => {
      this.#logs.push(line)
      this.#stallWatch.observe(line)
      this.#parts.watcher.observe(line)
      if (child === this.#child && hasBegunSync(line)) this.#childHasBegun = true
      // A sync, or a failed upload (storage down: its final sync is the last chance).
      if (child === this.#child && (isSyncLine(line) || line.includes('msg="monitor error"'))) {
        this.#childSettled.resolve()
      }
      this.#parts.onLog?.(line)
    }, quick)
    this.#child = child
    this.#childStartedAtMs = performance.now()
    this.#childHasBegun = false
    this.#childSettled = signal()
    void child.exited.then((exit) => this.#onChildExit(child, describeExit(exit)))
    return child
  }

  async #startNow(timeoutMs: number): Promise<void> {
    const child = this.#spawn()
    await child.waitForLine(isReadyLine, Math.max(timeoutMs, 1))
  }

  /**
   * Litestream 0.3.13 opens the database lazily, on a monitor tick, and its SIGTERM
   * handler runs the final sync only if that happened: a process stopped sooner exits 0
   * having uploaded nothing. Under a steady stream of write transactions its first open
   * can also lose the race for the write lock for a while. So SIGTERM only once the
   * current process uploaded a WAL segment; the fresh marker guarantees one will come. Not
   * sooner: a SIGTERM during a process's first upload (a new generation's snapshot and
   * WAL) cancels it, and the final sync does it all again.
   */
  async #untilSynced(timeoutMs: number, commit: WalCommit): Promise<void> {
    // Or `commit` is in S3 already (a replaced process may have uploaded it as it died).
    const abort = new AbortController()
    const confirmed = this.#parts.watcher.waitFor(commit, {
      timeoutMs,
      urgent: true,
      signal: abort.signal,
    })
    confirmed.catch(() => undefined)
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<never>((_, reject) => {
      const what = 'litestream to open and sync the database'
      timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
        Math.max(timeoutMs, 1),
      )
    })
    try {
      await Promise.race([confirmed, this.#childSettled.promise, timedOut])
    } finally {
      clearTimeout(timer)
      abort.abort()
    }
  }

  /**
   * A Litestream that has not begun its first sync opens the database only at its first
   * monitor tick, up to a monitor interval away, and its SIGTERM would upload nothing:
   * replace it by one that ticks at once (the quick config). Killing it loses nothing: it
   * has not touched the database or the replica yet.
   */
  async #replaceWithQuick(timeoutMs: number): Promise<void> {
    const old = this.#child
    old?.kill()
    await old?.exited
    this.#note('litestream had not begun its first sync: replaced by one that syncs at once')
    const child = this.#spawn(true)
    await child.waitForLine(isReadyLine, Math.max(timeoutMs, 1))
  }

  #onChildExit(child: LitestreamProcess, how: string): void {
    if (this.#state !== 'running' || child !== this.#child) return
    const livedMs = performance.now() - this.#childStartedAtMs
    this.#failuresInARow = livedMs >= RESTART_BACKOFF_RESET_AFTER_MS ? 1 : this.#failuresInARow + 1
    const delayMs = Math.min(
      RESTART_BACKOFF_INITIAL_MS * 2 ** (this.#failuresInARow - 1),
      RESTART_BACKOFF_MAX_MS,
    )
    const err = new ReplicaError(
      'LITESTREAM_FAILED',
      `litestream for ${this.#parts.dbPath} died (${how}); restarting in ${delayMs} ms`,
    )
    this.#note(err.message)
    this.#parts.onRestart?.(err)
    this.#restartTimer = setTimeout(() => this.#restart(), delayMs)
  }

  #restart(): void {
    this.#restartTimer = undefined
    if (this.#state !== 'running') return
    if (!existsSync(this.#parts.dbPath)) {
      this.#note(`database ${this.#parts.dbPath} is gone; not restarting litestream`)
      return
    }
    this.#restarts++
    const child = this.#spawn()
    // A restarted process that never gets ready is killed; its exit schedules the next try.
    child.waitForLine(isReadyLine, this.#parts.startTimeoutMs).catch((err: unknown) => {
      this.#note(`restart failed: ${messageOf(err)}`)
      child.kill()
    })
  }

  #cancelRestart(): void {
    clearTimeout(this.#restartTimer)
    this.#restartTimer = undefined
  }

  async #release(): Promise<void> {
    this.#state = 'stopped'
    this.#parts.watcher.close('the replicator stopped before the commit was confirmed')
    process.removeListener('exit', this.#onProcessExit)
    for (const lock of this.#parts.locks) lock.release()
    // At once: a fenced worker exits right after its stop, before an async removal would run
    // (each fence left a config folder in the temp dir).
    this.#parts.config.removeSync()
  }

  #note(text: string): void {
    const line = `[litecell] ${text}`
    this.#logs.push(line)
    this.#parts.onLog?.(line)
  }
}

/** A promise with its `resolve`, for an event that happens once. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((done) => (resolve = done))
  return { promise, resolve }
}

/** The line Litestream logs once it has opened the database and uploaded WAL. */
function isSyncLine(line: string): boolean {
  return line.includes('msg="wal segment written"')
}

const BEGUN_SYNC =
  /msg="(sync: new generation|write snapshot|write wal segment|snapshot written|wal segment written|sync error|monitor error)"/

/** Lines of a Litestream that has opened the database and is syncing or uploading. */
function hasBegunSync(line: string): boolean {
  return BEGUN_SYNC.test(line)
}

/** Litestream logs `replicating to` once the database is open and its replica configured. */
function isReadyLine(line: string): boolean {
  return line.includes('replicating to')
}
