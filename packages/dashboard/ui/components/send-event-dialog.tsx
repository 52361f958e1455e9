import { useState } from 'preact/hooks'
import { useSession } from '../session-context.js'
import { ErrorNote } from './error-note.js'
import { Modal } from './modal.js'

/** Delivers an event (name + JSON payload) to a run's `ctx.waitForEvent`. */
export function SendEventDialog(props: { runPath: string; onClose: () => void; onSent: () => void }) {
  const { api } = useSession()
  const [name, setName] = useState('')
  const [payload, setPayload] = useState('null')
  const [error, setError] = useState<Error | undefined>()
  const submit = async (event: Event) => {
    event.preventDefault()
    setError(undefined)
    try {
      const parsed: unknown = payload.trim() ? JSON.parse(payload) : null
      await api.post(`${props.runPath}/events`, { name: name.trim(), payload: parsed })
      props.onSent()
      props.onClose()
    } catch (err) {
      setError(err as Error)
    }
  }
  return (
    <Modal title="Send an event" onClose={props.onClose}>
      <form onSubmit={submit} class="form-grid">
        <label class="field">
          <span>Event name</span>
          <input name="event-name" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="approve" spellcheck={false} autoFocus />
        </label>
        <label class="field">
          <span>Payload (JSON)</span>
          <textarea name="payload" class="mono" rows={4} value={payload} onInput={(e) => setPayload(e.currentTarget.value)} spellcheck={false} />
        </label>
        <ErrorNote error={error} />
        <footer class="modal-actions">
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={!name.trim()}>
            Send
          </button>
        </footer>
      </form>
    </Modal>
  )
}
