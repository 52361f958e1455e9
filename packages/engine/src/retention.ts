import type { RetentionPolicy } from './app.js'
import { positiveMs } from './app.js'
import type { Database, Statement } from './connection.js'
import type { GroupCommit } from './group-commit.js'

/** Runs deleted per write transaction: a batch must stay short (a few ms), see below. */
export const RETENTION_BATCH_RUNS = 100
/** Longest time between two sweeps while the engine is open. */
export const RETENTION_MAX_INTERVAL_MS = 60_000
/** Shortest time between two sweeps. */
export const RETENTION_MIN_INTERVAL_MS = 1_000

type FinalStatus = 'succeeded' | 'failed' | 'cancelled'

// The same terms as the partial index lc_runs_finished, which the query names.
const FINISHED = "status IN ('succeeded','failed','cancelled')"

/**
 * The index retention finds old finished runs through. It exists only while the app has a
 * retention policy: an entry per finished run cost ≈ 10 µs per run in the burst benchmark
 * (measured raw: insert + running + finish of 20,000 runs, 23–37 µs per run without it,
 * 37–42 µs with it), which apps without retention should not pay.
 */
const RETENTION_INDEX_SQL = `CREATE INDEX IF NOT EXISTS lc_runs_finished ON lc_runs (status, updated_at)
  WHERE ${FINISHED}`

/**
 * Creates the retention index if the app has a policy, and drops it if not (an app that no
 * longer has one stops paying for it). Creating it on a big file scans `lc_runs` once.
 */
export function syncRetentionIndex(db: Database, policy: RetentionPolicy | undefined): void {
  const enabled = Object.values(policy ?? {}).some((keep) => keep !== undefined)
  db.exec(enabled ? RETENTION_INDEX_SQL : 'DROP INDEX IF EXISTS lc_runs_finished')
}

/**
 * Deletes finished runs older than the app's {@link RetentionPolicy} (by the time they
 * ended, `updated_at`), with their journal (`lc_steps`), events and tags.
 *
 * It works in the background of an open engine, in batches of {@link RETENTION_BATCH_RUNS}
 * runs: each batch is one short write through the group commit (so it shares a commit with
 * whatever runs write meanwhile, and never holds the write lock for long), and the sweep
 * yields to the event loop between batches, so runs and API calls interleave with it. A
 * sweep runs every quarter of the shortest retention period, between
 * {@link RETENTION_MIN_INTERVAL_MS} and {@link RETENTION_MAX_INTERVAL_MS}, while the engine
 * is open (a hibernated tenant's file does not grow, so nothing wakes it for retention).
 *
 * Never deleted: a child run while its parent exists (a parent that has not ended may still
 * need its result, and so may a failed or cancelled one that is resumed, or any parent forked:
 * their replay reads the child's row), so a tree goes root first, each batch freeing the
 * children of the runs it deleted for the next; and a run this process is still executing (a
 * cancelled run whose step is finishing).
 *
 * Space: SQLite puts the pages of deleted rows on its freelist and reuses them for new rows,
 * so under a steady workload the file stops growing at about the size of the runs retained
 * at once plus one sweep's worth; it does not shrink (no `VACUUM`: it would rewrite every
 * page under Litestream, which tracks pages; `auto_vacuum` can only be switched on for
 * existing files by a `VACUUM`).
 */
export class Retention {
  readonly #writer: GroupCommit
  readonly #clock: () => number
  readonly #isExecuting: (runId: string) => boolean
  readonly #keepMs: readonly (readonly [FinalStatus, number])[]
  readonly #statements: RetentionStatements | null
  readonly intervalMs: number
  #timer: NodeJS.Timeout | null = null
  #sweeping: Promise<number> | null = null
  #stopped = false

