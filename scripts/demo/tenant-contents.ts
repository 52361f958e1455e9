import type { PatientApi } from './patient-api.js'

/** What a tenant of the experiment app holds, in a few numbers that change with any write. */
export interface TenantContents {
  /** Workflow runs (the engine's `lc_runs` table). */
  runs: number
  /** Rows of the app's `metrics` table. */
  metricRows: number
  /** Sum of the metrics' losses in millionths: an exact, order-free checksum of the rows. */
  lossChecksum: number
}

const CONTENTS_SQL = `SELECT
  (SELECT count(*) FROM lc_runs) AS runs,
  (SELECT count(*) FROM metrics) AS metricRows,
  (SELECT coalesce(sum(CAST(round(loss * 1000000) AS INTEGER)), 0) FROM metrics) AS lossChecksum`

/** Reads a tenant's contents with one read-only query (waking the tenant if it sleeps). */
export async function readContents(api: PatientApi, tenantId: string): Promise<TenantContents> {
  const { rows } = await api.post<{ rows: TenantContents[] }>(`/v1/tenants/${tenantId}/query`, { sql: CONTENTS_SQL })
  if (!rows[0]) throw new Error(`query tenant ${tenantId}: no row`)
  return rows[0]
}

export function sameContents(a: TenantContents, b: TenantContents): boolean {
  return a.runs === b.runs && a.metricRows === b.metricRows && a.lossChecksum === b.lossChecksum
}

/** `506 runs, 2,536 metric rows`. */
export function describeContents(contents: TenantContents): string {
  return `${contents.runs.toLocaleString('en-US')} runs, ${contents.metricRows.toLocaleString('en-US')} metric rows`
}
