import { useState } from 'preact/hooks'
import { tenantPath } from '../api.js'
import type { CreatedTenant, RestorePoints, TenantDetail } from '../api-types.js'
import { formatBytes, formatTime } from '../format.js'
import { tenantHref } from '../route.js'
import { useSession } from '../session-context.js'
import { useLoad } from '../use-load.js'
import { ErrorNote } from './error-note.js'
import { Modal } from './modal.js'
import { TokenReveal } from './token-reveal.js'

/** The times a fork can target, newest first: each generation's latest state and each snapshot. */
export function restoreChoices(points: RestorePoints): { at: string; label: string }[] {
  const choices: { at: string; label: string }[] = []
  for (const generation of points.generations) {
    choices.push({ at: generation.updatedAt, label: `${formatTime(generation.updatedAt)} · latest of generation ${generation.id.slice(0, 8)}` })
    for (const snapshot of generation.snapshots) {
      choices.push({ at: snapshot.createdAt, label: `${formatTime(snapshot.createdAt)} · snapshot (${formatBytes(snapshot.sizeBytes)})` })
    }
  }
  return choices.sort((a, b) => b.at.localeCompare(a.at))
}

/** Forks a tenant now, or at a time picked from its restore points. */
export function ForkDialog(props: { tenantId: string; onClose: () => void; onForked: () => void }) {
  const { api } = useSession()
  const detail = useLoad((signal) => api.get<TenantDetail>(tenantPath(props.tenantId), undefined, signal), [props.tenantId])
  const [id, setId] = useState(`${props.tenantId}-fork`)
  const [mode, setMode] = useState<'now' | 'at'>('now')
  const [at, setAt] = useState('')
  const [created, setCreated] = useState<CreatedTenant | undefined>()
  const [error, setError] = useState<Error | undefined>()
  const [isBusy, setBusy] = useState(false)
  const replica = detail.data?.replica
  const points = replica && 'generations' in replica ? replica : undefined
  const choices = points ? restoreChoices(points) : []
  const submit = async (event: Event) => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const body: Record<string, string> = { id: id.trim() }
      if (mode === 'at') body.at = at || choices[0]?.at || ''
      setCreated(await api.post<CreatedTenant>(tenantPath(props.tenantId, '/fork'), body))
      props.onForked()
    } catch (err) {
      setError(err as Error)
    } finally {
      setBusy(false)
    }
  }
  if (created) {
    return (
      <Modal title={`Fork ${created.id} created`} onClose={props.onClose}>
        <TokenReveal token={created.token} />
        <footer class="modal-actions">
          <a class="button button-primary" href={tenantHref(created.id)} onClick={props.onClose}>
            Open {created.id}
          </a>
        </footer>
      </Modal>
    )
  }
  return (
    <Modal title={`Fork ${props.tenantId}`} onClose={props.onClose}>
      <form onSubmit={submit} class="form-grid">
        <label class="field">
          <span>New tenant id</span>
          <input name="fork-id" value={id} onInput={(e) => setId(e.currentTarget.value)} spellcheck={false} autoFocus />
        </label>
        <fieldset class="field">
          <legend>From</legend>
          <label class="radio">
            <input type="radio" name="mode" checked={mode === 'now'} onChange={() => setMode('now')} /> its state now
          </label>
          <label class="radio">
            <input type="radio" name="mode" checked={mode === 'at'} onChange={() => setMode('at')} disabled={choices.length === 0} /> a restore point
          </label>
          {mode === 'at' && (
            <select name="at" value={at || choices[0]?.at} onChange={(e) => setAt(e.currentTarget.value)}>
              {choices.map((choice) => (
                <option key={choice.label} value={choice.at}>
                  {choice.label}
                </option>
              ))}
            </select>
          )}
          {detail.isLoading && <small class="muted">Listing restore points…</small>}
          {replica && 'error' in replica && <small class="muted">Restore points unavailable: {replica.error}</small>}
          {points && choices.length === 0 && <small class="muted">No restore points yet (nothing replicated).</small>}
        </fieldset>
        <ErrorNote error={error} />
        <footer class="modal-actions">
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={isBusy || !id.trim()}>
            {isBusy ? 'Forking…' : 'Fork'}
          </button>
        </footer>
      </form>
    </Modal>
  )
}
