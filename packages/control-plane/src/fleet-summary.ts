import type { DurationSummary } from './recent-durations.js'
import type { FleetMetrics } from './fleet-metrics.js'
import type { Registry } from './registry.js'
import type { TenantState } from './tenant-record.js'

/** `GET /v1/fleet`: the fleet at a glance (the dashboard's strip above the tenant list). */
export interface FleetSummary {
  /** Worker processes starting, active or stopping. */
  activeWorkers: number
  /** `LITECELL_MAX_WORKERS`. */
  maxWorkers: number
  /** Tenants by state; states without tenants are 0. */
  tenants: Record<TenantState, number>
  /** Successful wakes and hibernations of the last hour, with their median durations. */
  lastHour: { wakes: DurationSummary; hibernations: DurationSummary }
}

const STATES: readonly TenantState[] = ['hibernated', 'starting', 'active', 'stopping', 'failed']

/** Reads the fleet summary from the registry (one grouped count) and the fleet's metrics. */
export function fleetSummary(parts: {
  registry: Registry
  metrics: FleetMetrics
  activeWorkers: number
  maxWorkers: number
}): FleetSummary {
  const counts = parts.registry.countByState()
  return {
    activeWorkers: parts.activeWorkers,
    maxWorkers: parts.maxWorkers,
    tenants: Object.fromEntries(STATES.map((state) => [state, counts[state] ?? 0])) as Record<TenantState, number>,
    lastHour: { wakes: parts.metrics.recentWakes.summary(), hibernations: parts.metrics.recentHibernations.summary() },
  }
}
