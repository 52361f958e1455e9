import { expect, it } from 'vitest'
import { sqlTextFacts } from './sql-text.js'

const hasTrailingStatements = (sql: string) => sqlTextFacts(sql).hasTrailingStatements

it('finds a second statement, but not a semicolon inside literals, identifiers or comments', () => {
  expect(hasTrailingStatements('SELECT 1; DELETE FROM t')).toBe(true)
  expect(hasTrailingStatements('SELECT 1;')).toBe(false)
  expect(hasTrailingStatements('SELECT 1; -- done\n ; /* and */')).toBe(false)
  expect(hasTrailingStatements("SELECT ';DROP TABLE t' AS x")).toBe(false)
  expect(hasTrailingStatements("SELECT 'it''s; fine'")).toBe(false)
  expect(hasTrailingStatements('SELECT "a;b", [c;d], `e;f` FROM t')).toBe(false)
  expect(hasTrailingStatements('SELECT 1 /* ; */ ; SELECT 2')).toBe(true)
})


it('finds a nameless ? parameter, but not ?NNN, named parameters or a ? inside literals', () => {
  expect(sqlTextFacts('SELECT ?').hasNamelessParameter).toBe(true)
  expect(sqlTextFacts('SELECT ?1, :a, @b, $c').hasNamelessParameter).toBe(false)
  expect(sqlTextFacts("SELECT '?', \"?\" /* ? */ -- ?\n").hasNamelessParameter).toBe(false)
})
