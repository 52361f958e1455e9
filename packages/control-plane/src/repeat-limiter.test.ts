import { expect, test } from 'vitest'
import { RepeatLimiter } from './repeat-limiter.js'

test('identical lines are written once per window, then with the count of those dropped', () => {
  let now = 0
  const limiter = new RepeatLimiter({ windowMs: 1_000, clock: () => now })
  expect(limiter.admit('a')).toBe(0)
  expect(limiter.admit('a')).toBeNull()
  expect(limiter.admit('b')).toBe(0)
  now = 999
  expect(limiter.admit('a')).toBeNull()
  now = 1_000
  expect(limiter.admit('a')).toBe(2)
  expect(limiter.admit('a')).toBeNull()
})

test('it remembers at most maxKeys lines, forgetting the oldest', () => {
  const limiter = new RepeatLimiter({ windowMs: 60_000, maxKeys: 2, clock: () => 0 })
  limiter.admit('a')
  limiter.admit('b')
  limiter.admit('c')
  expect(limiter.admit('a')).toBe(0)
  expect(limiter.admit('c')).toBeNull()
})
