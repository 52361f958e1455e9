// The embedded S3 server in a process of its own (embedded-s3-process.ts starts it): s3rver on
// 127.0.0.1, so that its request handling and file I/O do not share the control plane's event
// loop (issue 12: past ≈ 60 workers, the control plane answered their calls too late while it
// also served every tenant's Litestream). Plain JavaScript on purpose: it runs the same from the
// sources and beside the control plane's bundle, with no TypeScript loader.
//
// argv[2]: JSON { dir, port, bucket }. Answers over IPC { port } once listening, or { error, code };
// exits when its parent goes (the IPC channel closes, even on SIGKILL) or on SIGTERM.
import { mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { dir, port, bucket } = JSON.parse(process.argv[2] ?? '{}')

process.on('disconnect', () => process.exit())

/** Tells the parent why the server could not start (or stopped), then exits. */
function fail(err) {
  process.exitCode = 1
  process.send?.({ error: err instanceof Error ? err.message : String(err), code: err?.code })
  process.disconnect?.()
}
// s3rver does not reject run() when the port is taken: its server emits 'error' unhandled.
process.on('uncaughtException', fail)

try {
  await mkdir(dir, { recursive: true })
  const S3rver = require('s3rver')
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  })
  const address = await server.run()
  process.once('SIGTERM', () => {
    // Clients (Litestream, the SDK) keep idle keep-alive sockets; close() would wait for them.
    server.httpServer?.closeAllConnections()
    server.httpServer?.close(() => process.exit(0))
  })
  process.send?.({ port: address.port })
} catch (err) {
  fail(err)
}
