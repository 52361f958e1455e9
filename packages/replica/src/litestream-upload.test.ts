import { describe, expect, it } from 'vitest'
import { parseUploadLine } from './litestream-upload.js'
import { comparePositions, formatPosition, parsePosition } from './replica-position.js'

// Lines as Litestream v0.3.13 writes them (copied from a real run).
const WAL_LINE =
  'time=2026-12-01T22:50:04.839Z level=INFO msg="wal segment written" db=/tmp/x/tenant.db replica=s3 position=aa69a7f8a57b5f12/00000000:28872 elapsed=7.580119ms sz=4120'
const SNAPSHOT_LINE =
  'time=2026-12-01T22:50:04.818Z level=INFO msg="snapshot written" db=/tmp/x/tenant.db replica=s3 position=aa69a7f8a57b5f12/00000003:28872 elapsed=31.667344ms sz=490'

describe('Litestream upload lines and positions', () => {
  it('reads a WAL segment upload as a claim ending at start + uncompressed size', () => {
    const start = { generation: 'aa69a7f8a57b5f12', index: 0, offset: 28872 }
    expect(parseUploadLine(WAL_LINE)).toEqual({
      kind: 'wal',
      start,
      end: { ...start, offset: 28872 + 4120 },
    })
  })

  it('reads a snapshot as covering everything before its index', () => {
    const at = { generation: 'aa69a7f8a57b5f12', index: 3, offset: 0 }
    expect(parseUploadLine(SNAPSHOT_LINE)).toEqual({ kind: 'snapshot', start: at, end: at })
  })

  it('ignores every other line, including the announcement before an upload', () => {
    expect(parseUploadLine(WAL_LINE.replace('wal segment written', 'write wal segment'))).toBeNull()
    expect(
      parseUploadLine('time=… level=ERROR msg="monitor error" error="connection refused"'),
    ).toBeNull()
    expect(parseUploadLine('[litecell] final sync confirmed')).toBeNull()
  })

  it('orders positions within a generation and leaves generations unordered', () => {
    const a = parsePosition('aa69a7f8a57b5f12/00000001:100')!
    expect(formatPosition(a)).toBe('aa69a7f8a57b5f12/00000001:100')
    expect(comparePositions(a, { ...a, offset: 101 })).toBeLessThan(0)
    expect(comparePositions(a, { ...a, index: 2, offset: 0 })).toBeLessThan(0)
    expect(comparePositions(a, a)).toBe(0)
    expect(comparePositions(a, { ...a, generation: 'bb69a7f8a57b5f12' })).toBeNaN()
    expect(parsePosition('nope')).toBeNull()
  })
})
