import { useEffect, useRef, useState } from 'preact/hooks'
import { tenantPath } from '../api.js'
import type { RunDetail, StepDetail, StepRecord } from '../api-types.js'
import { ConfirmDialog } from '../components/confirm-dialog.js'
import { ErrorNote } from '../components/error-note.js'
import { JsonBlock } from '../components/json-block.js'
import { SendEventDialog } from '../components/send-event-dialog.js'
import { StatusBadge } from '../components/status-badge.js'
import { StepTimeline } from '../components/step-timeline.js'
import { formatDuration, formatTime } from '../format.js'
import { runHref, tenantHref, tenantsHref } from '../route.js'
import { followRuns } from '../run-stream.js'
import { useSession } from '../session-context.js'
import { useLoad, useNow, useThrottled } from '../use-load.js'

/** Least time between two reloads caused by live events. */
const LIVE_RELOAD_MS = 500

/**
 * One run: status, input, output or error, the step timeline (a step's recorded output on
 * click), links to its parent and children, and the actions cancel, resume, send event and
 * fork from a step. It follows the run stream, so it updates while the run goes on.
 */
export function RunPage(props: { tenantId: string; runId: string }) {
  const { api, isAdmin } = useSession()
  const path = tenantPath(props.tenantId, `/runs/${encodeURIComponent(props.runId)}`)
  const run = useLoad((signal) => api.get<RunDetail>(path, undefined, signal), [path])
  const [selectedSeq, setSelectedSeq] = useState<number | null>(null)
  const [dialog, setDialog] = useState<'cancel' | 'event' | null>(null)
  const [actionError, setActionError] = useState<Error | undefined>()
  const detail = run.data
  const isDone = detail ? ['succeeded', 'failed', 'cancelled'].includes(detail.status) : false
  const now = useNow(isDone ? 60_000 : 500)
  // Reading a run wakes a hibernated tenant: skip reloads once the stream says it went to sleep.
  const isAsleep = useRef(false)
  const reload = useThrottled(() => !isAsleep.current && run.reload(), LIVE_RELOAD_MS)
  // While the run goes on, any change in the tenant may be one of its children starting;
  // once it ended, only its own and its children's changes (a resume, a late child) matter.
  const related = useRef({ ids: new Set<string>(), isDone: false })
  related.current = { ids: new Set([props.runId, ...(detail?.steps.map((step) => step.childRunId ?? '') ?? [])]), isDone }
  useEffect(
    () =>
      followRuns(api, props.tenantId, {
        onStatus: (event) => {
          if (!related.current.isDone || related.current.ids.has(event.runId)) reload()
        },
        onResync: reload,
        onState: (state) => (isAsleep.current = state === 'asleep'),
      }),
    [api, props.tenantId, props.runId],
  )
  const act = async (action: () => Promise<unknown>) => {
    setActionError(undefined)
    try {
      await action()
      run.reload()
    } catch (err) {
      setActionError(err as Error)
    }
  }
  const children = detail ? [...new Set(detail.steps.map((step) => step.childRunId).filter(Boolean) as string[])] : []
  const selected = detail?.steps.find((step) => step.seq === selectedSeq)
  return (
    <div class="stack">
      <nav class="breadcrumb">
        {isAdmin && <a href={tenantsHref()}>Tenants</a>}
        {isAdmin && <span class="sep">/</span>}
        <a class="mono" href={tenantHref(props.tenantId)}>
          {props.tenantId}
        </a>
        <span class="sep">/</span>
        <span class="mono">{props.runId}</span>
      </nav>
      <ErrorNote error={run.error} />
      {detail && (
        <section class="card">
          <div class="run-header">
            <div>
              <div class="run-title">
                <h1>{detail.workflow}</h1>
                <StatusBadge value={detail.status} />
              </div>
              <dl class="facts">
                <div class="fact">
                  <dt>Run</dt>
                  <dd class="mono">{detail.runId}</dd>
                </div>
                <div class="fact">
                  <dt>Created</dt>
                  <dd>{formatTime(detail.createdAt)}</dd>
                </div>
                <div class="fact">
                  <dt>Duration</dt>
                  <dd>{formatDuration((isDone ? Date.parse(detail.updatedAt) : now) - Date.parse(detail.createdAt))}</dd>
                </div>
                <div class="fact">
                  <dt>Queue</dt>
                  <dd>{detail.queue ?? 'default'}</dd>
                </div>
                {detail.priority !== undefined && (
                  <div class="fact">
                    <dt>Priority</dt>
                    <dd>{detail.priority}</dd>
                  </div>
                )}
                {detail.partitionKey !== undefined && (
                  <div class="fact">
                    <dt>Partition</dt>
                    <dd class="mono">{detail.partitionKey}</dd>
                  </div>
                )}
                {detail.deadlineAt !== undefined && (
                  <div class="fact">
                    <dt>Deadline</dt>
                    <dd>{formatTime(detail.deadlineAt)}</dd>
                  </div>
                )}
                {detail.tags !== undefined && (
                  <div class="fact">
                    <dt>Tags</dt>
                    <dd class="mono">
                      {Object.entries(detail.tags)
                        .map(([key, value]) => `${key}=${value}`)
                        .join(', ')}
                    </dd>
                  </div>
                )}
                {detail.parentRunId && (
                  <div class="fact">
                    <dt>Parent</dt>
                    <dd>
                      <a class="mono" href={runHref(props.tenantId, detail.parentRunId)}>
                        {detail.parentRunId}
                      </a>
                    </dd>
                  </div>
                )}
              </dl>
            </div>
            <div class="actions">
              {!isDone && (
                <button type="button" class="button" onClick={() => setDialog('event')}>
                  Send event…
                </button>
              )}
              {!isDone && (
                <button type="button" class="button button-danger-outline" onClick={() => setDialog('cancel')}>
                  Cancel run…
                </button>
              )}
              {(detail.status === 'failed' || detail.status === 'cancelled') && (
                <button type="button" class="button button-primary" onClick={() => act(() => api.post(`${path}/resume`))}>
                  Resume
                </button>
              )}
            </div>
          </div>
          <ErrorNote error={actionError} />
          <div class="io-grid">
            <div>
              <h3>Input</h3>
              <JsonBlock value={detail.input} />
            </div>
            <div>
              <h3>{detail.error ? 'Error' : 'Output'}</h3>
              {detail.error ? (
                <div class="run-error" data-testid="run-error">
                  <strong>{detail.error.name}</strong>
                  {detail.error.code && <span class="error-code">{detail.error.code}</span>}
                  <pre>{detail.error.message}</pre>
                </div>
              ) : (
                <div data-testid="run-output">
                  <JsonBlock value={detail.output} empty={isDone ? 'null' : 'not finished yet'} />
                </div>
              )}
            </div>
          </div>
        </section>
      )}
      {detail && (
        <section class="card">
          <header class="card-header">
            <h2>
              Steps <span class="muted">· {detail.steps.length}</span>
            </h2>
            {children.length > 0 && (
              <div class="children">
                <span class="muted">Children:</span>
                {children.map((child) => (
                  <a class="mono chip" key={child} href={runHref(props.tenantId, child)} data-testid="child-link">
                    {child}
                  </a>
                ))}
              </div>
            )}
          </header>
          <StepTimeline
            run={detail}
            nowMs={now}
            selectedSeq={selectedSeq}
            onSelect={setSelectedSeq}
            detail={selected && <StepPanel tenantId={props.tenantId} runPath={path} step={selected} onClose={() => setSelectedSeq(null)} />}
          />
        </section>
      )}
      {dialog === 'cancel' && (
        <ConfirmDialog
          title="Cancel this run?"
          confirmLabel="Cancel run"
          isDanger
          onClose={() => setDialog(null)}
          onConfirm={() => act(() => api.post(`${path}/cancel`))}
        >
          The run stops at its next durable point and is marked cancelled. A cancelled run can be resumed later.
        </ConfirmDialog>
      )}
      {dialog === 'event' && <SendEventDialog runPath={path} onClose={() => setDialog(null)} onSent={run.reload} />}
    </div>
  )
}

