import { randomUUID } from 'node:crypto'
import type { Context } from 'hono'
import { bufferedBody } from '@litecell/client'
import { DURABILITY_HEADER, errorOf, readBodyText, requestHeader, type Durability } from '@litecell/protocol'
import { ControlPlaneError } from './control-plane-error.js'
import type { Fleet } from './fleet/fleet.js'
import type { WorkerExit } from './launcher.js'
import { traceProxyHop } from './tracing.js'

/** How long a retry waits for a dead worker's exit to be noticed. */
const DEAD_WORKER_WAIT_MS = 5_000
/** Longest worker answer read whole before it is passed on (larger ones stream). */
const BUFFERED_ANSWER_BYTES = 1024 * 1024
/** Response headers passed through from the worker. */
const PASSED_HEADERS = [
  'content-type',
  'content-disposition',
  'content-length',
  'retry-after',
  DURABILITY_HEADER,
]

/**
 * Forwards a tenant-scoped request to the tenant's worker, waking the tenant first. A worker
 * that dies mid-request, or was stopping, gets one retry on a fresh worker. Run submissions
 * without an idempotency key get one here, so that retry can never start a run twice; other
 * writes are retried only if the dead worker never received them. The worker learns the
 * tenant's `durability` with each request (a request may override it in its body).
 */
export async function proxyToWorker(
  context: Context,
  fleet: Fleet,
  tenantId: string,
  durability: Durability,
): Promise<Response> {
  const method = context.req.method
  const url = new URL(context.req.url)
  // A schedule's trigger starts a run too: it gets a key the same way.
  const isSubmission =
    method === 'POST' && /\/(runs(\/batch)?|schedules\/[^/]+\/trigger)$/.test(url.pathname)
  const raw = method === 'GET' || method === 'HEAD' ? undefined : await readBodyText(context)
  const body = isSubmission && raw !== undefined ? withIdempotencyKeys(raw) : raw
  // `POST …/runs/status` only reads.
  const isRetrySafe = method === 'GET' || isSubmission || /\/runs\/status$/.test(url.pathname)
  const contentType = requestHeader(context, 'content-type')
  for (let attempt = 0; ; attempt += 1) {
    const sent = await fleet.withWorker(tenantId, async (worker) => {
      try {
        const path = `${url.pathname}${url.search}`
        const response = await traceProxyHop(tenantId, method, url.pathname, (traceHeaders) =>
          worker.client.forward(method, path, { contentType, body, durability, traceHeaders }),
        )
        return { response, exited: worker.exited }
      } catch (err) {
        return { error: err, exited: worker.exited }
      }
    })
    if ('error' in sent) {
      if (attempt > 0 || !(isRetrySafe || neverSent(sent.error))) {
        throw new ControlPlaneError(
          'WORKER_UNAVAILABLE',
          `tenant ${tenantId}: the worker died during the request; it may or may not have taken effect: check, then retry`,
          { cause: sent.error },
        )
      }
      await untilGone(sent.exited)
      continue
    }
    const { response } = sent
    if (response.status === 503 && attempt === 0 && (await isStopping(response))) {
      await untilGone(sent.exited)
      continue
    }
    const headers = new Headers()
    for (const name of PASSED_HEADERS) {
      const value = response.headers.get(name)
      if (value !== null) headers.set(name, value)
    }
    return new Response(await bodyOf(response), { status: response.status, headers })
  }
}

/**
 * A worker's answer of known, small length (every JSON answer) is read whole, so the server
 * writes it with its headers at once; piping it as a stream costs a web stream on each side
 * and, in @hono/node-server, a timer tick when the stream's end is not read in the same turn.
 * Anything else (a snapshot download, a stream) is passed on as it comes.
 */
async function bodyOf(response: Response): Promise<Uint8Array | ReadableStream<Uint8Array> | null> {
  const bytes = bufferedBody(response)
  if (bytes !== undefined) return bytes
  const length = Number(response.headers.get('content-length') ?? NaN)
  // Bytes, not an ArrayBuffer: the server's fast path takes strings and Uint8Arrays only.
  return length <= BUFFERED_ANSWER_BYTES
    ? new Uint8Array(await response.arrayBuffer())
    : response.body
}

/** The request never reached the worker (nothing listened): safe to send again. */
function neverSent(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } }).cause
  return cause?.code === 'ECONNREFUSED'
}

/**
 * Gives every submitted run without an idempotency key a fresh one, so resending the same
 * body finds the runs the first attempt created. A body that does not parse is passed on
 * untouched: the worker answers it with a 400.
 */
function withIdempotencyKeys(raw: string): string {
  let body: unknown
  try {
    // A trigger needs no body: an empty one is an empty object that gets its key.
    body = raw.trim() === '' ? {} : JSON.parse(raw)
  } catch {
    return raw
  }
  if (typeof body !== 'object' || body === null) return raw
  const runs = Array.isArray((body as { runs?: unknown }).runs)
    ? (body as { runs: unknown[] }).runs
    : [body]
  for (const run of runs) {
    if (
      typeof run === 'object' &&
      run !== null &&
      !Array.isArray(run) &&
      !('idempotencyKey' in run)
    ) {
      ;(run as { idempotencyKey?: string }).idempotencyKey = `lc-auto-${randomUUID()}`
    }
  }
  return JSON.stringify(body)
}

async function isStopping(response: Response): Promise<boolean> {
  return (
    errorOf(
      await response
        .clone()
        .json()
        .catch(() => null),
    )?.code === 'WORKER_STOPPING'
  )
}

/** Waits for a dead or stopping worker's exit to be noticed (at most a few seconds). */
function untilGone(exited: Promise<WorkerExit>): Promise<unknown> {
  return Promise.race([exited, new Promise((resolve) => setTimeout(resolve, DEAD_WORKER_WAIT_MS))])
}
