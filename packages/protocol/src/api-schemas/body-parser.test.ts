import { expect, test } from 'vitest'
import { CreateTenantBody, ForkTenantBody } from './tenant-bodies.js'
import { parseBody } from './body-parser.js'
import { StartRunsBody } from './run-bodies.js'

test('a body that fails its schema is BAD_REQUEST naming the field by its path and quoting the value once', () => {
  expect(() => parseBody(StartRunsBody, { runs: [{ workflow: 'a' }, { workflow: 7 }] })).toThrow(
    expect.objectContaining({
      code: 'BAD_REQUEST',
      message:
        'Expected `runs[1].workflow` to be a non-empty string of at most 256 characters, got `7` (number)',
    }),
  )
  expect(() => parseBody(CreateTenantBody, { labels: { team: 7 } })).toThrow(
    'Expected `labels.team` to be a string of at most 256 characters, got `7` (number)',
  )
  expect(() => parseBody(StartRunsBody, {})).toThrow(
    'Expected `runs` to be an array of 1 to 10000 runs, got `undefined` (undefined)',
  )
})

// Catches: a bad label key answered with the record's expectation and the label's value
// ("Expected `labels.bad key!` to be an object of at most 32 string labels, got `x`").
test('a bad key of a record names the key and the key expectation', () => {
  expect(() => parseBody(CreateTenantBody, { labels: { 'bad key!': 'x' } })).toThrow(
    expect.objectContaining({
      code: 'BAD_REQUEST',
      message:
        'Expected each key of `labels` to be a label key of letters, digits, `.`, `_`, `/`, `-` (1–63), got `bad key!` (string)',
    }),
  )
})

test('a bad tenant id in a body keeps its own code, INVALID_TENANT_ID', () => {
  expect(() => parseBody(ForkTenantBody, { id: 'Bad_Id' })).toThrow(
    expect.objectContaining({
      code: 'INVALID_TENANT_ID',
      message: expect.stringMatching(
        /^Expected `id` to be a tenant id of lowercase letters.*, got `Bad_Id` \(string\)$/,
      ),
    }),
  )
})

test('a valid body is returned as parsed, unknown fields dropped', () => {
  expect(parseBody(ForkTenantBody, { id: 'acme-2', at: '2026-11-23T09:00:00Z', extra: 1 })).toEqual(
    {
      id: 'acme-2',
      at: '2026-11-23T09:00:00Z',
    },
  )
})
