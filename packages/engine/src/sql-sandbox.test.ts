/**
 * The query sandbox, tried from the inside: every function, module and PRAGMA the query
 * connection itself lists is called or read through `Engine.query`, and only the allow-lists
 * get through. Catches: a function or virtual table added to the build (or to the allow-list)
 * that reaches the host, an authorizer that is missing or too broad, a view that smuggles a
 * forbidden call, and positive cases that a too-strict sandbox would break.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import type { Engine } from './engine.js'
import { ALLOWED_FUNCTIONS, ALLOWED_PRAGMAS, ALLOWED_TABLE_FUNCTIONS } from './sql-sandbox.js'
import { cleanup, openTestEngine, tempDir } from '@litecell/testkit/engine'

afterEach(cleanup)

const app = defineApp({
  migrations: [
    'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, shout TEXT AS (upper(name)))',
    "INSERT INTO items (name) VALUES ('a'), ('b'), ('c')",
    'CREATE VIEW item_names AS SELECT name FROM items',
    'CREATE VIRTUAL TABLE docs USING fts5(body)',
    "INSERT INTO docs (body) VALUES ('hello world'), ('goodbye')",
    'CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1)',
    'INSERT INTO boxes VALUES (1, 0, 10), (2, 20, 30)',
    // Views an app might create whose bodies the sandbox must still refuse at query time.
    "CREATE VIEW leaky AS SELECT readfile('/etc/hostname') AS x",
    "CREATE VIEW listing AS SELECT name FROM fsdir('/')",
    'CREATE VIEW ids AS SELECT uuid() AS id',
  ],
  workflows: {
    noop: async () => 1,
    createLater: async (ctx) =>
      ctx.transaction('create', (tx) => {
        tx.execute('CREATE TABLE later (x)')
        tx.execute('INSERT INTO later VALUES (1)')
      }),
  },
})

async function refusal(engine: Engine, sql: string): Promise<{ code: string; message: string }> {
  try {
    const result = await engine.query(sql)
    throw new Error(`expected a refusal of ${sql}, got ${JSON.stringify(result.rows).slice(0, 200)}`)
  } catch (error) {
    return error as { code: string; message: string }
  }
}

/** A call of `name` with `narg` NULL arguments, as an aggregate window if `type` is `w`. */
function callOf(name: string, narg: number, type: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) return `SELECT NULL ${name} NULL`
  const args = Array.from({ length: narg < 0 ? 1 : narg }, () => 'NULL').join(', ')
  return `SELECT ${name}(${args})${type === 'w' ? ' OVER ()' : ''}`
}

