import { describe, expect, it } from 'vitest'
import { fromJsonText, toJsonText, toNullableJsonText } from './json.js'

describe('toJsonText', () => {
  it('accepts JSON values and drops undefined properties', () => {
    expect(toJsonText({ a: [1, 'x', null, true], b: undefined, c: { d: 1.5 } }, 'input')).toBe(
      '{"a":[1,"x",null,true],"c":{"d":1.5}}',
    )
    expect(toJsonText(Object.create(null) as object, 'input')).toBe('{}')
  })

  it('refuses values that do not round-trip, quoting the value, type and path', () => {
    expect(() => toJsonText({ at: new Date(0) }, 'input')).toThrow(/\(Date\) at \$\.at/)
    expect(() => toJsonText([1, Number.POSITIVE_INFINITY], 'input')).toThrow(
      /`Infinity` \(number\) at \$\[1\]/,
    )
    expect(() => toJsonText([undefined], 'input')).toThrow(/\(undefined\)/)
    expect(() => toJsonText(10n, 'input')).toThrow(/\(bigint\)/)
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(() => toJsonText(cycle, 'input')).toThrow(/circular/)
  })

  it('uses the given error code', () => {
    expect(() => toJsonText(new Map(), 'result', 'NOT_SERIALIZABLE')).toThrow(
      expect.objectContaining({ code: 'NOT_SERIALIZABLE' }),
    )
  })

  it('maps undefined to SQL NULL and back', () => {
    expect(toNullableJsonText(undefined, 'x')).toBeNull()
    expect(fromJsonText(null)).toBeUndefined()
    expect(fromJsonText('null')).toBeNull()
  })
})
