import type { FleetSummary, LifecycleFigures, TenantState } from '../api-types.js'
import { TENANT_STATES } from '../api-types.js'
import { formatCount, formatDuration } from '../format.js'

/** The fleet at a glance: worker slots in use, tenants by state, wakes and hibernations lately. */
export function FleetStrip(props: { fleet: FleetSummary | undefined }) {
  const fleet = props.fleet
  const usedPct = fleet ? Math.min(100, (fleet.activeWorkers / Math.max(1, fleet.maxWorkers)) * 100) : 0
  const total = fleet ? Object.values(fleet.tenants).reduce((sum, n) => sum + (n ?? 0), 0) : undefined
  return (
    <section class="fleet-strip" aria-label="Fleet" data-testid="fleet-strip">
      <div class="stat">
        <div class="stat-label">Active workers</div>
        <div class="stat-value">
          {fleet ? fleet.activeWorkers : '—'}
          <span class="stat-of"> / {fleet ? fleet.maxWorkers : '—'}</span>
        </div>
        <div class="meter" role="meter" aria-valuenow={fleet?.activeWorkers} aria-valuemax={fleet?.maxWorkers}>
          <div class="meter-fill" style={{ width: `${usedPct}%` }} />
        </div>
      </div>
      <div class="stat stat-wide">
        <div class="stat-label">Tenants {total !== undefined && <span class="muted">· {formatCount(total)}</span>}</div>
        <div class="state-counts">
          {TENANT_STATES.filter((state) => state !== 'deleting' || (fleet?.tenants.deleting ?? 0) > 0).map((state: TenantState) => (
            <span class={`state-count state-${state}`} key={state} title={state}>
              <span class="dot" />
              {state} <strong>{formatCount(fleet?.tenants[state] ?? 0)}</strong>
            </span>
          ))}
        </div>
      </div>
      <Lifecycle label="Wakes · last hour" figures={fleet?.lastHour.wakes} />
      <Lifecycle label="Hibernations · last hour" figures={fleet?.lastHour.hibernations} />
    </section>
  )
}

function Lifecycle(props: { label: string; figures: LifecycleFigures | undefined }) {
  return (
    <div class="stat">
      <div class="stat-label">{props.label}</div>
      <div class="stat-value">{props.figures ? formatCount(props.figures.count) : '—'}</div>
      <div class="stat-sub muted">
        p50 {props.figures?.p50Ms === null || props.figures === undefined ? '—' : formatDuration(props.figures.p50Ms)}
      </div>
    </div>
  )
}
