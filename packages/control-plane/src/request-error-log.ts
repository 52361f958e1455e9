import { errorCode } from '@litecell/protocol'
import type { Context } from 'hono'
import type { Logger } from 'pino'
import { RepeatLimiter } from './repeat-limiter.js'

/**
 * 5xx answers that say something true about a tenant or the fleet (failed, storage down,
 * stopping, busy), not that the control plane broke: logged like a 4xx.
 */
const EXPECTED_5XX = new Set([
  'TENANT_FAILED',
  'STORAGE_UNAVAILABLE',
  'STORAGE_FAILED',
  'REPLICA_NOT_VERIFIED',
  'WORKER_UNAVAILABLE',
  'WORKER_START_FAILED',
  'WORKER_STOPPING',
  'ENGINE_CLOSED',
])

/**
 * Logs the error answers of the API. Expected conditions (any 4xx, and the 5xx codes above)
 * are a `warn` line without a stack; anything else is an `error` with its stack. Identical
 * lines (same code, route, tenant) are folded by a {@link RepeatLimiter}: one per minute,
 * with how many were dropped in between.
 */
export class RequestErrorLog {
  readonly #log: Logger
  readonly #limiter: RepeatLimiter

  constructor(log: Logger, limiter = new RepeatLimiter()) {
    this.#log = log
    this.#limiter = limiter
  }

  /** Logs one error answer (`status`) of the request in `context`. */
  record(context: Context, err: unknown, status: number): void {
    const code = errorCode(err)
    const expected = status < 500 || EXPECTED_5XX.has(code)
    const route = context.req.routePath
    const tenantId = context.req.param('id')
    const message = err instanceof Error ? err.message : String(err)
    // Unexpected errors differ by message (a new bug is a new line); expected ones by what
    // was asked (a tenant's id, a route), whatever run or detail the message names.
    const key = [status, code, context.req.method, route, tenantId, expected ? '' : message].join(
      ' ',
    )
    const repeats = this.#limiter.admit(key)
    if (repeats === null) return
    const fields = {
      status,
      code,
      method: context.req.method,
      path: context.req.path,
      ...(repeats > 0 ? { repeats } : {}),
    }
    if (expected) this.#log.warn({ ...fields, message }, 'request refused')
    else this.#log.error({ ...fields, err }, 'request failed')
  }
}
