import { describe, expect, it } from 'vitest'
import { formatIsoMs } from './run-view.js'

describe('formatIsoMs', () => {
  it('formats like Date#toISOString', () => {
    const samples = [
      0,
      1,
      999,
      86_399_999,
      86_400_000,
      Date.UTC(2026, 10, 26, 7, 5, 9, 42),
      1_795_674_446_263,
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
    ]
    for (let i = 0; i < 1_000; i++) samples.push(Math.floor(Math.random() * 4_102_444_800_000))
    for (const ms of samples) expect(formatIsoMs(ms)).toBe(new Date(ms).toISOString())
  })
})