/** One step's record and its recorded output or error (loaded on click), with "fork from here". */
function StepPanel(props: { tenantId: string; runPath: string; step: StepRecord; onClose: () => void }) {
  const { api } = useSession()
  const { step } = props
  const detail = useLoad(
    (signal) => api.get<StepDetail>(`${props.runPath}/steps/${step.seq}`, undefined, signal),
    [props.runPath, step.seq, step.status],
  )
  const [forkError, setForkError] = useState<Error | undefined>()
  const fork = async () => {
    setForkError(undefined)
    try {
      const forked = await api.post<{ runId: string }>(`${props.runPath}/fork`, { fromStep: step.seq })
      location.hash = runHref(props.tenantId, forked.runId)
    } catch (err) {
      setForkError(err as Error)
    }
  }
  return (
    <aside class="step-panel" data-testid="step-panel">
      <header class="card-header">
        <h3>
          #{step.seq} <span class="mono">{step.name}</span> <span class="muted">({step.kind})</span> <StatusBadge value={step.status} />
        </h3>
        <div class="actions">
          <button type="button" class="button button-small" onClick={fork} title="A new run that reuses the recorded steps before this one">
            Fork from this step
          </button>
          <button type="button" class="icon-button" aria-label="Close step" onClick={props.onClose}>
            ×
          </button>
        </div>
      </header>
      <ErrorNote error={forkError} />
      <dl class="facts">
        <div class="fact">
          <dt>Started</dt>
          <dd>{formatTime(step.startedAt)}</dd>
        </div>
        <div class="fact">
          <dt>Ended</dt>
          <dd>{formatTime(step.endedAt)}</dd>
        </div>
        <div class="fact">
          <dt>Attempts</dt>
          <dd>{step.attempts}</dd>
        </div>
        {step.childRunId && (
          <div class="fact">
            <dt>Child run</dt>
            <dd>
              <a class="mono" href={runHref(props.tenantId, step.childRunId)}>
                {step.childRunId}
              </a>
            </dd>
          </div>
        )}
      </dl>
      <ErrorNote error={detail.error} />
      {detail.data && (
        <div class="io-grid">
          <div>
            <h4>{detail.data.error ? 'Error' : 'Recorded output'}</h4>
            {detail.data.error ? <pre class="json">{`${detail.data.error.name}: ${detail.data.error.message}`}</pre> : <JsonBlock value={detail.data.output} />}
          </div>
        </div>
      )}
    </aside>
  )
}
