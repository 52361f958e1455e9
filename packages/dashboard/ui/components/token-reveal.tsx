import { useState } from 'preact/hooks'

/** A token shown this once, with a copy button. */
export function TokenReveal(props: { token: string }) {
  const [copied, setCopied] = useState(false)
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.token)
      setCopied(true)
    } catch {
      // No clipboard access (an insecure origin): select the text for a manual copy.
      const field = document.querySelector<HTMLInputElement>('[data-testid="new-token"]')
      field?.select()
    }
  }
  return (
    <div class="token-reveal">
      <p>
        This is the tenant's token. <strong>It is shown only now</strong>: the server keeps only its hash.
      </p>
      <div class="token-row">
        <input class="mono" data-testid="new-token" readOnly value={props.token} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" class="button" onClick={copy}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  )
}
