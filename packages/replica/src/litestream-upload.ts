import { type ReplicaPosition, parsePosition } from './replica-position.js'

const UPLOAD = /msg="(wal segment|snapshot) written".*\bposition=(\S+)(?:.*\bsz=(\d+))?/

/**
 * What a Litestream 0.3 upload log line claims is now in the replica, or null for any other
 * line. After each successful WAL segment PUT it logs (replica.go, syncWAL)
 * `msg="wal segment written" … position=<gen>/<index>:<start> elapsed=… sz=<bytes>`, where
 * `sz` counts uncompressed WAL bytes, so the claim ends at `start + sz`; after a snapshot
 * `msg="snapshot written" … position=<gen>/<index>:<offset>`, which covers everything
 * before that index. A claim is only a hint of when to look: confirmation always comes from
 * the store's own listing.
 */
export function parseUploadLine(line: string): ReplicaPosition | null {
  const match = UPLOAD.exec(line)
  if (!match) return null
  const position = parsePosition(match[2]!)
  if (!position) return null
  if (match[1] === 'snapshot') return { ...position, offset: 0 }
  return match[3] === undefined ? position : { ...position, offset: position.offset + Number(match[3]) }
}
