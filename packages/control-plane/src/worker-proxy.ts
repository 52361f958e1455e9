import type { Context } from 'hono'
import { WORKER_SECRET_HEADER } from '@litecell/worker'
import { ControlPlaneError } from './control-plane-error.js'
import type { Fleet } from './fleet.js'

/** How long a retry waits for a dead worker's exit to be noticed. */
const DEAD_WORKER_WAIT_MS = 5_000
/** Response headers passed through from the worker. */
const PASSED_HEADERS = ['content-type', 'content-disposition', 'content-length']

/**
 * Forwards a tenant-scoped request to the tenant's worker, waking the tenant first. A worker
 * that dies mid-request, or was stopping, gets one retry on a fresh worker. (A retried
 * submission may start a second run unless it carries an idempotency key: same key, same run.)
 */
export async function proxyToWorker(context: Context, fleet: Fleet, tenantId: string): Promise<Response> {
  const method = context.req.method
  const body = method === 'GET' || method === 'HEAD' ? undefined : await context.req.arrayBuffer()
  const url = new URL(context.req.url)
  for (let attempt = 0; ; attempt += 1) {
    const live = await fleet.ensureActive(tenantId)
    fleet.beginRequest(live)
    let response: Response
    try {
      response = await fetch(`${live.url}${url.pathname}${url.search}`, {
        method,
        headers: {
          [WORKER_SECRET_HEADER]: live.secret,
          'content-type': context.req.header('content-type') ?? 'application/json',
        },
        body,
      })
    } catch (err) {
      if (attempt > 0) {
        throw new ControlPlaneError('WORKER_UNAVAILABLE', `tenant ${tenantId}: worker unreachable; retry`, { cause: err })
      }
      await Promise.race([live.process.exited, delay(DEAD_WORKER_WAIT_MS)])
      continue
    } finally {
      fleet.endRequest(live)
    }
    if (response.status === 503 && attempt === 0 && (await isStopping(response))) {
      await Promise.race([live.process.exited, delay(DEAD_WORKER_WAIT_MS)])
      continue
    }
    const headers = new Headers()
    for (const name of PASSED_HEADERS) {
      const value = response.headers.get(name)
      if (value !== null) headers.set(name, value)
    }
    return new Response(response.body, { status: response.status, headers })
  }
}

async function isStopping(response: Response): Promise<boolean> {
  const payload = (await response.clone().json().catch(() => ({}))) as { error?: { code?: string } }
  return payload.error?.code === 'WORKER_STOPPING'
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
