import { createHash } from 'node:crypto'
import type { AppDefinition } from './app.js'
import type { Database } from './connection.js'
import { EngineError } from './engine-error.js'

/** The app name a database records when `Engine.open` is given none (the control plane's default app). */
export const DEFAULT_APP_NAME = 'default'

/** The app a database runs: its name and the version that opened it. */
export interface AppIdentity {
  readonly name: string
  readonly version: string
}

/**
 * The version runs record when they start: the `appVersion` option (the worker passes a hash
 * of the app module's file when the app declares no version), else the app's `version`, else
 * a hash of its workflow functions' source text (weaker: code they call is not covered).
 */
export function resolveAppVersion(app: AppDefinition, appVersion: string | undefined): string {
  if (appVersion !== undefined) return appVersion
  if (app.version !== undefined) return app.version
  const hash = createHash('sha256')
  for (const [name, fn] of Object.entries(app.workflows)) hash.update(`${name}\0${String(fn)}\0`)
  return `sha256:${hash.digest('hex').slice(0, 12)}`
}

/**
 * Refuses a database that records another app than `identity.name`, unless it records
 * `upgradeFrom` (the explicit switch). Returns what the file records (`null` if nothing).
 *
 * @throws {EngineError} `APP_MISMATCH` naming both apps and how to switch on purpose.
 */
export function checkApp(
  db: Database,
  identity: AppIdentity,
  upgradeFrom: string | undefined,
): AppIdentity | null {
  const recorded = recordedApp(db)
  if (recorded === null || recorded.name === identity.name || recorded.name === upgradeFrom)
    return recorded
  throw new EngineError(
    'APP_MISMATCH',
    `open tenant database: it runs app \`${recorded.name}\` (version ${recorded.version}), not \`${identity.name}\`; nothing was changed. A tenant's app is switched only on purpose: \`litecell tenants upgrade <tenant> --app ${identity.name}\` (POST /v1/tenants/<tenant>/upgrade {"app": "${identity.name}"})`,
  )
}

/**
 * Records the app that opened the database (its name changes only through {@link checkApp},
 * which returned `recorded`); writes nothing when the file records this app and version.
 * Runs after the migrations: if one fails during a switch, the file still names the old app,
 * so the switch can be retried or undone.
 */
export function recordApp(
  db: Database,
  identity: AppIdentity,
  recorded: AppIdentity | null,
  nowMs: number,
): void {
  if (recorded?.name === identity.name && recorded.version === identity.version) return
  db.prepare(
    'INSERT OR REPLACE INTO lc_app (id, name, version, recorded_at) VALUES (1, ?, ?, ?)',
  ).run(identity.name, identity.version, nowMs)
}

/** The app a database records, or `null` for a new file (or one of an older engine). */
export function recordedApp(db: Database): AppIdentity | null {
  const row = db.prepare('SELECT name, version FROM lc_app WHERE id = 1').get() as
    AppIdentity | undefined
  return row ?? null
}
