import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** A new random secret or token, URL-safe: `prefix` then 32 characters. */
export function newSecret(prefix = ''): string {
  return `${prefix}${randomBytes(24).toString('base64url')}`
}

/** SHA-256 of a secret, hex: what gets stored instead of the secret itself. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

/** Compares a presented secret with a stored hash in constant time. */
export function matchesHash(presented: string | undefined, storedHash: string): boolean {
  if (presented === undefined) return false
  const a = Buffer.from(hashSecret(presented), 'hex')
  const b = Buffer.from(storedHash, 'hex')
  return a.length === b.length && timingSafeEqual(a, b)
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1]
}
