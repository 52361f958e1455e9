// Child process of confirmed-commit-survives.test.ts: a writer with its replicator. It
// commits rows 1, 2, 3, … a few hundred a second, each in its own transaction; on each stdin line it
// takes the position of its last commit, waits for the replicator to confirm it in S3, and
// prints `{"confirmed": <row id>}` while the writes go on. It first prints Litestream's pid.
import { createInterface } from 'node:readline'
import { replicate } from '../../src/replicate.js'
import { openSqlite } from '../../src/sqlite-connection.js'

const [dbPath, replicaJson, intervalsJson] = process.argv.slice(2)
const db = openSqlite(dbPath!)
db.exec('CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)')
const replicator = await replicate(dbPath!, JSON.parse(replicaJson!), JSON.parse(intervalsJson!))
console.log(JSON.stringify({ litestreamPid: replicator.pid }))

const insert = db.prepare('INSERT INTO items (id, payload) VALUES (?, randomblob(200))')
let last = 0
createInterface({ input: process.stdin }).on('line', () => {
  const row = last
  const commit = replicator.lastCommit() // covers row `last`: taken on the writing thread
  replicator.confirmed(commit, { timeoutMs: 30_000 }).then(
    () => console.log(JSON.stringify({ confirmed: row })),
    (err: unknown) => console.log(JSON.stringify({ error: String(err) })),
  )
})
for (;;) {
  insert.run(++last)
  // Yield so confirmations, log lines and the watcher's rounds run between commits.
  await new Promise((resolve) => setTimeout(resolve, 2))
}
