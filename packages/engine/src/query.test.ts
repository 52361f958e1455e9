import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import { cleanup, openTestEngine } from '@litecell/testkit/engine'

afterEach(cleanup)

const app = defineApp({
  migrations: [
    'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, data BLOB)',
    "INSERT INTO items (name) VALUES ('a'), ('b'), ('c')",
  ],
  workflows: {},
})

describe('Engine.query', () => {
  it('returns columns and rows with positional and named arguments', async () => {
    const { engine } = await openTestEngine(app)
    expect(await engine.query('SELECT id, name FROM items WHERE id > ? ORDER BY id', [1])).toEqual({
      columns: ['id', 'name'],
      rows: [
        { id: 2, name: 'b' },
        { id: 3, name: 'c' },
      ],
      truncated: false,
    })
    expect(
      (await engine.query('SELECT name FROM items WHERE name = :name', { name: 'c' })).rows,
    ).toEqual([{ name: 'c' }])
  })

  it('refuses writes, transactions, attach and pragma changes with QUERY_NOT_READ_ONLY', async () => {
    const { engine } = await openTestEngine(app)
    for (const sql of [
      "INSERT INTO items (name) VALUES ('x')",
      "INSERT INTO items (name) VALUES ('x') RETURNING id",
      'DELETE FROM items',
      'DROP TABLE items',
      'CREATE TABLE evil (x)',
      'BEGIN',
      "ATTACH DATABASE '/tmp/evil.db' AS evil",
      'PRAGMA query_only=OFF',
      'VACUUM',
    ]) {
      await expect(engine.query(sql), sql).rejects.toMatchObject({ code: 'QUERY_NOT_READ_ONLY' })
    }
    expect((await engine.query('SELECT count(*) AS n FROM items')).rows).toEqual([{ n: 3 }])
  })

  it('reports SQL errors as QUERY_FAILED and bad arguments as INVALID_INPUT', async () => {
    const { engine } = await openTestEngine(app)
    await expect(engine.query('SELECT * FROM nope')).rejects.toMatchObject({ code: 'QUERY_FAILED' })
    await expect(engine.query('SELEC 1')).rejects.toMatchObject({ code: 'QUERY_FAILED' })
    await expect(engine.query('SELECT ?', [{ a: 1 }])).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
    await expect(engine.query('')).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    await expect(engine.query('SELECT 1', [], { maxRows: 0 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
  })

  it('caps rows at maxRows and says so', async () => {
    const { engine } = await openTestEngine(app)
    const result = await engine.query(
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 5000) SELECT i FROM n',
    )
    expect(result.rows).toHaveLength(1000)
    expect(result.truncated).toBe(true)
    expect((await engine.query('SELECT id FROM items', [], { maxRows: 2 })).rows).toHaveLength(2)
  })

  it('sees commits made after an earlier truncated query', async () => {
    const { engine } = await openTestEngine(defineApp({ workflows: { w: async () => 1 } }))
    await engine.start('w')
    await engine.idle()
    await engine.query('SELECT * FROM lc_runs', [], { maxRows: 1 })
    await engine.start('w')
    await engine.idle()
    expect((await engine.query('SELECT count(*) AS n FROM lc_runs')).rows).toEqual([{ n: 2 }])
  })

  it('refuses a second statement instead of silently dropping it', async () => {
    const { engine } = await openTestEngine(app)
    await expect(engine.query('SELECT 1; DELETE FROM items')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
    expect((await engine.query('SELECT count(*) AS n FROM items')).rows).toEqual([{ n: 3 }])
    expect((await engine.query("SELECT ';' AS semicolon;")).rows).toEqual([{ semicolon: ';' }])
  })

  it('refuses PRAGMAs that act, such as a checkpoint (Litestream owns checkpoints)', async () => {
    const { engine } = await openTestEngine(app)
    for (const sql of [
      'PRAGMA wal_checkpoint',
      'PRAGMA main.wal_checkpoint(TRUNCATE)',
      'PRAGMA optimize',
    ]) {
      await expect(engine.query(sql)).rejects.toMatchObject({ code: 'QUERY_NOT_READ_ONLY' })
    }
    expect((await engine.query('PRAGMA table_info(items)')).rows.map((row) => row.name)).toEqual([
      'id',
      'name',
      'data',
    ])
  })
})

describe('Engine.query result size', () => {
  it('refuses a first row over 16 MiB with QUERY_TOO_LARGE and cuts later rows past it, the engine unharmed', async () => {
    const { engine } = await openTestEngine(app)
    for (const sql of ['SELECT zeroblob(400000000) AS z', "SELECT printf('%.*c', 20000000, 'x') AS s"]) {
      await expect(engine.query(sql)).rejects.toMatchObject({
        code: 'QUERY_TOO_LARGE',
        message: expect.stringContaining('16 MiB'),
      })
    }
    // 1 MB blobs, 1.33 MB each as base64: twelve fit in 16 MiB.
    const cut = await engine.query(
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30) SELECT i, randomblob(1000000) AS b FROM n',
    )
    expect(cut.truncated).toBe(true)
    expect(cut.rows).toHaveLength(12)
    expect(Buffer.from(cut.rows[0]!.b as string, 'base64')).toHaveLength(1_000_000)
    expect(await engine.query('SELECT length(zeroblob(400000000)) AS n')).toMatchObject({ rows: [{ n: 400000000 }], truncated: false })
  })
})

describe('Engine.query time limit', () => {
  const runaway = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c'

  it('stops a runaway statement inside SQLite with QUERY_TIMEOUT while the event loop keeps turning', async () => {
    const { engine } = await openTestEngine(app, { queryTimeoutMs: 300 })
    await engine.query('SELECT 1') // the thread is up: what follows times only the statement
    let ticks = 0
    const ticker = setInterval(() => (ticks += 1), 10)
    const started = performance.now()
    try {
      await expect(engine.query(runaway)).rejects.toMatchObject({
        code: 'QUERY_TIMEOUT',
        message: expect.stringContaining('300 ms'),
      })
    } finally {
      clearInterval(ticker)
    }
    const elapsedMs = performance.now() - started
    // Lower bound: it ran until the limit. A blocked event loop would show no tick at all;
    // 5 of the ~30 possible tolerates a loaded machine.
    expect(elapsedMs).toBeGreaterThanOrEqual(250)
    expect(ticks).toBeGreaterThanOrEqual(5)
    expect((await engine.query('SELECT count(*) AS n FROM items')).rows).toEqual([{ n: 3 }])
  })

  it('rejects a bad queryTimeoutMs at open', async () => {
    await expect(openTestEngine(app, { queryTimeoutMs: 0 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('queryTimeoutMs'),
    })
  })

  it('fails a query still running when the engine closes with ENGINE_CLOSED, promptly', async () => {
    const { engine } = await openTestEngine(app, { queryTimeoutMs: 60_000 })
    await engine.query('SELECT 1') // the thread is up, so the runaway really runs in SQLite
    const outcome = engine.query(runaway).catch((error: unknown) => error)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const started = performance.now()
    await engine.close()
    expect(await outcome).toMatchObject({ code: 'ENGINE_CLOSED' })
    // Generous for a loaded machine, far below the 60 s the statement may still compute on
    // its thread: close does not wait for it.
    expect(performance.now() - started).toBeLessThan(10_000)
  })
})
