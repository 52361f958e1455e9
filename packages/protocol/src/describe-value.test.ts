import { expect, test } from 'vitest'
import { describeValue } from './describe-value.js'

test('a string is quoted once, by the backticks, and named a string (issue 15 item 7)', () => {
  expect(describeValue('shopp')).toBe('`shopp` (string)')
  expect(describeValue('5')).toBe('`5` (string)')
})

test('other values are shown as JSON with their type; long ones are cut', () => {
  expect(describeValue(0)).toBe('`0` (number)')
  expect(describeValue(null)).toBe('`null` (null)')
  expect(describeValue([1])).toBe('`[1]` (array)')
  expect(describeValue({ a: 'b' })).toBe('`{"a":"b"}` (object)')
  expect(describeValue(undefined)).toBe('`undefined` (undefined)')
  expect(describeValue('x'.repeat(100))).toBe(`\`${'x'.repeat(77)}...\` (string)`)
})
