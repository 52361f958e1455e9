import { useState } from 'preact/hooks'
import { Api, ApiError } from '../api.js'
import type { Caller } from '../api-types.js'
import { ErrorNote } from '../components/error-note.js'

/** Sign in with an admin or tenant token; a wrong token gets a clear message. */
export function SignInPage(props: { onSignedIn: (token: string, caller: Caller) => void }) {
  const [token, setToken] = useState('')
  const [error, setError] = useState<Error | undefined>()
  const [isBusy, setBusy] = useState(false)
  const submit = async (event: Event) => {
    event.preventDefault()
    const trimmed = token.trim()
    if (!trimmed) return
    setBusy(true)
    setError(undefined)
    try {
      props.onSignedIn(trimmed, await new Api(trimmed).whoami())
    } catch (err) {
      const isRejected = err instanceof ApiError && (err.status === 401 || err.status === 403)
      setError(isRejected ? new ApiError('UNAUTHENTICATED', 401, 'That token was not accepted: check it and try again.') : (err as Error))
      setBusy(false)
    }
  }
  return (
    <div class="signin">
      <form class="signin-card" onSubmit={submit}>
        <div class="brand brand-large">
          <span class="brand-mark" aria-hidden="true" />
          litecell
        </div>
        <p class="muted">
          Sign in with the admin token (printed by <code>litecell serve</code>, saved in <code>.litecell/admin-token</code>) or a
          tenant's token. It is kept in this tab only.
        </p>
        <label class="field">
          <span>Token</span>
          <input
            type="password"
            name="token"
            autoComplete="off"
            spellcheck={false}
            placeholder="lca_… or lct_…"
            value={token}
            onInput={(event) => setToken(event.currentTarget.value)}
            autoFocus
          />
        </label>
        <ErrorNote error={error} />
        <button type="submit" class="button button-primary button-block" disabled={isBusy || !token.trim()}>
          {isBusy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  )
}
