// Child process of registry.test.ts: opens the registry, writes through its prepared
// statements, closes it, prints the WAL's size, then exits naturally (finalizers run).
import { statSync } from 'node:fs'
import { Registry } from '../../src/registry.js'

const path = process.argv[2]
if (path === undefined) throw new Error('usage: child.ts <registry.db>')
const registry = Registry.open(path)
for (let i = 0; i < 20; i++)
  registry.createTenant({ id: `t${i}`, app: 'default', labels: {}, tokenHash: `h${i}`, state: 'hibernated', nowMs: i })
registry.close()
process.stdout.write(`${JSON.stringify({ walBytes: statSync(`${path}-wal`).size })}\n`)
