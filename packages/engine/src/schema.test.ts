import Libsql from 'libsql'
import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import { cleanup, openTestEngine, reopen } from '@litecell/testkit/engine'

afterEach(cleanup)

const app = defineApp({ workflows: { w: async () => 'ok' } })

/** The `lc_` tables' columns and the `lc_` indexes with their SQL, as SQLite reports them. */
function shape(path: string): { columns: string[]; indexes: string[] } {
  const db = new Libsql(path, { readonly: true })
  try {
    const tables = (
      db
        .prepare(
          "SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'lc\\_%' ESCAPE '\\' ORDER BY name",
        )
        .all() as { name: string }[]
    ).map((row) => row.name)
    const columns = tables.flatMap((table) =>
      (
        db
          .prepare(`SELECT name, type, "notnull", dflt_value FROM pragma_table_info(?)`)
          .all(table) as {
          name: string
          type: string
          notnull: number
          dflt_value: string | null
        }[]
      )
        .map((c) => `${table}.${c.name} ${c.type} ${c.notnull} ${c.dflt_value}`)
        .sort(),
    )
    const indexes = (
      db
        .prepare(
          "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name LIKE 'lc\\_%' ESCAPE '\\' AND sql IS NOT NULL ORDER BY name",
        )
        .all() as { sql: string }[]
    ).map((row) => row.sql)
    return { columns, indexes }
  } finally {
    db.close()
  }
}

/** Rewrites the file as an engine without some of today's schema objects left it. */
function strip(path: string, sql: string): void {
  const db = new Libsql(path)
  try {
    db.exec(sql)
  } finally {
    db.close()
  }
}

// The flow-control objects as the engine before them lacked them (79d9ff1): no lc_run_tags,
// none of its indexes, none of its lc_runs columns.
const BEFORE_FLOW_CONTROL = `
  DROP INDEX lc_runs_dedup; DROP INDEX lc_runs_debounce; DROP INDEX lc_runs_deadline;
  DROP INDEX lc_events_run; DROP TABLE lc_run_tags;
  ALTER TABLE lc_runs DROP COLUMN priority; ALTER TABLE lc_runs DROP COLUMN partition_key;
  ALTER TABLE lc_runs DROP COLUMN deduplication_id; ALTER TABLE lc_runs DROP COLUMN debounce_key;
  ALTER TABLE lc_runs DROP COLUMN tags; ALTER TABLE lc_runs DROP COLUMN timeout_ms;
  ALTER TABLE lc_runs DROP COLUMN deadline_at; ALTER TABLE lc_runs DROP COLUMN detached;`

describe('schema upgrade', () => {
  it('gives a file of the engine before flow control the same tables, columns and indexes as a new file', async () => {
    const { engine, path } = await openTestEngine(app)
    const fresh = shape(path)
    await engine.start('w', null, { idempotencyKey: 'before' })
    await engine.close()
    strip(path, BEFORE_FLOW_CONTROL)
    expect(shape(path)).not.toEqual(fresh)
    const again = await reopen(path, app)
    expect(shape(path)).toEqual(fresh)
    // The old run keeps its key, and the new columns work.
    expect((await again.start('w', null, { idempotencyKey: 'before' })).created).toBe(false)
    const { runId } = await again.start('w', null, {
      priority: 3,
      tags: { a: 'b' },
      deduplicationId: 'd',
    })
    expect((await again.result(runId, { waitMs: 5_000 })).status).toBe('succeeded')
  })

  // A file written by a branch that had some of the objects but not all (two lines of work
  // merged): every missing column and index is added, the present ones are left alone.
  it('completes a file that has some of the added columns and indexes but not all', async () => {
    const { engine, path } = await openTestEngine(app)
    const fresh = shape(path)
    await engine.close()
    strip(
      path,
      `DROP INDEX lc_runs_deadline; DROP INDEX lc_events_run;
       ALTER TABLE lc_runs DROP COLUMN deadline_at; ALTER TABLE lc_runs DROP COLUMN detached;`,
    )
    await reopen(path, app)
    expect(shape(path)).toEqual(fresh)
  })

  it('adds a missing column to a file that has every table and index', async () => {
    const { engine, path } = await openTestEngine(app)
    const fresh = shape(path)
    await engine.close()
    strip(path, 'ALTER TABLE lc_runs DROP COLUMN detached; ALTER TABLE lc_runs DROP COLUMN tags;')
    await reopen(path, app)
    expect(shape(path)).toEqual(fresh)
  })
})
