// Child process of connection.test.ts: writes, closes, reports the files, then exits.
//   child.ts engine|bare <db> natural|exit|gc
// `engine` opens an Engine and runs workflows (its connections keep prepared statements);
// `bare` opens a plain libsql connection with a live prepared statement and no pin (the
// control that shows the test can see a checkpoint). After closing it prints the database
// file's sha256 and the WAL's size as JSON, then exits naturally (native finalizers run), by
// process.exit, or after forcing garbage collections (`gc`, needs --expose-gc).
import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import Libsql from 'libsql'
import { defineApp, Engine } from '../../src/index.js'

const [kind, path, exit] = process.argv.slice(2)
if (path === undefined) throw new Error('usage: child.ts engine|bare <db> natural|exit|gc')
const keep: unknown[] = []

if (kind === 'engine') {
  const app = defineApp({
    migrations: ['CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)'],
    workflows: {
      note: async (ctx, input) => {
        await ctx.transaction('note', (tx) => {
          tx.execute('INSERT INTO notes (body) VALUES (?)', [String(input)])
        })
        return ctx.step('done', () => true)
      },
    },
  })
  const engine = await Engine.open({ path, app })
  await engine.startMany(Array.from({ length: 50 }, (_, i) => ({ workflow: 'note', input: i })))
  await engine.idle()
  await engine.query('SELECT count(*) FROM notes')
  await engine.close()
} else {
  const db = new Libsql(path)
  db.exec('PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE notes (body)')
  const insert = db.prepare('INSERT INTO notes VALUES (?)')
  for (let i = 0; i < 50; i++) insert.run(String(i))
  keep.push(insert)
  db.close()
}

const report = () => ({
  dbSha256: createHash('sha256').update(readFileSync(path)).digest('hex'),
  walBytes: statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? null,
})
if (exit === 'gc') {
  keep.length = 0
  for (let i = 0; i < 5; i++) {
    ;(globalThis as { gc?: () => void }).gc?.()
    await new Promise((resolve) => setImmediate(resolve))
  }
}
process.stdout.write(`${JSON.stringify(report())}\n`)
if (exit === 'exit') process.exit(0)
