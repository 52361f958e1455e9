import type { z } from 'zod'

/** Who may call a route: nobody in particular, any valid token, the admin, or the admin and the tenant's own token. */
export type RouteAuth = 'none' | 'any' | 'admin' | 'tenant'

/** A query parameter of a route. */
export interface QueryParam {
  readonly name: string
  readonly description: string
  readonly type: 'string' | 'integer' | 'boolean'
  readonly enum?: readonly string[]
}

/** One route of the public API, as the OpenAPI document shows it. */
export interface ApiRoute {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete'
  /** OpenAPI path: `/v1/tenants/{id}/runs/{runId}`. */
  readonly path: string
  readonly summary: string
  readonly tag: 'tenants' | 'runs' | 'schedules' | 'data' | 'operations'
  readonly auth: RouteAuth
  /** The zod schema that checks the request body (the route parses the body with it). */
  readonly body?: { readonly name: string; readonly schema: z.ZodType }
  readonly query?: readonly QueryParam[]
  /** The success status and what its body is. */
  readonly success: {
    readonly status: number
    readonly description: string
    readonly content?: 'json' | 'text' | 'sqlite' | 'event-stream' | 'prometheus'
  }
}

/** Path prefixes of the tenant routes. */
export const T = '/v1/tenants/{id}'
export const R = `${T}/runs/{runId}`
export const S = `${T}/schedules/{sid}`
