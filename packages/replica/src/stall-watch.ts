import { statSync } from 'node:fs'
import { messageOf } from './replica-error.js'
import { openSqlite } from './sqlite-connection.js'

/** Longest pause between two nudges while no upload follows them (e.g. S3 is down). */
export const NUDGE_BACKOFF_MAX_MS = 60_000
/** A commit may wait at least this long for its upload before it counts as stalled. */
export const MIN_STALL_AFTER_MS = 1_000

/**
 * Litestream 0.3.13 can leave a commit in its shadow WAL without uploading it until the
 * database changes again: after a failed upload (S3 outage) its replica loop waits for the
 * next change notification, and a commit that lands while it copies the WAL can miss its
 * notification. On an idle tenant that means an unbounded replication lag. A stall watch
 * notices a WAL that changed after the last upload and has stayed un-uploaded for
 * `stallAfterMs`, and then makes a change itself: the same one-row upsert into
 * `_litestream_seq` that Litestream uses, which wakes its replica loop. Nudges back off
 * while no upload follows.
 */
export class StallWatch {
  readonly #walPath: string
  readonly #dbPath: string
  readonly #stallAfterMs: number
  readonly #note: (text: string) => void
  #timer: NodeJS.Timeout | undefined
  #lastUploadAtMs = Date.now()
  #lastNudgeAtMs = 0
  #nudgeGapMs: number

  constructor(dbPath: string, stallAfterMs: number, note: (text: string) => void) {
    this.#dbPath = dbPath
    this.#walPath = `${dbPath}-wal`
    this.#stallAfterMs = Math.max(stallAfterMs, MIN_STALL_AFTER_MS)
    this.#nudgeGapMs = this.#stallAfterMs
    this.#note = note
  }

  /** The stall threshold for a replica's intervals: two full monitor + sync cycles. */
  static thresholdMs(syncIntervalMs: number, monitorIntervalMs: number): number {
    return Math.max(2 * (syncIntervalMs + monitorIntervalMs), MIN_STALL_AFTER_MS)
  }

  /** Feed every Litestream log line; uploads reset the watch. */
  observe(line: string): void {
    if (line.includes('wal segment written') || line.includes('snapshot written')) {
      this.#lastUploadAtMs = Date.now()
      this.#nudgeGapMs = this.#stallAfterMs
    }
  }

  start(): void {
    this.#timer ??= setInterval(() => this.#check(), this.#stallAfterMs / 2)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  #check(): void {
    let changedAtMs: number
    try {
      changedAtMs = statSync(this.#walPath).mtimeMs
    } catch {
      return
    }
    const now = Date.now()
    if (changedAtMs <= this.#lastUploadAtMs) return
    if (now - changedAtMs < this.#stallAfterMs) return
    if (now - this.#lastNudgeAtMs < this.#nudgeGapMs) return
    this.#lastNudgeAtMs = now
    this.#nudgeGapMs = Math.min(this.#nudgeGapMs * 2, NUDGE_BACKOFF_MAX_MS)
    try {
      // Never wait for the write lock: the busy timeout would block this thread (the worker's
      // event loop, its heartbeats included) for seconds and could delay a lease renewal into
      // a spurious fence (issue 9, item 15). A busy database is being written anyway.
      const db = openSqlite(this.#dbPath, { busyTimeoutMs: 0 })
      try {
        db.exec(
          'INSERT INTO _litestream_seq (id, seq) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET seq = seq + 1',
        )
      } finally {
        db.close()
      }
      this.#note(
        `nudged litestream: a change waited ${Math.round(now - changedAtMs)} ms for upload`,
      )
    } catch (err) {
      // Busy (the app is writing, which wakes Litestream anyway) or not initialized yet.
      this.#note(`nudge skipped: ${messageOf(err)}`)
    }
  }
}
