import { expect, test } from 'vitest'
import { parseBody } from './api-schemas/body-parser.js'
import { StartRunsBody } from './api-schemas/run-bodies.js'

/** A batch whose third run asks for `durability` (the schema checks it as every body's). */
const parseDurability = (durability: unknown, _field?: string) => {
  const runs = [{ workflow: 'a' }, { workflow: 'a' }, { workflow: 'a', durability }]
  return parseBody(StartRunsBody, { runs }).runs[2]!.durability
}

test('durability is local or replicated; anything else is BAD_REQUEST quoting value and type', () => {
  expect(parseDurability(undefined)).toBeUndefined()
  expect(parseDurability('local')).toBe('local')
  expect(parseDurability('replicated')).toBe('replicated')
  for (const [value, shown] of [
    ['REPLICATED', '`REPLICATED` (string)'],
    ['', 'an empty string'],
    [true, '`true` (boolean)'],
    [null, '`null` (null)'],
    [['local'], '`["local"]` (array)'],
  ] as const) {
    expect(() => parseDurability(value, 'runs[2].durability')).toThrow(
      expect.objectContaining({
        code: 'BAD_REQUEST',
        message: `Expected \`runs[2].durability\` to be one of local, replicated, got ${shown}`,
      }),
    )
  }
})
