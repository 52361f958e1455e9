/**
 * The query thread's own code (see query-thread.ts): one read-only, sandboxed connection and
 * a loop answering one query at a time. A statement that computes for long blocks only this
 * thread; libsql's timer interrupts it inside SQLite at the time limit.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { openConnection } from './connection.js'
import { ReadOnlyQuery } from './query.js'
import type { QueryThreadData, QueryThreadReply, QueryThreadRequest } from './query-thread.js'

const port = parentPort
if (port === null) throw new Error('query-thread-entry runs inside a worker thread only')
const { path, timeoutMs } = workerData as QueryThreadData
const query = new ReadOnlyQuery(openConnection(path, { synchronous: 'NORMAL', readOnly: true }), timeoutMs)

port.on('message', ({ id, request }: QueryThreadRequest) => {
  let reply: QueryThreadReply
  try {
    reply = { id, result: query.run(request) }
  } catch (error) {
    const code = (error as { code?: unknown }).code
    reply = {
      id,
      error: { code: typeof code === 'string' ? code : 'QUERY_FAILED', message: (error as Error).message },
    }
  }
  port.postMessage(reply)
})
