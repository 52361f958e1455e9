import type { Database, Statement } from './connection.js'
import type { Journal } from './journal.js'
import { newRunId } from './run-id.js'
import type { RunFlow, RunRow, RunStore } from './run-store.js'
import type { RunTagStore } from './run-tags.js'

/** A run that a resume or fork made `pending`, to announce and schedule once committed. */
export type StartedRun = RunRow

/**
 * What `resume` and `fork` do to a run's children, so that a parent never waits on a child
 * nobody will run or that will never wake it:
 *
 * - **Resume** of a run also resumes its descendants that were cancelled *with* it (their
 *   error is `PARENT_CANCELLED`: they were unfinished when the cancellation or timeout of the
 *   run reached them). They keep their journals, as the run does, so the resumed parent that
 *   waits on such a child is woken when it ends. Children that ended on their own (succeeded,
 *   failed, or cancelled by their own cancel or timeout) are left as they are: the parent
 *   replays their recorded outcome, or records it now; to retry a failed child, resume the
 *   child first.
 * - **Fork** from `fromStep` copies the journal before `fromStep`. A child whose start is in
 *   the copied part and that has ended (on its own) is referenced as it is: the fork reuses
 *   its outcome, as it reuses any recorded call. A child that has not ended, or was
 *   cancelled with its parent, gets a replacement for the fork: a new run of the same
 *   workflow, input and options, from scratch, whose parent is the fork (so its end wakes the
 *   fork), and the fork's copied start record names the new run. Children started at or after
 *   `fromStep` are started anew by the fork's own replay, as before.
 */
export class RunTree {
  readonly #runs: RunStore
  readonly #journal: Journal
  readonly #tags: RunTagStore
  readonly #cascaded: Statement
  readonly #childrenBefore: Statement
  readonly #relink: Statement

  constructor(db: Database, runs: RunStore, journal: Journal, tags: RunTagStore) {
    this.#runs = runs
    this.#journal = journal
    this.#tags = tags
    this.#cascaded = db.prepare(
      `WITH RECURSIVE tree(run_id) AS (
         SELECT ?1 UNION ALL SELECT r.run_id FROM lc_runs r JOIN tree t ON r.parent_run_id = t.run_id
         WHERE r.status = 'cancelled' AND r.detached = 0
           AND json_extract(r.error, '$.code') = 'PARENT_CANCELLED'
       )
       SELECT * FROM lc_runs WHERE run_id IN (SELECT run_id FROM tree) AND run_id != ?1 ORDER BY id`,
    )
    this.#childrenBefore = db.prepare(
      `SELECT * FROM lc_runs WHERE parent_run_id = ? AND parent_seq < ?
         AND (status NOT IN ('succeeded','failed','cancelled')
              OR (status = 'cancelled' AND json_extract(error, '$.code') = 'PARENT_CANCELLED'))
       ORDER BY parent_seq`,
    )
    this.#relink = db.prepare(
      "UPDATE lc_steps SET output = ? WHERE run_id = ? AND seq = ? AND kind = 'child'",
    )
  }

  /**
   * Resumes (inside the caller's batch) the descendants of `runId` that were cancelled with
   * it, and returns them as they are now (`pending`).
   */
  resumeCascaded(runId: string, nowMs: number): StartedRun[] {
    const cascaded = this.#cascaded.all(runId) as RunRow[]
    for (const child of cascaded) this.#runs.reset(child.run_id, nowMs)
    return cascaded.map((child) => this.#runs.get(child.run_id) as RunRow)
  }

  /**
   * Creates the fork of `source` from `fromStep` (inside the caller's batch): the new run,
   * its copied journal and replacements for the children it must not share. Returns the fork
   * first, then the replacement children.
   */
  fork(source: RunRow, fromStep: number, nowMs: number): StartedRun[] {
    const fork = this.#copyRun(source, newRunId(nowMs), null, null, nowMs)
    this.#journal.copy(source.run_id, fork.run_id, fromStep)
    const started = [fork]
    for (const child of this.#childrenBefore.all(source.run_id, fromStep) as RunRow[]) {
      const seq = child.parent_seq as number
      const replacement = this.#copyRun(child, newRunId(nowMs), fork.run_id, seq, nowMs)
      this.#relink.run(JSON.stringify(replacement.run_id), fork.run_id, seq)
      started.push(replacement)
    }
    return started
  }

  /** Inserts a new `pending` run with the workflow, input and options of `from`. */
  #copyRun(
    from: RunRow,
    runId: string,
    parentRunId: string | null,
    parentSeq: number | null,
    nowMs: number,
  ): RunRow {
    const flow: RunFlow = {
      status: 'pending',
      wakeAt: null,
      priority: from.priority,
      partitionKey: from.partition_key,
      deduplicationId: null,
      debounceKey: null,
      tags: from.tags,
      timeoutMs: from.timeout_ms,
      deadlineAt: from.timeout_ms === null ? null : nowMs + from.timeout_ms,
      detached: parentRunId !== null && from.detached === 1,
    }
    const id = this.#runs.insert({
      runId,
      workflow: from.workflow,
      queue: from.queue,
      input: from.input,
      idempotencyKey: null,
      parentRunId,
      parentSeq,
      nowMs,
      flow,
    })
    if (flow.tags !== null) this.#tags.insert(id, flow.tags)
    return this.#runs.get(runId) as RunRow
  }
}
