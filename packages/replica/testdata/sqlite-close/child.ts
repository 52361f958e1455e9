// Child process of sqlite-connection.test.ts: writes through openSqlite with a prepared
// statement still alive, writes a sync marker, closes, prints the WAL's size, then exits
// naturally (the native finalizers run).
import { statSync } from 'node:fs'
import { openSqlite } from '../../src/sqlite-connection.js'
import { writeSyncMarker } from '../../src/sync-marker.js'

const path = process.argv[2]
if (path === undefined) throw new Error('usage: child.ts <db>')
const db = openSqlite(path)
db.exec('CREATE TABLE notes (body TEXT)')
const insert = db.prepare('INSERT INTO notes VALUES (?)')
for (let i = 0; i < 20; i++) insert.run(String(i))
db.close()
await writeSyncMarker(path)
process.stdout.write(`${JSON.stringify({ walBytes: statSync(`${path}-wal`).size, keep: typeof insert })}\n`)
