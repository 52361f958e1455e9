import { describe, expect, it } from 'vitest'
import { toMs } from './duration.js'

describe('toMs', () => {
  it('accepts milliseconds and ms strings', () => {
    expect(toMs(250, 'd')).toBe(250)
    expect(toMs('10m', 'd')).toBe(600_000)
    expect(toMs('2 hours', 'd')).toBe(7_200_000)
  })

  it('refuses negative, non-finite and unparseable durations with INVALID_INPUT', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, 'soon', '']) {
      expect(() => toMs(bad, 'duration')).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT' }),
      )
    }
  })
})
