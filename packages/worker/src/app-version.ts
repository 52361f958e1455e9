import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { AppDefinition } from '@litecell/engine'

/**
 * The version a tenant's runs record when they start: the app's own `version`, else
 * `sha256:` and the first 12 hex digits of the SHA-256 of the app module's file (the module
 * itself: helper modules it imports are not covered; declare `version` to cover them).
 */
export async function appVersionOf(app: AppDefinition, appPath: string): Promise<string> {
  if (app.version !== undefined) return app.version
  const content = await readFile(appPath)
  return `sha256:${createHash('sha256').update(content).digest('hex').slice(0, 12)}`
}
