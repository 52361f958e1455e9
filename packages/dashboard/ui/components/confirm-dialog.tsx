import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { ErrorNote } from './error-note.js'
import { Modal } from './modal.js'

/**
 * Asks before an action that destroys or interrupts something. With `typeToConfirm`, the
 * button stays disabled until that text (e.g. the tenant's id) is typed.
 */
export function ConfirmDialog(props: {
  title: string
  children: ComponentChildren
  confirmLabel: string
  isDanger?: boolean
  typeToConfirm?: string
  onConfirm: () => Promise<unknown>
  onClose: () => void
}) {
  const [typed, setTyped] = useState('')
  const [isBusy, setBusy] = useState(false)
  const [error, setError] = useState<Error | undefined>()
  const isReady = props.typeToConfirm === undefined || typed === props.typeToConfirm
  const confirm = async (event: Event) => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      await props.onConfirm()
      props.onClose()
    } catch (err) {
      setError(err as Error)
      setBusy(false)
    }
  }
  return (
    <Modal title={props.title} onClose={props.onClose}>
      <form onSubmit={confirm}>
        <div class="modal-text">{props.children}</div>
        {props.typeToConfirm !== undefined && (
          <label class="field">
            <span>
              Type <code>{props.typeToConfirm}</code> to confirm
            </span>
            <input value={typed} onInput={(event) => setTyped(event.currentTarget.value)} autoFocus spellcheck={false} />
          </label>
        )}
        <ErrorNote error={error} />
        <footer class="modal-actions">
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class={props.isDanger ? 'button button-danger' : 'button button-primary'} disabled={!isReady || isBusy}>
            {isBusy ? 'Working…' : props.confirmLabel}
          </button>
        </footer>
      </form>
    </Modal>
  )
}
