import { PRELOAD_APPS_ENV, STANDBY_ENV, isStandbyAssignment } from '@litecell/protocol'
import { resolveLitestream } from '@litecell/replica'
import { appModuleUrl } from './app-compiler.js'

/**
 * A standby worker has loaded its code (and the apps named in LITECELL_PRELOAD_APPS) before
 * any tenant needs it; a wake then costs only restore, open and replicate, not a Node start
 * and an app compile. It finds the Litestream binary in advance too (its version probe is a
 * process spawn the wake's restore and replicate would otherwise wait for). It waits for its
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
