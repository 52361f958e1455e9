// Child process of replicator.test.ts: replicates a database, prints Litestream's pid as
// one JSON line, then waits to be SIGKILLed.
import { replicate } from '../../src/replicate.js'

const [dbPath, replicaJson] = process.argv.slice(2)
const replicator = await replicate(dbPath!, JSON.parse(replicaJson!), {
  syncIntervalMs: 100,
  monitorIntervalMs: 50,
})
console.log(JSON.stringify({ litestreamPid: replicator.pid }))
setInterval(() => undefined, 60_000)
