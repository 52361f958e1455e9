import Libsql from 'libsql'
import { afterEach, describe, expect, it } from 'vitest'
import { defineApp } from './app.js'
import type { EngineError } from './engine-error.js'
import type { Migration } from './migration.js'
import { cleanup, openTestEngine, reopen } from '@litecell/testkit/engine'

afterEach(cleanup)

const workflows = { w: async () => 'ok' }

function appWith(migrations: readonly Migration[], version?: string) {
  return defineApp({ workflows, migrations, ...(version === undefined ? {} : { version }) })
}

function read<T>(path: string, sql: string): T[] {
  const db = new Libsql(path, { readonly: true })
  try {
    return db.prepare(sql).all() as T[]
  } finally {
    db.close()
  }
}

function tables(path: string): string[] {
  return read<{ name: string }>(
    path,
    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'lc_%' ORDER BY name",
  ).map((row) => row.name)
}

async function openError(promise: Promise<unknown>): Promise<EngineError> {
  try {
    await promise
  } catch (error) {
    return error as EngineError
  }
  throw new Error('expected the open to fail')
}

const ORDERS = 'CREATE TABLE orders (id INTEGER PRIMARY KEY)'
const ITEMS = 'CREATE TABLE items (id INTEGER PRIMARY KEY)'
const METRICS = 'CREATE TABLE metrics (loss REAL)'

