import { createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ControlPlane, controlPlaneConfigFromEnv } from '@litecell/control-plane'
import { EXPERIMENT_APP_PATH } from '@litecell/examples'
import { WORKER_NODE_ARGS, checkApps, type AppLoadFailure } from '@litecell/worker'
import pino from 'pino'
import { CliError } from './cli-error.js'

/**
 * `litecell serve`: the control plane in the foreground. Logs go to `<data>/logs/control-plane.log`
 * (or stdout with LITECELL_LOG=stdout); stdout keeps the lines a person reads. Every configured
 * app is loaded once at start (in a throwaway process, beside the control plane's own start):
 * an app that does not load stops the server with the module's own error, before any tenant
 * finds it at a wake. SIGINT/SIGTERM stop it cleanly: every tenant hibernated with a verified
 * sync, the registry synced last.
 */
export async function serveCommand(
  env: NodeJS.ProcessEnv = process.env,
  options: { readonly newRegistry?: boolean } = {},
): Promise<void> {
  // The AWS SDK's notice about Node versions would greet every start; it is the SDK's concern.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const config = controlPlaneConfigFromEnv(env, { appPath: EXPERIMENT_APP_PATH })
  await mkdir(join(config.dataDir, 'logs'), { recursive: true })
  const destination =
    env.LITECELL_LOG === 'stdout' ? process.stdout : createWriteStream(join(config.dataDir, 'logs', 'control-plane.log'), { flags: 'a' })
  const log = pino({ base: { component: 'control-plane' }, level: env.LITECELL_LOG_LEVEL ?? 'info' }, destination)
  const [started, checked] = await Promise.allSettled([
    ControlPlane.start(config, { log, workerNodeArgs: WORKER_NODE_ARGS, newRegistry: options.newRegistry === true }),
    checkApps(config.apps),
  ])
  const failures: AppLoadFailure[] = checked.status === 'fulfilled' ? checked.value : []
  if (started.status === 'fulfilled' && (checked.status === 'rejected' || failures.length > 0)) {
    await started.value.stop().catch(() => undefined)
  }
  if (checked.status === 'rejected') throw checked.reason
  if (failures.length > 0) {
    throw new CliError(
      'APP_LOAD_FAILED',
      failures.map((failure) => `app \`${failure.name}\` does not load: ${failure.message}`).join('\n') +
        '\nfix the app module (LITECELL_APP / LITECELL_APPS), then start again',
    )
  }
  if (started.status === 'rejected') throw started.reason
  const controlPlane = started.value
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
