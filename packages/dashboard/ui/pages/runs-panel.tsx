import { useEffect, useRef, useState } from 'preact/hooks'
import { tenantPath } from '../api.js'
import type { RunPage, RunStatus, RunStatusEvent } from '../api-types.js'
import { RUN_STATUSES } from '../api-types.js'
import { ErrorNote } from '../components/error-note.js'
import { Pager } from '../components/pager.js'
import { StartRunDialog } from '../components/start-run-dialog.js'
import { StatusBadge } from '../components/status-badge.js'
import { formatDuration, formatRelative, formatTime } from '../format.js'
import { replaceHash, runHref, tenantHref } from '../route.js'
import { followRuns, type StreamState } from '../run-stream.js'
import { useSession } from '../session-context.js'
import { useCursorPages } from '../use-cursor-pages.js'
import { useLoad, useNow, useThrottled } from '../use-load.js'

/** Runs per page. */
const PAGE_SIZE = 50
/** Least time between two reloads caused by live events. */
const RELOAD_THROTTLE_MS = 1000

/**
 * A tenant's runs, newest first, filtered by status and workflow and paginated with the API's
 * cursor. Statuses change live: the run stream updates rows in place, and runs that appear
 * (or leave a filter) reload the page, at most once a second.
 */
export function RunsPanel(props: { tenantId: string; query: URLSearchParams; onLoaded?: () => void }) {
  const { api } = useSession()
  const status = props.query.get('status') ?? ''
  const workflow = props.query.get('workflow') ?? ''
  const pages = useCursorPages()
  const [workflowDraft, setWorkflowDraft] = useState(workflow)
  const [isStarting, setStarting] = useState(false)
  const [live, setLive] = useState<Record<string, RunStatusEvent>>({})
  const [streamState, setStreamState] = useState<StreamState>('connecting')
  const now = useNow(1000)
  const list = useLoad(
    (signal) => api.get<RunPage>(tenantPath(props.tenantId, '/runs'), { limit: PAGE_SIZE, cursor: pages.cursor, status, workflow }, signal),
    [props.tenantId, status, workflow, pages.cursor],
  )
  useEffect(() => pages.reset(), [status, workflow])
  useEffect(() => setLive({}), [list.data])
  useEffect(() => {
    if (!list.isLoading) props.onLoaded?.()
  }, [list.isLoading])
  // A list request wakes a hibernated tenant: never reload because of the last events of a
  // worker that is stopping (the stream says `detached` by the time the reload would run).
  const streamStateNow = useRef(streamState)
  streamStateNow.current = streamState
  const reload = useThrottled(() => streamStateNow.current !== 'asleep' && list.reload(), RELOAD_THROTTLE_MS)

  // Events arrive in bursts (a sweep fans out hundreds of runs): apply them once per frame.
  const pending = useRef<RunStatusEvent[]>([])
  const shown = useRef(new Set<string>())
  shown.current = new Set(list.data?.runs.map((run) => run.runId))
  const context = useRef({ isFiltered: false, isFirstPage: true })
  context.current = { isFiltered: Boolean(status || workflow), isFirstPage: pages.page === 1 }
  useEffect(() => {
    let frame = 0
    const flush = () => {
      frame = 0
      const events = pending.current
      pending.current = []
      setLive((previous) => {
        const next = { ...previous }
        for (const event of events) next[event.runId] = event
        return next
      })
    }
    return followRuns(api, props.tenantId, {
      onStatus(event) {
        const isShown = shown.current.has(event.runId)
        if (isShown) {
          pending.current.push(event)
          frame ||= requestAnimationFrame(flush)
        }
        if ((!isShown && context.current.isFirstPage) || context.current.isFiltered) reload()
      },
      onResync: reload,
      onState: setStreamState,
    })
  }, [api, props.tenantId])

  const setFilter = (next: { status?: string; workflow?: string }) =>
    replaceHash(tenantHref(props.tenantId, 'runs', { status, workflow, ...next }))
  const runs = list.data?.runs ?? []
  return (
    <section class="card">
      <header class="card-header">
        <h2>
          Runs <LiveIndicator state={streamState} />
        </h2>
        <div class="toolbar">
          <select aria-label="Filter by status" name="status" value={status} onChange={(e) => setFilter({ status: e.currentTarget.value })}>
            <option value="">All statuses</option>
            {RUN_STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
          <form
            class="inline-form"
            onSubmit={(event) => {
              event.preventDefault()
              setFilter({ workflow: workflowDraft.trim() })
            }}
          >
            <input
              aria-label="Filter by workflow"
              name="workflow"
              placeholder="workflow"
              value={workflowDraft}
              onInput={(e) => setWorkflowDraft(e.currentTarget.value)}
              spellcheck={false}
            />
          </form>
          <button type="button" class="button button-primary" onClick={() => setStarting(true)}>
            Start run
          </button>
        </div>
      </header>
      <ErrorNote error={list.error} />
      <div class="table-wrap">
        <table class="table" data-testid="runs-table">
          <thead>
            <tr>
              <th>Run</th>
              <th>Workflow</th>
              <th>Status</th>
              <th>Queue</th>
              <th>Created</th>
              <th class="num">Duration</th>
              <th>Parent</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => {
              const event = live[run.runId]
              const runStatus: RunStatus = event?.status ?? run.status
              const updatedAt = event?.at ?? run.updatedAt
              const isDone = runStatus === 'succeeded' || runStatus === 'failed' || runStatus === 'cancelled'
              const durationMs = (isDone ? Date.parse(updatedAt) : now) - Date.parse(run.createdAt)
              return (
                <tr key={run.runId} data-run={run.runId} data-status={runStatus}>
                  <td>
                    <a class="mono" href={runHref(props.tenantId, run.runId)}>
                      {run.runId}
                    </a>
                  </td>
                  <td>{run.workflow}</td>
                  <td>
                    <StatusBadge value={runStatus} />
                  </td>
                  <td class="muted">{run.queue ?? 'default'}</td>
                  <td title={formatTime(run.createdAt)}>{formatRelative(run.createdAt, now)}</td>
                  <td class="num">{formatDuration(Math.max(0, durationMs))}</td>
                  <td>
                    {run.parentRunId ? (
                      <a class="mono muted" href={runHref(props.tenantId, run.parentRunId)} title={run.parentRunId}>
                        {shortId(run.parentRunId)}
                      </a>
                    ) : (
                      ''
                    )}
                  </td>
                </tr>
              )
            })}
            {!list.isLoading && runs.length === 0 && (
              <tr>
                <td colSpan={7} class="empty">
                  {status || workflow ? 'No run matches these filters.' : 'No runs yet.'}
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
        summary={list.data ? `Page ${pages.page} · ${runs.length} runs` : 'Loading…'}
      />
      {isStarting && <StartRunDialog tenantId={props.tenantId} onClose={() => setStarting(false)} onStarted={list.reload} />}
    </section>
  )
}

function LiveIndicator(props: { state: StreamState }) {
  const text = { connecting: 'connecting', live: 'live', asleep: 'tenant asleep', retrying: 'reconnecting' }[props.state]
  return (
    <span class={`live live-${props.state}`} data-testid="live" title="Status updates over Server-Sent Events">
      <span class="dot" />
      {text}
    </span>
  )
}

/** The start and end of a long id, e.g. `01a233d2…13d84e` (the full id is in the title). */
function shortId(id: string): string {
  return id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id
}
