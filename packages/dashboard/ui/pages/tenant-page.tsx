import { useCallback, useEffect, useState } from 'preact/hooks'
import { tenantPath } from '../api.js'
import type { TenantDetail } from '../api-types.js'
import { ErrorNote } from '../components/error-note.js'
import { StatusBadge } from '../components/status-badge.js'
import { TenantActions } from '../components/tenant-actions.js'
import { formatBytes, formatDuration, formatRelative, formatTime } from '../format.js'
import { tenantHref, tenantsHref } from '../route.js'
import { useSession } from '../session-context.js'
import { useLoad, useNow } from '../use-load.js'
import { DataPanel } from './data-panel.js'
import { RunsPanel } from './runs-panel.js'

/** Longest the header waits for the panel's first load before it loads anyway. */
const PANEL_FIRST_MS = 1500

/** One tenant: what it is and does now, its actions, and its runs or its data. */
export function TenantPage(props: { tenantId: string; tab: 'runs' | 'data'; query: URLSearchParams }) {
  const { api, isAdmin } = useSession()
  const now = useNow(10_000)
  // The header's request lists the tenant's restore points in S3, which is slower than the
  // runs or the query the person is waiting for: it goes out once the panel has its data
  // (or after PANEL_FIRST_MS), so the two do not compete on the first load.
  const [isPanelLoaded, setPanelLoaded] = useState(false)
  useEffect(() => {
    const timer = setTimeout(() => setPanelLoaded(true), PANEL_FIRST_MS)
    return () => clearTimeout(timer)
  }, [])
  const onPanelLoaded = useCallback(() => setPanelLoaded(true), [])
  const tenant = useLoad(
    (signal) => (isPanelLoaded ? api.get<TenantDetail>(tenantPath(props.tenantId), undefined, signal) : new Promise<TenantDetail>(() => {})),
    [props.tenantId, now, isPanelLoaded],
  )
  const view = tenant.data
  const worker = view?.worker
  return (
    <div class="stack">
      <nav class="breadcrumb">
        {isAdmin && <a href={tenantsHref()}>Tenants</a>}
        {isAdmin && <span class="sep">/</span>}
        <span class="mono">{props.tenantId}</span>
      </nav>
      <section class="card tenant-header">
        <div class="tenant-title">
          <h1 class="mono">{props.tenantId}</h1>
          {view && <StatusBadge value={view.state} />}
        </div>
        {view && (
          <dl class="facts">
            <Fact label="App" value={view.app} />
            <Fact label="Durability" value={view.durability ?? '—'} />
            <Fact label="Created" value={formatTime(view.createdAt)} />
            <Fact label="Last active" value={formatRelative(view.lastActiveAt)} title={formatTime(view.lastActiveAt)} />
            <Fact label="Next wake" value={formatRelative(view.nextWakeAt)} title={formatTime(view.nextWakeAt)} />
            <Fact label="Worker" value={worker ? `pid ${worker.pid ?? '—'} · epoch ${worker.epoch}` : 'none'} />
            <Fact label="Uptime" value={worker?.startedAt ? formatDuration(now - Date.parse(worker.startedAt)) : '—'} />
            <Fact label="RSS" value={formatBytes(worker?.rssBytes)} />
            <Fact label="Restore window" value={restoreWindow(view)} />
          </dl>
        )}
        {view && Object.keys(view.labels).length > 0 && (
          <div class="labels">
            {Object.entries(view.labels).map(([key, value]) => (
              <span class="label" key={key}>
                {key}={value}
              </span>
            ))}
          </div>
        )}
        {view?.failureReason && <div class="error-note">{view.failureReason}</div>}
        <ErrorNote error={tenant.error} />
        {view && <TenantActions tenant={view} onChanged={tenant.reload} />}
      </section>
      <nav class="tabs" role="tablist">
        <a role="tab" class={props.tab === 'runs' ? 'tab tab-active' : 'tab'} aria-selected={props.tab === 'runs'} href={tenantHref(props.tenantId)}>
          Runs
        </a>
        <a role="tab" class={props.tab === 'data' ? 'tab tab-active' : 'tab'} aria-selected={props.tab === 'data'} href={tenantHref(props.tenantId, 'data')}>
          Data
        </a>
      </nav>
      {props.tab === 'runs' ? (
        <RunsPanel tenantId={props.tenantId} query={props.query} onLoaded={onPanelLoaded} />
      ) : (
        <DataPanel tenantId={props.tenantId} query={props.query} onLoaded={onPanelLoaded} />
      )}
    </div>
  )
}

function Fact(props: { label: string; value: string; title?: string }) {
  return (
    <div class="fact">
      <dt>{props.label}</dt>
      <dd title={props.title}>{props.value}</dd>
    </div>
  )
}

function restoreWindow(view: TenantDetail): string {
  const replica = view.replica
  if (!replica || 'error' in replica) return 'unavailable'
  if (!replica.earliestAt || !replica.latestAt) return 'no backup yet'
  return `${formatTime(replica.earliestAt)} → ${formatTime(replica.latestAt)}`
}
