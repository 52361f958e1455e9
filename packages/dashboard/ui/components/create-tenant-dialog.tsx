import { useState } from 'preact/hooks'
import type { CreatedTenant } from '../api-types.js'
import { tenantHref } from '../route.js'
import { useSession } from '../session-context.js'
import { ErrorNote } from './error-note.js'
import { Modal } from './modal.js'
import { TokenReveal } from './token-reveal.js'

/** Parses `team=ml, owner=ada` into labels; throws on a pair without `=`. */
export function parseLabelText(text: string): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const pair of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new Error(`Labels are key=value pairs separated by commas; "${pair}" has no key=value`)
    labels[pair.slice(0, at).trim()] = pair.slice(at + 1).trim()
  }
  return labels
}

/** Creates a tenant, then shows its token once (with a copy button). */
export function CreateTenantDialog(props: { onClose: () => void; onCreated: () => void }) {
  const { api } = useSession()
  const [id, setId] = useState('')
  const [app, setApp] = useState('')
  const [labels, setLabels] = useState('')
  const [durability, setDurability] = useState('')
  const [created, setCreated] = useState<CreatedTenant | undefined>()
  const [error, setError] = useState<Error | undefined>()
  const [isBusy, setBusy] = useState(false)
  const submit = async (event: Event) => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const body: Record<string, unknown> = {}
      if (id.trim()) body.id = id.trim()
      if (app.trim()) body.app = app.trim()
      if (labels.trim()) body.labels = parseLabelText(labels)
      if (durability) body.durability = durability
      setCreated(await api.post<CreatedTenant>('v1/tenants', body))
      props.onCreated()
    } catch (err) {
      setError(err as Error)
    } finally {
      setBusy(false)
    }
  }
  if (created) {
    return (
      <Modal title={`Tenant ${created.id} created`} onClose={props.onClose}>
        <TokenReveal token={created.token} />
        <footer class="modal-actions">
          <a class="button" href={tenantHref(created.id)} onClick={props.onClose}>
            Open {created.id}
          </a>
          <button type="button" class="button button-primary" onClick={props.onClose}>
            Done
          </button>
        </footer>
      </Modal>
    )
  }
  return (
    <Modal title="Create a tenant" onClose={props.onClose}>
      <form onSubmit={submit} class="form-grid">
        <label class="field">
          <span>Id</span>
          <input name="id" value={id} onInput={(e) => setId(e.currentTarget.value)} placeholder="generated if empty" spellcheck={false} autoFocus />
          <small class="muted">Lowercase letters, digits and dashes.</small>
        </label>
        <label class="field">
          <span>App</span>
          <input name="app" value={app} onInput={(e) => setApp(e.currentTarget.value)} placeholder="default" spellcheck={false} />
        </label>
        <label class="field">
          <span>Labels</span>
          <input name="labels" value={labels} onInput={(e) => setLabels(e.currentTarget.value)} placeholder="team=ml, owner=ada" spellcheck={false} />
        </label>
        <label class="field">
          <span>Durability</span>
          <select name="durability" value={durability} onChange={(e) => setDurability(e.currentTarget.value)}>
            <option value="">server default</option>
            <option value="local">local</option>
            <option value="replicated">replicated</option>
          </select>
        </label>
        <ErrorNote error={error} />
        <footer class="modal-actions">
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={isBusy}>
            {isBusy ? 'Creating…' : 'Create tenant'}
          </button>
        </footer>
      </form>
    </Modal>
  )
}
