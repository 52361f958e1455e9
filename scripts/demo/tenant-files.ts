import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** A tenant's local folder, where its worker keeps `tenant.db` while it is active. */
export function tenantDir(dataDir: string, tenantId: string): string {
  return join(dataDir, 'tenants', tenantId)
}

/** `tenant.db + WAL, 16.8 MB`: the SQLite files in a tenant's folder, or '' if there are none. */
export function describeTenantFiles(dir: string): string {
  const names = existsSync(dir) ? readdirSync(dir).filter((name) => /^tenant\.db(-wal)?$/.test(name)) : []
  if (names.length === 0) return ''
  const bytes = names.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0)
  return `${names.includes('tenant.db-wal') ? 'tenant.db + WAL' : 'tenant.db'}, ${(bytes / 1e6).toFixed(1)} MB`
}

/** Tenants that still have a folder with a database under `<dataDir>/tenants/`. */
export function localTenants(dataDir: string): string[] {
  const root = join(dataDir, 'tenants')
  if (!existsSync(root)) return []
  return readdirSync(root).filter((id) => existsSync(join(root, id, 'tenant.db')))
}
