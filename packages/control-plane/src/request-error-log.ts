import { errorCode, statusForCode } from '@litecell/protocol'
import type { Context } from 'hono'
import type { Logger } from 'pino'
import { RepeatLimiter } from './repeat-limiter.js'

/**
 * Logs the error answers of the API. Expected conditions (any 4xx, and a 5xx whose code the
 * protocol maps to a status of its own: a failed tenant, storage down, a worker stopping or
 * busy, an app that does not load, no logs here) are a `warn` line without a stack; anything
 * else (a 500: an unknown code, or none) is an `error` with its stack. Identical
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
    const expected = status < 500 || statusForCode(code) !== 500
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
