import { validateApp, type AppDefinition } from '@litecell/engine'
import { appModuleUrl } from './app-compiler.js'
import { WorkerError } from './worker-error.js'

/**
 * Loads an app module: its default export is `defineApp({...})` or a plain object of the same
 * shape (so an app file needs no import), checked as `Engine.open` would check it.
 *
 * @throws {WorkerError} `APP_LOAD_FAILED` with the module's own error (a compile error, a
 *   missing file, a throw at import) or what is wrong with its default export.
 */
export async function loadApp(appPath: string): Promise<AppDefinition> {
  let module: { default?: unknown }
  try {
    module = (await import(await appModuleUrl(appPath))) as { default?: unknown }
  } catch (err) {
    throw new WorkerError('APP_LOAD_FAILED', `load app ${appPath}: ${(err as Error).message}`, { cause: err })
  }
  const app = module.default
  if (typeof app !== 'object' || app === null || typeof (app as { workflows?: unknown }).workflows !== 'object') {
    throw new WorkerError(
      'APP_LOAD_FAILED',
      `load app ${appPath}: the default export must be defineApp({ workflows }) or an object with \`workflows\``,
    )
  }
  try {
    validateApp(app)
  } catch (err) {
    throw new WorkerError('APP_LOAD_FAILED', `load app ${appPath}: ${(err as Error).message}`, { cause: err })
  }
  return app
}
