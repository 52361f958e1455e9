import type { Context, MiddlewareHandler } from 'hono'
import {
  DURABILITY_HEADER,
  TENANT_DURABILITY_HEADER,
  errorResponse,
  isDurability,
  optionalInteger,
  readBodyText,
  type Durability,
  requestHeader,
} from '@litecell/protocol'
import { isFinalStatus, type FinalStatusLedger, type MaskableRun } from './final-status-ledger.js'
import { WorkerError } from './worker-error.js'

/** What replicated acknowledgements need from the worker (issue 11). */
export interface Replication {
  /**
   * Resolves once everything committed before the call is confirmed in S3; rejects with
   * `STORAGE_UNAVAILABLE` after the acknowledgement timeout (the commits stay local).
   */
  readonly confirmCommitted: () => Promise<unknown>
  /** Which final run statuses are confirmed in S3. */
  readonly ledger: FinalStatusLedger
}

/** A write the API acknowledges: start, batch, event, cancel, resume, fork of a run. */
const RUN_WRITE = /\/runs(?:\/batch|\/[^/]+\/(?:events|cancel|resume|fork))?$/
/**
 * A schedule's write: create, delete, pause, resume, and trigger and backfill, which start
 * runs like `POST /runs` does. Its body has no `durability`: the tenant's applies.
 */
const SCHEDULE_WRITE = /\/schedules(?:\/[^/]+(?:\/(?:pause|resume|trigger|backfill))?)?$/
/** `POST /runs/status`: a read of many runs' statuses (a POST only for its long id list). */
const RUN_STATUSES = /\/runs\/status$/
/** One run's view or its long-polled result (`stream` and `batch` are not run ids). */
const RUN_VIEW = /\/runs\/(?!stream$|batch$)([^/]+)(\/result)?$/
const RUN_LIST = /\/runs$/

/**
 * The tenant's durability, as the control plane says with each request it forwards (the
 * worker's callers are only the control plane, which holds the worker secret).
 */
export function tenantDurability(context: Context): Durability {
  const value = requestHeader(context, TENANT_DURABILITY_HEADER)
  return isDurability(value) ? value : 'local'
}

/**
 * Middleware over a tenant's run routes: every answer says what it got in
 * `Litecell-Durability`. In `replicated` mode (the tenant's, or a write's own `durability`), a
 * write's 2xx leaves only once its commit is confirmed in S3, else it becomes a 503
 * `STORAGE_UNAVAILABLE` with `committedLocally: true` and the run ids (a retry with the same
 * idempotency key finds the run); a run's view, result and the run list show a final status
 * only once it is confirmed, and a result long-poll waits for that within its `waitMs`.
 * Without `replication` (no replica, e.g. in-process tests) every answer is `local`.
 */
export function replicatedAcks(replication: Replication | undefined): MiddlewareHandler {
  return async function replicatedAck(context, next) {
    const startedAtMs = Date.now()
    const { method } = context.req
    const path = context.req.path
    const tenant = replication ? tenantDurability(context) : 'local'
    if (tenant === 'replicated') replication!.ledger.follow()
    const isRunWrite = method === 'POST' && RUN_WRITE.test(path)
    if (isRunWrite || ((method === 'POST' || method === 'DELETE') && SCHEDULE_WRITE.test(path))) {
      const requested = isRunWrite ? await requestedDurability(context) : undefined
      const durability = replication ? (requested ?? tenant) : 'local'
      await next()
      context.res.headers.set(DURABILITY_HEADER, durability)
      if (replication && durability === 'replicated' && context.res.ok) {
        await acknowledge(context, replication)
      }
      return
    }
    await next()
    context.res.headers.set(DURABILITY_HEADER, tenant)
    if (!replication || tenant !== 'replicated' || !context.res.ok) return
    if (method === 'POST' && RUN_STATUSES.test(path)) {
      const { runs } = (await context.res.clone().json()) as { runs: MaskableRun[] }
      replaceJson(context, { runs: runs.map((run) => replication.ledger.mask(run)) })
      return
    }
    if (method !== 'GET') return
    const view = RUN_VIEW.exec(path)
    if (view) {
      const run = (await context.res.clone().json()) as MaskableRun
      if (view[2] && !replication.ledger.isConfirmed(run.runId, run.status)) {
        const waitMs = optionalInteger(context.req.query('waitMs'), 'waitMs', 0, Infinity) ?? 0
        await within(replication.ledger.confirmation(run.runId), waitMs - (Date.now() - startedAtMs))
      }
      replaceJson(context, replication.ledger.mask(run))
    } else if (RUN_LIST.test(path)) {
      const page = (await context.res.clone().json()) as { runs: MaskableRun[] }
      const status = context.req.query('status')
      const runs = page.runs.map((run) => replication.ledger.mask(run))
      // A filter on a final status lists only the runs whose end is confirmed.
      const shown = status && isFinalStatus(status) ? runs.filter((run) => run.status === status) : runs
      replaceJson(context, { ...page, runs: shown })
    }
  }
}

