import { pathToFileURL } from 'node:url'

/** The message a launcher sends a standby worker to give it a tenant. */
export interface WorkerAssignment {
  readonly type: 'assign'
  /** The worker's configuration (see worker-config.ts), merged into its environment. */
  readonly env: Readonly<Record<string, string>>
}

/**
 * A standby worker has loaded its code (and the apps named in LITECELL_PRELOAD_APPS) before
 * any tenant needs it; a wake then costs only restore, open and replicate, not a Node start
 * and a TypeScript compile. It waits for its assignment over the IPC channel, and exits if
 * the launcher goes away first.
 */
export async function awaitAssignment(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (env.LITECELL_STANDBY !== '1' || !process.send) return
  const preload = (env.LITECELL_PRELOAD_APPS ?? '').split(',').filter(Boolean)
  await Promise.allSettled(preload.map((path) => import(pathToFileURL(path).href)))
  const assignment = await new Promise<WorkerAssignment>((resolve) => {
    process.once('disconnect', () => process.exit(0))
    process.on('message', (message: WorkerAssignment) => {
      if (message?.type === 'assign') resolve(message)
    })
  })
  Object.assign(env, assignment.env)
}
