import { createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ControlPlane, controlPlaneConfigFromEnv } from '@litecell/control-plane'
import { EXPERIMENT_APP_PATH } from '@litecell/examples'
import { WORKER_NODE_ARGS } from '@litecell/worker'
import pino from 'pino'

/**
 * `litecell serve`: the control plane in the foreground. Logs go to `<data>/logs/control-plane.log`
 * (or stdout with LITECELL_LOG=stdout); stdout keeps the lines a person reads. SIGINT/SIGTERM
 * stop it cleanly: every tenant hibernated with a verified sync, the registry synced last.
 */
export async function serveCommand(
  env: NodeJS.ProcessEnv = process.env,
  options: { readonly newRegistry?: boolean } = {},
): Promise<void> {
  const config = controlPlaneConfigFromEnv(env, { appPath: EXPERIMENT_APP_PATH })
  await mkdir(join(config.dataDir, 'logs'), { recursive: true })
  const destination =
    env.LITECELL_LOG === 'stdout' ? process.stdout : createWriteStream(join(config.dataDir, 'logs', 'control-plane.log'), { flags: 'a' })
  const log = pino({ base: { component: 'control-plane' }, level: env.LITECELL_LOG_LEVEL ?? 'info' }, destination)
  const controlPlane = await ControlPlane.start(config, {
    log,
    workerNodeArgs: WORKER_NODE_ARGS,
    newRegistry: options.newRegistry === true,
  })
  if (controlPlane.generatedAdminToken) {
    console.log(`admin token (shown once, also saved in ${join(config.dataDir, 'admin-token')}):`)
    console.log(`  ${controlPlane.generatedAdminToken}`)
  }
  console.log(`litecell listening on ${controlPlane.url}`)
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`${signal}: hibernating tenants and stopping…`)
    controlPlane.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`stop failed: ${(err as Error).message}`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}