  constructor(
    db: Database,
    writer: GroupCommit,
    clock: () => number,
    policy: RetentionPolicy,
    isExecuting: (runId: string) => boolean,
  ) {
    this.#writer = writer
    this.#clock = clock
    this.#isExecuting = isExecuting
    this.#keepMs = (['succeeded', 'failed', 'cancelled'] as const)
      .filter((status) => policy[status] !== undefined)
      .map((status) => [status, positiveMs(policy[status], `app.retention.${status}`)] as const)
    const shortest = Math.min(...this.#keepMs.map(([, keepMs]) => keepMs))
    this.intervalMs = Math.min(
      RETENTION_MAX_INTERVAL_MS,
      Math.max(RETENTION_MIN_INTERVAL_MS, Math.floor(shortest / 4)),
    )
    // Prepared only with a policy: the index the candidates query names exists only then.
    this.#statements = this.#keepMs.length === 0 ? null : prepareStatements(db)
  }

  /** True if the app has a retention policy. */
  get enabled(): boolean {
    return this.#keepMs.length > 0
  }

  /** Starts sweeping every {@link intervalMs}. */
  start(): void {
    if (!this.enabled || this.#stopped) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      void this.sweep()
        .catch(() => undefined) // a failed batch (storage) is retried by the next sweep
        .finally(() => this.start())
    }, this.intervalMs)
    this.#timer.unref()
  }

  /** Stops sweeping; resolves once a sweep under way stopped (after its current batch). */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    await this.#sweeping?.catch(() => undefined)
  }

  /**
   * Deletes every run past its retention, batch by batch; resolves with how many. A second
   * call while a sweep is under way joins it.
   */
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweep().finally(() => (this.#sweeping = null))
    return this.#sweeping
  }

  async #sweep(): Promise<number> {
    let deleted = 0
    for (const [status, keepMs] of this.#keepMs) {
      for (;;) {
        if (this.#stopped) return deleted
        const batch = this.#deleteBatch(status, this.#clock() - keepMs)
        await this.#writer.durable()
        deleted += batch
        // Not `batch < RETENTION_BATCH_RUNS`: deleting parents frees their children for the next.
        if (batch === 0) break
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    return deleted
  }

  /** Deletes up to one batch of runs of `status` that ended before `cutoffMs`. */
  #deleteBatch(status: FinalStatus, cutoffMs: number): number {
    const statements = this.#statements as RetentionStatements
    return this.#writer.write(() => {
      const rows = statements.candidates.all(status, cutoffMs, RETENTION_BATCH_RUNS) as {
        id: number
        run_id: string
        tags: string | null
      }[]
      const runs = rows.filter((row) => !this.#isExecuting(row.run_id))
      if (runs.length === 0) return 0
      const runIds = JSON.stringify(runs.map((row) => row.run_id))
      const ids = JSON.stringify(runs.map((row) => row.id))
      statements.deleteSteps.run(runIds)
      statements.deleteEvents.run(runIds)
      if (runs.some((row) => row.tags !== null)) statements.deleteTags.run(ids)
      statements.deleteRuns.run(ids)
      return runs.length
    })
  }
}

interface RetentionStatements {
  readonly candidates: Statement
  readonly deleteSteps: Statement
  readonly deleteEvents: Statement
  readonly deleteTags: Statement
  readonly deleteRuns: Statement
}

function prepareStatements(db: Database): RetentionStatements {
  const ids = 'SELECT value FROM json_each(?)'
  return {
    candidates: db.prepare(
      `SELECT id, run_id, tags FROM lc_runs AS r INDEXED BY lc_runs_finished
       WHERE ${FINISHED} AND status = ? AND updated_at < ?
         AND (parent_run_id IS NULL OR NOT EXISTS (SELECT 1 FROM lc_runs AS p WHERE p.run_id = r.parent_run_id))
       LIMIT ?`,
    ),
    deleteSteps: db.prepare(`DELETE FROM lc_steps WHERE run_id IN (${ids})`),
    deleteEvents: db.prepare(`DELETE FROM lc_events WHERE run_id IN (${ids})`),
    deleteTags: db.prepare(
      `DELETE FROM lc_run_tags WHERE (key, value, run_id) IN (
         SELECT t.key, t.value, r.id FROM lc_runs AS r, json_each(r.tags) AS t
         WHERE r.id IN (${ids}) AND r.tags IS NOT NULL)`,
    ),
    deleteRuns: db.prepare(`DELETE FROM lc_runs WHERE id IN (${ids})`),
  }
}
