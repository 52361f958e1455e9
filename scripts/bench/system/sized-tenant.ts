import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { waitForRun } from '@litecell/client'
import type { BenchServer } from './bench-server.js'
import { dirBytes } from './disk-usage.js'
import { queryTenant, withRetry } from './run-client.js'

/** A tenant the bench filled to a size. */
export interface SizedTenant {
  readonly id: string
  /** Size asked for. */
  readonly targetBytes: number
  /** The database's size (page count × page size) once filled. */
  readonly databaseBytes: number
  /** Rows in the app's `fill` table, to check after every wake. */
  readonly rows: number
}

/** Longest a fill may take (200 MB on a busy machine). */
const FILL_TIMEOUT_MS = 20 * 60_000

/**
 * Creates a `bench` tenant and grows it to about `targetBytes` with the `fill` workflow
 * (incompressible rows, 4 MB per transaction), leaving it active.
 */
export async function createSizedTenant(server: BenchServer, id: string, targetBytes: number): Promise<SizedTenant> {
  const admin = server.admin
  await admin.createTenant({ id, app: 'bench' })
  const submitted = await withRetry(() => admin.startRun(id, { workflow: 'fill', input: { bytes: targetBytes } }))
  const { run, timedOut } = await waitForRun(admin, id, submitted.runId, { timeoutMs: FILL_TIMEOUT_MS, pollMs: 30_000 })
  if (timedOut) throw new Error(`fill ${id}: not done after ${FILL_TIMEOUT_MS} ms`)
  if (run.status !== 'succeeded') throw new Error(`fill ${id}: ${JSON.stringify(run)}`)
  return { id, targetBytes, databaseBytes: await databaseBytes(server, id), rows: await fillRows(server, id) }
}

/** The tenant database's size in bytes (wakes the tenant). */
export async function databaseBytes(server: BenchServer, id: string): Promise<number> {
  const [row] = await queryTenant<{ bytes: number }>(
    server.admin,
    id,
    'SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()',
  )
  return Number(row?.bytes ?? Number.NaN)
}

/** Rows in the tenant's `fill` table (wakes the tenant). */
export async function fillRows(server: BenchServer, id: string): Promise<number> {
  const [row] = await queryTenant<{ n: number }>(server.admin, id, 'SELECT count(*) AS n FROM fill')
  return Number(row?.n ?? Number.NaN)
}

/**
 * Bytes of the tenant's local folder (`<dataDir>/tenants/<id>`) but the verified copy a
 * hibernated tenant keeps for its next wake here (`hibernated/`, issue 12): 0 once hibernated.
 */
export function localTenantBytes(server: BenchServer, id: string): number {
  const dir = join(server.dataDir, 'tenants', id)
  // Besides its verified copy, the folder keeps the incarnation mark that copy belongs to.
  const mark = join(dir, 'incarnation')
  const markBytes = existsSync(mark) ? statSync(mark).size : 0
  return dirBytes(dir) - dirBytes(join(dir, 'hibernated')) - markBytes
}
