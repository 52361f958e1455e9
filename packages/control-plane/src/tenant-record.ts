import { isDurability, type Durability, type RestoreSource } from '@litecell/protocol'

/** A tenant's state, as the API shows it. */
export type TenantState = 'hibernated' | 'starting' | 'active' | 'stopping' | 'failed' | 'deleting'

/** One tenant as the registry knows it. */
export interface TenantRecord {
  readonly id: string
  readonly app: string
  readonly labels: Readonly<Record<string, string>>
  readonly tokenHash: string
  readonly state: TenantState
  readonly createdAt: number
  readonly lastActiveAt: number | null
  readonly nextWakeAt: number | null
  readonly epoch: number
  readonly leaseExpiresAt: number | null
  readonly workerUrl: string | null
  readonly workerPid: number | null
  readonly workerStartedAt: number | null
  readonly failureReason: string | null
  /** A fork's source, until the fork's own replica holds its state. */
  readonly restoreFrom: RestoreSource | null
  /** The app the tenant's file may still record after an explicit switch (see `Registry.setApp`). */
  readonly appUpgradeFrom: string | null
  /** When acknowledgements are sent (issue 11); null: the server's default. */
  readonly durability: Durability | null
  /** Which life of the id this is (null: created before incarnations); see the registry schema. */
  readonly incarnation: string | null
}

/** A `cp_tenants` row as SQLite returns it. */
export interface TenantRow {
  id: string
  app: string
  labels: string
  token_hash: string
  state: TenantState
  created_at: number
  last_active_at: number | null
  next_wake_at: number | null
  epoch: number
  lease_expires_at: number | null
  worker_url: string | null
  worker_pid: number | null
  worker_started_at: number | null
  failure_reason: string | null
  restore_from: string | null
  app_upgrade_from: string | null
  durability: string | null
  incarnation: string | null
}

/** A row as the registry's callers see it. */
export function toRecord(row: TenantRow): TenantRecord {
  return {
    id: row.id,
    app: row.app,
    labels: JSON.parse(row.labels) as Record<string, string>,
    tokenHash: row.token_hash,
    state: row.state,
    createdAt: row.created_at,
    lastActiveAt: row.last_active_at,
    nextWakeAt: row.next_wake_at,
    epoch: row.epoch,
    leaseExpiresAt: row.lease_expires_at,
    workerUrl: row.worker_url,
    workerPid: row.worker_pid,
    workerStartedAt: row.worker_started_at,
    failureReason: row.failure_reason,
    restoreFrom: row.restore_from === null ? null : (JSON.parse(row.restore_from) as RestoreSource),
    appUpgradeFrom: row.app_upgrade_from,
    durability: isDurability(row.durability) ? row.durability : null,
    incarnation: row.incarnation,
  }
}
