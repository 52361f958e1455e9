import type { ApiError } from '../api.js'

/** An API error as a person reads it: the server's message, with the stable code beside it. */
export function ErrorNote(props: { error: Error | undefined; class?: string }) {
  if (!props.error) return null
  const { code, detail } = props.error as Partial<ApiError>
  return (
    <div class={`error-note ${props.class ?? ''}`} role="alert">
      {code && <span class="error-code">{code}</span>}
      <span>{detail || props.error.message}</span>
    </div>
  )
}
