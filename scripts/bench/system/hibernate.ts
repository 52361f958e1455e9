import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { BenchServer } from './bench-server.js'
import { localTenantBytes } from './sized-tenant.js'

/**
 * Scenario 4, one measurement: `POST …/hibernate` on an active tenant, timed until its 200
 * (the worker stopped, Litestream's final sync verified against the replica, local files
 * deleted, the worker's process group gone). Throws unless the tenant is then hibernated,
 * with no worker and no local database left.
 */
export async function hibernateVerified(server: BenchServer, id: string): Promise<number> {
  const before = await server.admin.getTenant(id)
  if (before.state !== 'active') throw new Error(`hibernate ${id}: expected an active tenant, got ${before.state}`)
  const startedMs = performance.now()
  await server.admin.hibernateTenant(id)
  const elapsedMs = performance.now() - startedMs
  const after = await server.admin.getTenant(id)
  if (after.state !== 'hibernated' || after.worker !== undefined) {
    throw new Error(`hibernate ${id}: afterwards state ${after.state}, worker ${JSON.stringify(after.worker)}`)
  }
  if (!isProcessGone(before.worker?.pid)) throw new Error(`hibernate ${id}: worker ${before.worker?.pid} still runs`)
  const localBytes = localTenantBytes(server, id)
  if (localBytes > 0 || existsSync(join(server.dataDir, 'tenants', id, 'tenant.db'))) {
    throw new Error(`hibernate ${id}: ${localBytes} bytes of local files left`)
  }
  return elapsedMs
}

function isProcessGone(pid: number | null | undefined): boolean {
  if (!pid) return true
  try {
    process.kill(pid, 0)
    return false
  } catch {
    return true
  }
}
