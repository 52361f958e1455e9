import { expect, it } from 'vitest'
import { hasTrailingStatements } from './sql-statement.js'

it('finds a second statement, but not a semicolon inside literals, identifiers or comments', () => {
  expect(hasTrailingStatements('SELECT 1; DELETE FROM t')).toBe(true)
  expect(hasTrailingStatements('SELECT 1;')).toBe(false)
  expect(hasTrailingStatements('SELECT 1; -- done\n ; /* and */')).toBe(false)
  expect(hasTrailingStatements("SELECT ';DROP TABLE t' AS x")).toBe(false)
  expect(hasTrailingStatements("SELECT 'it''s; fine'")).toBe(false)
  expect(hasTrailingStatements('SELECT "a;b", [c;d], `e;f` FROM t')).toBe(false)
  expect(hasTrailingStatements('SELECT 1 /* ; */ ; SELECT 2')).toBe(true)
})

