import { useState } from 'preact/hooks'
import { tenantPath } from '../api.js'
import { useSession } from '../session-context.js'
import { ErrorNote } from './error-note.js'
import { Modal } from './modal.js'

/** Starts a run of a workflow with a JSON input. */
export function StartRunDialog(props: { tenantId: string; onClose: () => void; onStarted: () => void }) {
  const { api } = useSession()
  const [workflow, setWorkflow] = useState('')
  const [input, setInput] = useState('{}')
  const [error, setError] = useState<Error | undefined>()
  const [isBusy, setBusy] = useState(false)
  const submit = async (event: Event) => {
    event.preventDefault()
    setError(undefined)
    let parsed: unknown
    try {
      parsed = input.trim() ? JSON.parse(input) : null
    } catch (err) {
      setError(new Error(`The input is not JSON: ${(err as Error).message}`))
      return
    }
    setBusy(true)
    try {
      // The list shows the new run (and follows it live); its link opens it.
      await api.post<{ runId: string }>(tenantPath(props.tenantId, '/runs'), { workflow: workflow.trim(), input: parsed })
      props.onStarted()
      props.onClose()
    } catch (err) {
      setError(err as Error)
      setBusy(false)
    }
  }
  return (
    <Modal title="Start a run" onClose={props.onClose}>
      <form onSubmit={submit} class="form-grid">
        <label class="field">
          <span>Workflow</span>
          <input name="workflow" value={workflow} onInput={(e) => setWorkflow(e.currentTarget.value)} placeholder="train" spellcheck={false} autoFocus />
        </label>
        <label class="field">
          <span>Input (JSON)</span>
          <textarea name="input" class="mono" rows={6} value={input} onInput={(e) => setInput(e.currentTarget.value)} spellcheck={false} />
        </label>
        <ErrorNote error={error} />
        <footer class="modal-actions">
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={isBusy || !workflow.trim()}>
            {isBusy ? 'Starting…' : 'Start'}
          </button>
        </footer>
      </form>
    </Modal>
  )
}
