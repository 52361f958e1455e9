import { describe, expect, it } from 'vitest'
import { type ShadowState, locateCommit } from './shadow-wal.js'

// The placement rules on their own (the real shadow WAL is exercised by the
// position-watcher tests): a wrong rule confirms a commit that S3 does not hold.
const G = '0123456789abcdef'
const state: ShadowState = {
  generation: G,
  indexes: [
    { index: 4, salt: 'aaaaaaaaaaaaaaaa' },
    { index: 5, salt: 'bbbbbbbbbbbbbbbb' },
  ],
}
const commit = (salt: string, offset = 8272) => ({ salt, offset, pageSize: 4096 })

describe('locateCommit', () => {
  it('places a commit of a shadowed WAL lifetime at the same offset of that index', () => {
    expect(locateCommit(state, 'bbbbbbbbbbbbbbbb', commit('aaaaaaaaaaaaaaaa'))).toEqual({
      generation: G,
      index: 4,
      offset: 8272,
    })
    expect(locateCommit(state, 'bbbbbbbbbbbbbbbb', commit('bbbbbbbbbbbbbbbb'))).toEqual({
      generation: G,
      index: 5,
      offset: 8272,
    })
  })

  it('places a commit of an ended, unshadowed lifetime at the oldest kept index (it is in the database file)', () => {
    expect(locateCommit(state, 'bbbbbbbbbbbbbbbb', commit('cccccccccccccccc'))).toEqual({
      generation: G,
      index: 4,
      offset: 0,
    })
  })

  it('waits while the commit is in the current lifetime that Litestream has not shadowed yet', () => {
    expect(locateCommit(state, 'cccccccccccccccc', commit('cccccccccccccccc'))).toBeNull()
  })

  it('waits while Litestream lags behind the current lifetime (a new generation may follow)', () => {
    expect(locateCommit(state, 'dddddddddddddddd', commit('cccccccccccccccc'))).toBeNull()
    expect(locateCommit(state, null, commit('cccccccccccccccc'))).toBeNull()
  })

  it('waits before Litestream has a generation', () => {
    expect(locateCommit(null, 'aaaaaaaaaaaaaaaa', commit('aaaaaaaaaaaaaaaa'))).toBeNull()
  })
})
