/**
 * A place in Litestream's replicated WAL stream (Litestream 0.3's `Pos`): the generation,
 * the shadow WAL index inside it (one index per lifetime of the real WAL between two
 * restarts) and a byte offset into that shadow WAL, which is byte for byte the real WAL of
 * that lifetime. Positions of one generation are totally ordered; positions of two
 * generations are not comparable.
 */
export interface ReplicaPosition {
  /** 16 lowercase hex digits. */
  readonly generation: string
  /** Shadow WAL index. */
  readonly index: number
  /** Byte offset in the shadow WAL of that index (0 = before its header). */
  readonly offset: number
}

const POSITION = /^([0-9a-f]{16})\/([0-9a-f]{8})(?::(\d+))?$/

/**
 * Compare two positions of the same generation: negative if `a` comes first, 0 if equal.
 * Positions of different generations are unordered: `NaN`.
 */
export function comparePositions(a: ReplicaPosition, b: ReplicaPosition): number {
  if (a.generation !== b.generation) return Number.NaN
  return a.index !== b.index ? a.index - b.index : a.offset - b.offset
}

/** Whether `held` is at or past `target` in the same generation. */
export function isCovered(target: ReplicaPosition, held: ReplicaPosition | null): boolean {
  return held !== null && comparePositions(target, held) <= 0
}

/** The later of two positions of one generation (`b` when they are unordered). */
export function laterPosition(a: ReplicaPosition | null, b: ReplicaPosition): ReplicaPosition {
  return a && comparePositions(a, b) > 0 ? a : b
}

/** Litestream's own spelling: `<generation>/<index as 8 hex digits>:<offset>`. */
export function formatPosition(position: ReplicaPosition): string {
  return `${position.generation}/${position.index.toString(16).padStart(8, '0')}:${position.offset}`
}

/** Parse {@link formatPosition}'s spelling (offset optional, as in Litestream's logs); null if malformed. */
export function parsePosition(text: string): ReplicaPosition | null {
  const match = POSITION.exec(text)
  if (!match) return null
  return {
    generation: match[1]!,
    index: Number.parseInt(match[2]!, 16),
    offset: match[3] === undefined ? 0 : Number(match[3]),
  }
}
