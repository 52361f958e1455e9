import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PRELOAD_APPS_ENV, STANDBY_ENV, isStandbyAssignment } from '@litecell/protocol'
import { resolveLitestream } from '@litecell/replica'
import { appModuleUrl } from './app-compiler.js'

/**
 * A standby worker has loaded its code (and the apps named in LITECELL_PRELOAD_APPS) before
 * any tenant needs it; a wake then costs only restore, open and replicate, not a Node start
 * and an app compile. It finds the Litestream binary in advance too (its version probe is a
 * process spawn the wake's restore and replicate would otherwise wait for), and has Node load
 * its `fetch` (see {@link warmFetch}). It waits for its
 * assignment over the IPC channel, and exits if the launcher goes away first. Once assigned
 * it no longer listens to the channel: it lives by its lease, not by its control plane (a
 * restarted control plane adopts it; issue 9, item 10).
 */
export async function awaitAssignment(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (env[STANDBY_ENV] !== '1' || !process.send) return
  const preload = (env[PRELOAD_APPS_ENV] ?? '').split(',').filter(Boolean)
  await Promise.allSettled([
    ...preload.map(async (path) => import(await appModuleUrl(path))),
    resolveLitestream(env),
    warmFetch(),
  ])
  const orphaned = () => process.exit(0)
  const assignment = await new Promise<Readonly<Record<string, string>>>((resolve) => {
    process.once('disconnect', orphaned)
    const onMessage = (message: unknown) => {
      if (!isStandbyAssignment(message)) return
      process.off('message', onMessage)
      resolve(message.env)
    }
    process.on('message', onMessage)
  })
  process.off('disconnect', orphaned)
  // The channel would keep the event loop alive after the worker's own work ended.
  process.channel?.unref()
  Object.assign(env, assignment)
}

/**
 * Node loads its `fetch` and the web classes behind it (undici: `Request`, `Response`) on first
 * use, and sets up its connection pool on the first request: measured here, the first `fetch`
 * in a process takes 40–60 ms at load ≈ 5 and later ones 2–4 ms. A wake would pay it twice (the
 * worker's `ready` call to the control plane, then the first request its Hono server turns
 * into a `Request`): one request to a loopback server of its own pays it while idle instead.
 */
async function warmFetch(): Promise<void> {
  const server = createServer((_request, response) => response.end())
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', resolve)
    })
    const { port } = server.address() as AddressInfo
    // Bounded: a standby that never got its answer must still take its assignment.
    const signal = AbortSignal.timeout(5_000)
    await (await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}', signal })).text()
  } finally {
    server.closeAllConnections()
    server.close()
  }
}
