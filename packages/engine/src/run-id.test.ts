import { describe, expect, it } from 'vitest'
import { newRunId } from './run-id.js'

describe('newRunId', () => {
  it('makes UUIDv7 ids that sort by creation time', () => {
    const earlier = newRunId(1_000)
    const later = newRunId(2_000)
    expect(earlier).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(earlier < later).toBe(true)
    expect(newRunId(1_000)).not.toBe(earlier)
  })
})