describe('app migrations', () => {
  it('applies each migration once and appended ones at the next open', async () => {
    const { engine, path } = await openTestEngine(appWith([ORDERS]))
    await engine.close()
    const again = await reopen(path, appWith([ORDERS, { name: 'items', sql: ITEMS }]))
    await again.close()
    await reopen(path, appWith([ORDERS, { name: 'items', sql: ITEMS }]))
    expect(tables(path)).toEqual(['items', 'orders'])
    expect(read(path, 'SELECT position, name, app FROM lc_migrations ORDER BY position')).toEqual([
      { position: 0, name: null, app: 'default' },
      { position: 1, name: 'items', app: 'default' },
    ])
  })

  it('refuses a changed plain migration by its hash, naming it, and writes nothing', async () => {
    const { engine, path } = await openTestEngine(appWith([ORDERS, METRICS]))
    await engine.close()
    const error = await openError(reopen(path, appWith([`${ORDERS} -- edited`, METRICS, ITEMS])))
    expect(error.code).toBe('MIGRATION_MISMATCH')
    expect(error.message).toMatch(
      /migration #0 \(sha256:[0-9a-f]{12}\) of the app differs from migration #0 \(sha256:[0-9a-f]{12}\) that this tenant applied/,
    )
    expect(error.message).toContain('litecell tenants upgrade <tenant> --app <name>')
    expect(tables(path)).toEqual(['metrics', 'orders'])
  })

  it('refuses a named migration whose SQL changed', async () => {
    const { engine, path } = await openTestEngine(appWith([{ name: 'orders', sql: ORDERS }]))
    await engine.close()
    const error = await openError(reopen(path, appWith([{ name: 'orders', sql: ITEMS }])))
    expect(error.code).toBe('MIGRATION_MISMATCH')
    expect(error.message).toMatch(/migration #0 `orders` changed since this tenant applied it/)
  })

  it('refuses reordered and removed migrations', async () => {
    const named = [
      { name: 'orders', sql: ORDERS },
      { name: 'items', sql: ITEMS },
    ]
    const { engine, path } = await openTestEngine(appWith(named))
    await engine.close()
    const reordered = await openError(reopen(path, appWith([...named].reverse())))
    expect(reordered.message).toContain(
      'migration #0 `items` of the app differs from migration #0 `orders`',
    )
    const removed = await openError(reopen(path, appWith(named.slice(0, 1))))
    expect(removed.message).toContain(
      'the app lists only 1: migration #1 `items` is missing from it',
    )
  })

  it('keeps the identity of a plain migration that gains a name', async () => {
    const { engine, path } = await openTestEngine(appWith([ORDERS]))
    await engine.close()
    await reopen(path, appWith([{ name: 'orders', sql: ORDERS }, ITEMS]))
    expect(tables(path)).toEqual(['items', 'orders'])
    expect(read(path, 'SELECT name FROM lc_migrations ORDER BY position')).toEqual([
      { name: 'orders' },
      { name: null },
    ])
  })

  it('converts the positions an older engine recorded into names and hashes', async () => {
    const { engine, path } = await openTestEngine(appWith([ORDERS, ITEMS]))
    await engine.close()
    // The file as an older engine left it: positions only.
    const db = new Libsql(path)
    db.exec(`DROP TABLE lc_migrations; DROP TABLE lc_app;
      CREATE TABLE lc_migrations (position INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
      INSERT INTO lc_migrations VALUES (0, 1), (1, 1);`)
    db.close()
    const again = await reopen(path, appWith([ORDERS, ITEMS, METRICS]))
    const { runId } = await again.start('w')
    expect((await again.result(runId, { waitMs: 5_000 })).status).toBe('succeeded')
    expect(tables(path)).toEqual(['items', 'metrics', 'orders'])
    const rows = read<{ hash: string; app: string }>(
      path,
      'SELECT hash, app FROM lc_migrations ORDER BY position',
    )
    expect(rows.map((row) => row.app)).toEqual(['default', 'default', 'default'])
    expect(rows.every((row) => /^sha256:[0-9a-f]{64}$/.test(row.hash))).toBe(true)
  })

  it('refuses an older file that applied more migrations than the app lists, and leaves it as it was', async () => {
    const { engine, path } = await openTestEngine(appWith([ORDERS, ITEMS]))
    await engine.close()
    const db = new Libsql(path)
    db.exec(`DROP TABLE lc_migrations; DROP TABLE lc_app;
      CREATE TABLE lc_migrations (position INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
      INSERT INTO lc_migrations VALUES (0, 1), (1, 1);`)
    db.close()
    const error = await openError(reopen(path, appWith([ORDERS])))
    expect(error.message).toContain(
      'applied migration #1 (recorded by position by an older litecell), but the app lists only 1',
    )
    expect(read(path, 'SELECT hash FROM lc_migrations ORDER BY position')).toEqual([
      { hash: null },
      { hash: null },
    ])
  })

  it('fails a migration whose SQL fails with MIGRATION_FAILED, keeping earlier ones', async () => {
    const { engine, path } = await openTestEngine(appWith([ORDERS]))
    await engine.close()
    const error = await openError(
      reopen(path, appWith([ORDERS, { name: 'broken', sql: 'CREATE TABLE orders (x)' }])),
    )
    expect(error.code).toBe('MIGRATION_FAILED')
    expect(error.message).toContain('apply migration #1 `broken`: ')
  })
})

describe('the app a tenant runs', () => {
  const shop = appWith([{ name: 'init', sql: ORDERS }, METRICS])
  const lab = appWith([{ name: 'init', sql: ITEMS }, METRICS])

  it('refuses a file that records another app, naming both and how to switch', async () => {
    const { engine, path } = await openTestEngine(shop, { appName: 'shop', appVersion: 'v7' })
    await engine.close()
    const error = await openError(reopen(path, lab, { appName: 'lab' }))
    expect(error.code).toBe('APP_MISMATCH')
    expect(error.message).toContain('it runs app `shop` (version v7), not `lab`')
    expect(error.message).toContain('litecell tenants upgrade <tenant> --app lab')
    expect(tables(path)).toEqual(['metrics', 'orders'])
  })

  it('switches on purpose with upgradeFrom: the new app’s migrations run, identical SQL is adopted', async () => {
    const { engine, path } = await openTestEngine(shop, { appName: 'shop' })
    await engine.close()
    const switched = await reopen(path, lab, { appName: 'lab', upgradeFrom: 'shop' })
    expect(switched.app.name).toBe('lab')
    await switched.close()
    // `init` of lab differs from shop's (same name): it runs; METRICS is the same SQL: adopted.
    expect(tables(path)).toEqual(['items', 'metrics', 'orders'])
    expect(read(path, 'SELECT name, app FROM lc_migrations ORDER BY position')).toEqual([
      { name: 'init', app: 'shop' },
      { name: null, app: 'shop' },
      { name: 'init', app: 'lab' },
      { name: null, app: 'lab' },
    ])
    // From now on the file runs lab: shop is refused without a switch back.
    await reopen(path, lab, { appName: 'lab' }).then((again) => again.close())
    expect((await openError(reopen(path, shop, { appName: 'shop' }))).code).toBe('APP_MISMATCH')
  })

  it('a new version of the same app opens and is recorded', async () => {
    const { engine, path } = await openTestEngine(shop, { appName: 'shop', appVersion: 'v1' })
    await engine.close()
    await reopen(path, shop, { appName: 'shop', appVersion: 'v2' }).then((again) => again.close())
    expect(read(path, 'SELECT name, version FROM lc_app')).toEqual([
      { name: 'shop', version: 'v2' },
    ])
  })
})
