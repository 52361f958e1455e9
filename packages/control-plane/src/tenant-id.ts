import { randomBytes } from 'node:crypto'

/** A fresh tenant id, for creation without one (a slug, like every tenant id). */
export function newTenantId(): string {
  return `t-${randomBytes(6).toString('hex')}`
}
