import { timingSafeEqual } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { bearerToken, hashSecret, requestHeader } from '@litecell/protocol'
import { ControlPlaneError } from './control-plane-error.js'
import type { Registry } from './registry.js'

/** Who is calling: the admin, or the holder of one tenant's token. */
export type Caller = { kind: 'admin' } | { kind: 'tenant'; tenantId: string }

/**
 * Bearer-token authentication. Tokens are stored as SHA-256 hashes only; the admin hash is
 * compared in constant time, and a tenant token is found by its hash (an index lookup, so
 * no per-tenant comparison loop leaks timing either).
 */
export class Auth {
  readonly #adminHash: Buffer
  readonly #registry: Registry

  constructor(options: { adminTokenHash: string; registry: Registry }) {
    this.#adminHash = Buffer.from(options.adminTokenHash, 'hex')
    this.#registry = options.registry
  }

  /** The caller a request's `Authorization` header proves, or null. */
  callerOf(authorization: string | undefined): Caller | null {
    const token = bearerToken(authorization)
    if (!token) return null
    const hash = hashSecret(token)
    const presented = Buffer.from(hash, 'hex')
    if (presented.length === this.#adminHash.length && timingSafeEqual(presented, this.#adminHash)) {
      return { kind: 'admin' }
    }
    const tenantId = this.#registry.tenantIdByTokenHash(hash)
    return tenantId === null ? null : { kind: 'tenant', tenantId }
  }

  /** Middleware: admin token only (401 without a valid token, 403 with a tenant's). */
  requireAdmin(): MiddlewareHandler {
    const auth = this
    return async function requireAdmin(context, next) {
      const caller = auth.#callerOrThrow(context)
      if (caller.kind !== 'admin') throw new ControlPlaneError('FORBIDDEN', 'this route needs the admin token')
      await next()
    }
  }

  /** Middleware: the admin, or the token of the tenant named by the `:id` route parameter. */
  requireTenant(): MiddlewareHandler {
    const auth = this
    return async function requireTenant(context, next) {
      const caller = auth.#callerOrThrow(context)
      if (caller.kind === 'tenant' && caller.tenantId !== context.req.param('id')) {
        throw new ControlPlaneError('FORBIDDEN', 'this token belongs to another tenant')
      }
      await next()
    }
  }

  #callerOrThrow(context: Context): Caller {
    const caller = this.callerOf(requestHeader(context, 'authorization'))
    if (!caller) throw new ControlPlaneError('UNAUTHENTICATED', 'missing or invalid bearer token')
    return caller
  }
}