describe('the query sandbox', () => {
  it('lets a query call exactly the allow-listed functions of those the connection lists', async () => {
    const { engine } = await openTestEngine(app)
    const listed = (await engine.query('PRAGMA function_list', [], { maxRows: 10_000 })).rows as {
      name: string
      narg: number
      type: string
    }[]
    const names = new Set(listed.map((f) => f.name))
    // The test means something only while the build ships the dangerous ones.
    for (const name of ['readfile', 'writefile', 'lsmode', 'load_extension', 'fts3_tokenizer'])
      expect(names, name).toContain(name)
    const leaks: string[] = []
    for (const { name, narg, type } of listed) {
      const error = await engine.query(callOf(name, narg, type)).then(
        () => undefined,
        (e: { code: string; message: string }) => e,
      )
      if (ALLOWED_FUNCTIONS.has(name)) {
        if (error?.code === 'QUERY_NOT_ALLOWED') leaks.push(`${name} refused: ${error.message}`)
      } else if (error?.code !== 'QUERY_NOT_ALLOWED' || !error.message.includes(name)) {
        leaks.push(`${name}/${narg} ran or failed otherwise: ${error?.code} ${error?.message}`)
      }
    }
    expect(leaks).toEqual([])
  })

  it('reads no module but json_each and json_tree, in any letter case, with or without columns', async () => {
    const { engine } = await openTestEngine(app)
    const modules = (await engine.query('PRAGMA module_list')).rows.map((row) => String(row.name))
    for (const name of ['fsdir', 'sqlite_dbpage', 'dbstat', 'sqlite_stmt', 'generate_series'])
      expect(modules).toContain(name)
    const leaks: string[] = []
    // pragma_<name> modules appear once used; the allowed ones are tested below.
    const readable = (m: string) =>
      ALLOWED_TABLE_FUNCTIONS.has(m) || (m.startsWith('pragma_') && ALLOWED_PRAGMAS.has(m.slice(7)))
    for (const name of modules.filter((m) => !readable(m))) {
      for (const sql of [
        `SELECT * FROM ${name}`,
        `SELECT count(*) FROM ${name}`,
        `SELECT count(*) FROM ${name.toUpperCase()}`,
        `SELECT 1 FROM items, ${name} LIMIT 1`,
      ]) {
        const error = await refusal(engine, sql).catch((e: Error) => ({ code: 'RAN', message: e.message }))
        // Modules without an eponymous table (fts5, rtree…) fail as SQL errors instead.
        const refused =
          (error.code === 'QUERY_NOT_ALLOWED' && error.message.includes('not allowed')) ||
          (error.code === 'QUERY_FAILED' && /no such table|constructor/.test(error.message))
        if (!refused) leaks.push(`${sql}: ${error.code} ${error.message}`)
      }
    }
    expect(leaks).toEqual([])
  })

  it('runs only the allow-listed PRAGMAs, as statements and as pragma_ functions', async () => {
    const { engine } = await openTestEngine(app)
    const pragmas = (await engine.query('PRAGMA pragma_list')).rows.map((row) => String(row.name))
    const leaks: string[] = []
    for (const name of pragmas.filter((p) => !ALLOWED_PRAGMAS.has(p))) {
      const statement = await refusal(engine, `PRAGMA ${name}`).catch((e: Error) => ({ code: 'RAN', message: e.message }))
      if (statement.code !== 'QUERY_NOT_READ_ONLY' || !statement.message.includes(name))
        leaks.push(`PRAGMA ${name}: ${statement.code} ${statement.message}`)
      const tableFunction = await refusal(engine, `SELECT * FROM pragma_${name}`).catch((e: Error) => ({
        code: 'RAN',
        message: e.message,
      }))
      if (!['QUERY_NOT_ALLOWED', 'QUERY_FAILED'].includes(tableFunction.code))
        leaks.push(`pragma_${name}: ${tableFunction.code} ${tableFunction.message}`)
    }
    expect(leaks).toEqual([])
  })

  it('refuses file and process functions by name and writes no file', async () => {
    const { engine } = await openTestEngine(app)
    const target = join(tempDir(), 'written-by-a-query')
    for (const [sql, name] of [
      ["SELECT length(readfile('/etc/hostname'))", 'readfile'],
      [`SELECT writefile('${target}', 'x')`, 'writefile'],
      ['SELECT lsmode(33188)', 'lsmode'],
      ["SELECT load_extension('/tmp/x.so')", 'load_extension'],
      ["SELECT sqlite3mc_config('cipher')", 'sqlite3mc_config'],
      ["SELECT sha3_query('SELECT 1')", 'sha3_query'],
      ["SELECT fts3_tokenizer('simple')", 'fts3_tokenizer'],
      ["SELECT sqlite_log(1, 'x')", 'sqlite_log'],
      ["SELECT name FROM fsdir('/')", 'fsdir'],
      ['SELECT count(*) FROM sqlite_dbpage', 'sqlite_dbpage'],
    ]) {
      expect(await refusal(engine, sql!), sql).toMatchObject({
        code: 'QUERY_NOT_ALLOWED',
        message: expect.stringContaining(name!),
      })
    }
    // `edit` exists only in the sqlite3 shell: not a function here at all.
    expect(await refusal(engine, "SELECT edit('x', 'true')")).toMatchObject({
      code: 'QUERY_FAILED',
      message: expect.stringContaining('no such function: edit'),
    })
    expect(existsSync(target)).toBe(false)
  })

  it('refuses a view whose body calls a forbidden function or reads a forbidden table', async () => {
    const { engine } = await openTestEngine(app)
    for (const [view, name] of [
      ['leaky', 'readfile'],
      ['listing', 'fsdir'],
      ['ids', 'uuid'],
    ]) {
      expect(await refusal(engine, `SELECT * FROM ${view}`)).toMatchObject({
        code: 'QUERY_NOT_ALLOWED',
        message: expect.stringContaining(name!),
      })
    }
  })

  it('refuses writes, transactions, ATTACH and DETACH as not read-only', async () => {
    const { engine } = await openTestEngine(app)
    for (const sql of [
      'UPDATE items SET name = 1',
      'DELETE FROM boxes_node RETURNING *',
      'CREATE TEMP TABLE t (x)',
      'BEGIN IMMEDIATE',
      'SAVEPOINT s',
      'COMMIT',
      "ATTACH 'file:x?mode=memory' AS x",
      'DETACH main',
      'PRAGMA journal_mode = DELETE',
      'PRAGMA query_only = OFF',
    ]) {
      expect((await refusal(engine, sql)).code, sql).toBe('QUERY_NOT_READ_ONLY')
    }
    expect((await engine.query('SELECT count(*) AS n FROM items')).rows).toEqual([{ n: 3 }])
  })

  it("still answers ordinary reads of the app's and the engine's tables", async () => {
    const { engine } = await openTestEngine(app)
    await engine.start('noop')
    await engine.idle()
    const one = async (sql: string) => (await engine.query(sql)).rows[0]
    expect(await one('SELECT count(*) AS n, max(name) AS top FROM items')).toEqual({ n: 3, top: 'c' })
    expect(await one('SELECT COUNT(*) AS n FROM ITEMS')).toEqual({ n: 3 })
    expect(await one('SELECT group_concat(shout) AS s FROM item_names JOIN items USING (name)')).toEqual({
      s: 'A,B,C',
    })
    expect(await one("SELECT status FROM lc_runs WHERE workflow = 'noop'")).toEqual({ status: 'succeeded' })
    expect(await one("SELECT sum(value) AS s FROM json_each('[1, 2, 3]')")).toEqual({ s: 6 })
    expect(await one(`SELECT count(*) AS n FROM json_tree('{"a": [1, 2]}')`)).toEqual({ n: 4 })
    expect(await one("SELECT date('2026-01-31', '+1 day') AS d, unixepoch('1970-01-02') AS s")).toEqual({
      d: '2026-02-01',
      s: 86_400,
    })
    expect(
      (await engine.query('SELECT name, row_number() OVER (ORDER BY name DESC) AS r, lag(name) OVER (ORDER BY name) AS prev FROM items ORDER BY name')).rows,
    ).toEqual([
      { name: 'a', r: 3, prev: null },
      { name: 'b', r: 2, prev: 'a' },
      { name: 'c', r: 1, prev: 'b' },
    ])
    expect(await one("SELECT count(*) AS n FROM pragma_table_xinfo('items')")).toEqual({ n: 3 })
    expect((await engine.query('PRAGMA table_info(items)')).rows).toHaveLength(2)
    expect(await one("SELECT '{\"a\": 2}' ->> '$.a' AS a, round(pi(), 2) AS p, sqrt(16) AS r")).toEqual({
      a: 2,
      p: 3.14,
      r: 4,
    })
    expect(await one('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT count(*) AS c FROM n')).toEqual({ c: 10 })
    expect(await one("SELECT body, snippet(docs, 0, '[', ']', '', 3) AS s FROM docs WHERE docs MATCH 'hello' ORDER BY bm25(docs)")).toEqual({
      body: 'hello world',
      s: '[hello] world',
    })
    expect(await one('SELECT id FROM boxes WHERE x0 >= 15')).toEqual({ id: 2 })
    expect(await one("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'")).toMatchObject({
      n: expect.any(Number),
    })
  })

  it('sees a table the app creates while the query thread runs', async () => {
    const { engine } = await openTestEngine(app)
    expect((await refusal(engine, 'SELECT * FROM later')).code).toBe('QUERY_FAILED')
    await engine.start('createLater')
    await engine.idle()
    expect((await engine.query('SELECT count(*) AS n FROM later')).rows).toEqual([{ n: 1 }])
  })
})
