// Starts the query thread (query-thread.ts). Plain JavaScript on purpose: Node 20 does not
// carry a loader given with `--import` (tsx) into worker threads. When the engine runs from
// its TypeScript source, this registers tsx's require hook in the thread (in-thread and about
// 30× quicker to set up than its ESM loader, which starts a loader thread of its own) and
// loads the entry through it.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { workerData } from 'node:worker_threads'

const require = createRequire(import.meta.url)
if (workerData.entry.endsWith('.ts')) {
  require('tsx/cjs/api').register()
  require(fileURLToPath(workerData.entry))
} else {
  await import(workerData.entry)
}
