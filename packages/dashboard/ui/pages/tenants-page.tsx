import { useEffect, useRef, useState } from 'preact/hooks'
import type { FleetSummary, TenantPage, TenantView } from '../api-types.js'
import { TENANT_STATES } from '../api-types.js'
import { CreateTenantDialog, parseLabelText } from '../components/create-tenant-dialog.js'
import { ErrorNote } from '../components/error-note.js'
import { FleetStrip } from '../components/fleet-strip.js'
import { Pager } from '../components/pager.js'
import { StatusBadge } from '../components/status-badge.js'
import { TenantActions } from '../components/tenant-actions.js'
import { formatBytes, formatCount, formatDuration, formatRelative, formatTime } from '../format.js'
import { replaceHash, tenantHref, tenantsHref } from '../route.js'
import { useSession } from '../session-context.js'
import { useCursorPages } from '../use-cursor-pages.js'
import { useLoad, useNow } from '../use-load.js'

/** Tenants per page. */
const PAGE_SIZE = 50
/** How often the list and the fleet strip refresh by themselves. */
const REFRESH_MS = 5000

/** Every tenant (admin): the fleet strip, filters by state and label, a paginated table. */
export function TenantsPage(props: { query: URLSearchParams }) {
  const { api } = useSession()
  const state = props.query.get('state') ?? ''
  const label = props.query.get('label') ?? ''
  const pages = useCursorPages()
  const [isCreating, setCreating] = useState(false)
  const [labelDraft, setLabelDraft] = useState(label)
  const now = useNow(REFRESH_MS)
  let labelQuery: Record<string, string> = {}
  let labelError: Error | undefined
  try {
    labelQuery = Object.fromEntries(Object.entries(parseLabelText(label)).map(([key, value]) => [`label.${key}`, value]))
  } catch (err) {
    labelError = err as Error
  }
  const list = useLoad(
    (signal) => {
      const started = performance.now()
      return api.get<TenantPage>('v1/tenants', { limit: PAGE_SIZE, cursor: pages.cursor, state, ...labelQuery }, signal).then((page) => ({
        ...page,
        ms: performance.now() - started,
      }))
    },
    [state, label, pages.cursor],
  )
  const fleet = useLoad((signal) => api.get<FleetSummary>('v1/fleet', undefined, signal), [])
  useEffect(() => pages.reset(), [state, label])
  const isFirstTick = useRef(true)
  useEffect(() => {
    if (isFirstTick.current) return void (isFirstTick.current = false)
    list.reload()
    fleet.reload()
  }, [now])
  const setFilter = (next: { state?: string; label?: string }) => replaceHash(tenantsHref({ state, label, ...next }))
  const refresh = () => {
    list.reload()
    fleet.reload()
  }
  const tenants = list.data?.tenants ?? []
  return (
    <div class="stack">
      <FleetStrip fleet={fleet.data} />
      <ErrorNote error={fleet.error} />
      <section class="card">
        <header class="card-header">
          <h1>Tenants</h1>
          <div class="toolbar">
            <select aria-label="Filter by state" name="state" value={state} onChange={(e) => setFilter({ state: e.currentTarget.value })}>
              <option value="">All states</option>
              {TENANT_STATES.map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
            </select>
            <form
              class="inline-form"
              onSubmit={(event) => {
                event.preventDefault()
                setFilter({ label: labelDraft.trim() })
              }}
            >
              <input
                aria-label="Filter by label"
                name="label"
                placeholder="label: team=ml"
                value={labelDraft}
                onInput={(e) => setLabelDraft(e.currentTarget.value)}
                spellcheck={false}
              />
            </form>
            <button type="button" class="button button-primary" onClick={() => setCreating(true)}>
              Create tenant
            </button>
          </div>
        </header>
        <ErrorNote error={labelError ?? list.error} />
        <div class="table-wrap">
          <table class="table" data-testid="tenants-table">
            <thead>
              <tr>
                <th>Tenant</th>
                <th>State</th>
                <th>App</th>
                <th>Durability</th>
                <th>Labels</th>
                <th>Last active</th>
                <th>Next wake</th>
                <th class="num">Worker pid</th>
                <th class="num">Epoch</th>
                <th class="num">Uptime</th>
                <th class="num">RSS</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {tenants.map((tenant) => (
                <TenantRow key={tenant.id} tenant={tenant} nowMs={now} onChanged={refresh} />
              ))}
              {!list.isLoading && tenants.length === 0 && (
                <tr>
                  <td colSpan={12} class="empty">
                    {state || label ? 'No tenant matches these filters.' : 'No tenants yet. Create one to start.'}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        <Pager
          page={pages.page}
          hasNext={Boolean(list.data?.nextCursor)}
          onPrevious={pages.previous}
          onNext={() => list.data?.nextCursor && pages.next(list.data.nextCursor)}
          summary={
            list.data
              ? `Page ${pages.page} · ${formatCount(tenants.length)} shown${list.data.total !== undefined ? ` of ${formatCount(list.data.total)}` : ''}`
              : 'Loading…'
          }
        />
      </section>
      {isCreating && <CreateTenantDialog onClose={() => setCreating(false)} onCreated={refresh} />}
    </div>
  )
}

function TenantRow(props: { tenant: TenantView; nowMs: number; onChanged: () => void }) {
  const { tenant, nowMs } = props
  const worker = tenant.worker
  const uptimeMs = worker?.startedAt ? nowMs - Date.parse(worker.startedAt) : null
  return (
    <tr data-tenant={tenant.id}>
      <td>
        <a class="mono strong" href={tenantHref(tenant.id)}>
          {tenant.id}
        </a>
      </td>
      <td>
        <StatusBadge value={tenant.state} />
        {tenant.failureReason && (
          <div class="muted small clip" title={tenant.failureReason}>
            {tenant.failureReason}
          </div>
        )}
      </td>
      <td>{tenant.app}</td>
      <td>{tenant.durability ?? '—'}</td>
      <td>
        <div class="labels">
          {Object.entries(tenant.labels).map(([key, value]) => (
            <span class="label" key={key} title={`${key}=${value}`}>
              {key}={value}
            </span>
          ))}
        </div>
      </td>
      <td title={formatTime(tenant.lastActiveAt)}>{formatRelative(tenant.lastActiveAt, nowMs)}</td>
      <td title={formatTime(tenant.nextWakeAt)}>{formatRelative(tenant.nextWakeAt, nowMs)}</td>
      <td class="num mono">{worker?.pid ?? '—'}</td>
      <td class="num mono">{worker?.epoch ?? '—'}</td>
      <td class="num">{uptimeMs === null ? '—' : formatDuration(uptimeMs)}</td>
      <td class="num">{formatBytes(worker?.rssBytes)}</td>
      <td class="row-actions">
        <TenantActions tenant={tenant} onChanged={props.onChanged} isCompact />
      </td>
    </tr>
  )
}
