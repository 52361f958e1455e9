import { expect, it } from 'vitest'
import { hasTrailingStatements, leadingKeyword, pragmaName } from './sql-statement.js'

it('finds a second statement, but not a semicolon inside literals, identifiers or comments', () => {
  expect(hasTrailingStatements('SELECT 1; DELETE FROM t')).toBe(true)
  expect(hasTrailingStatements('SELECT 1;')).toBe(false)
  expect(hasTrailingStatements('SELECT 1; -- done\n ; /* and */')).toBe(false)
  expect(hasTrailingStatements("SELECT ';DROP TABLE t' AS x")).toBe(false)
  expect(hasTrailingStatements("SELECT 'it''s; fine'")).toBe(false)
  expect(hasTrailingStatements('SELECT "a;b", [c;d], `e;f` FROM t')).toBe(false)
  expect(hasTrailingStatements('SELECT 1 /* ; */ ; SELECT 2')).toBe(true)
})

it('reads the leading keyword and the pragma name past comments and schema prefixes', () => {
  expect(leadingKeyword('  -- hi\n /* x */ PRAGMA main.wal_checkpoint(TRUNCATE)')).toBe('pragma')
  expect(pragmaName('PRAGMA main.wal_checkpoint(TRUNCATE)')).toBe('wal_checkpoint')
  expect(pragmaName('pragma table_info(items)')).toBe('table_info')
  expect(leadingKeyword('WITH x AS (SELECT 1) SELECT * FROM x')).toBe('with')
})