/**
 * The write's own `durability` (for a batch: the batch's, else `replicated` if any run asks
 * for it, else `local` if any asks for that). A bad value is not this middleware's to refuse:
 * every run write's body schema has `durability` (`DurabilitySchema`), so the route answers it
 * with a 400 before anything is written, and a refusal is never held for S3.
 */
async function requestedDurability(context: Context): Promise<Durability | undefined> {
  let body: unknown
  try {
    const text = await readBodyText(context)
    body = text.trim() === '' ? {} : JSON.parse(text)
  } catch {
    return undefined // the route answers the malformed body with its 400
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  const fields = body as { durability?: unknown; runs?: unknown }
  const own = isDurability(fields.durability) ? fields.durability : undefined
  if (!Array.isArray(fields.runs)) return own
  const perRun = fields.runs.map((run: unknown) =>
    typeof run === 'object' && run !== null ? (run as { durability?: unknown }).durability : undefined,
  )
  if (own) return own
  if (perRun.includes('replicated')) return 'replicated'
  return perRun.includes('local') ? 'local' : undefined
}

/** Holds a write's 2xx until its commit is in S3, or turns it into the 503 that says why. */
async function acknowledge(context: Context, replication: Replication): Promise<void> {
  try {
    await replication.confirmCommitted()
  } catch (err) {
    const answer = (await context.res
      .clone()
      .json()
      .catch(() => ({}))) as { runId?: unknown; runIds?: unknown }
    const runId = answer.runId ?? context.req.param('runId')
    const ids =
      answer.runIds !== undefined ? { runIds: answer.runIds } : runId !== undefined ? { runId } : {}
    const error = new WorkerError(
      'STORAGE_UNAVAILABLE',
      `acknowledge ${describeWrite(ids)} in replicated mode: committed on the worker, but not confirmed in S3 in time (${(err as Error).message}); ${'runId' in ids || 'runIds' in ids ? 'retry with the same idempotency key to get the run once storage is back' : 'read it back once storage is back'}`,
      { cause: err, details: { ...ids, committedLocally: true } },
    )
    context.res = undefined
    context.res = errorResponse(context, error)
    context.res.headers.set(DURABILITY_HEADER, 'replicated')
  }
}

function describeWrite(ids: { runId?: unknown; runIds?: unknown }): string {
  if (Array.isArray(ids.runIds)) return `${ids.runIds.length} runs`
  return 'runId' in ids ? `run ${String(ids.runId)}` : 'the write'
}

function replaceJson(context: Context, body: unknown): void {
  const { status, headers } = context.res
  context.res = undefined
  context.res = new Response(JSON.stringify(body), { status, headers })
}

/** Waits for `promise`, at most `ms` (nothing if `ms` ≤ 0). */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  if (ms <= 0) return
  let timer: NodeJS.Timeout | undefined
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}
