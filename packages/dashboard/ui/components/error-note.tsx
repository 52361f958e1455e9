import type { ApiError } from '../api.js'

/** An API error as a person reads it: the message, with the stable code beside it. */
export function ErrorNote(props: { error: Error | undefined; class?: string }) {
  if (!props.error) return null
  const code = (props.error as Partial<ApiError>).code
  return (
    <div class={`error-note ${props.class ?? ''}`} role="alert">
      {code && <span class="error-code">{code}</span>}
      <span>{props.error.message}</span>
    </div>
  )
}
