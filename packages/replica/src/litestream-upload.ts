import { type ReplicaPosition, parsePosition } from './replica-position.js'

const UPLOAD = /msg="(wal segment|snapshot) written".*\bposition=(\S+)(?:.*\bsz=(\d+))?/

/** An upload Litestream reports having finished (its PUT was acknowledged). */
export interface LitestreamUpload {
  readonly kind: 'wal' | 'snapshot'
  /** Where the uploaded WAL segment starts (for a snapshot: its index, offset 0). */
  readonly start: ReplicaPosition
  /** Where the replica ends after it, by Litestream's account. */
  readonly end: ReplicaPosition
}

/**
 * What a Litestream 0.3 upload log line reports, or null for any other line. After each
 * WAL segment PUT succeeds it logs (replica.go, syncWAL)
 * `msg="wal segment written" … position=<gen>/<index>:<start> elapsed=… sz=<bytes>`, where
 * `sz` counts the uncompressed WAL bytes it wrote into that object; after a snapshot PUT
 * `msg="snapshot written" … position=<gen>/<index>:<offset>`, which covers everything
 * before that index. Used to know when to look and how long the newest object is; whether
 * an object is in the store is only ever learned from the store's listing.
 */
export function parseUploadLine(line: string): LitestreamUpload | null {
  const match = UPLOAD.exec(line)
  if (!match) return null
  const position = parsePosition(match[2]!)
  if (!position) return null
  if (match[1] === 'snapshot') {
    const at = { ...position, offset: 0 }
    return { kind: 'snapshot', start: at, end: at }
  }
  if (match[3] === undefined) return null
  return {
    kind: 'wal',
    start: position,
    end: { ...position, offset: position.offset + Number(match[3]) },
  }
}
