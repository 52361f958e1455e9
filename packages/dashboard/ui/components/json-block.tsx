import { formatJson } from '../format.js'

/** A JSON value as preformatted text: tenant data is never interpreted as markup. */
export function JsonBlock(props: { value: unknown; empty?: string }) {
  if (props.value === null || props.value === undefined) return <p class="muted">{props.empty ?? 'null'}</p>
  return <pre class="json">{formatJson(props.value)}</pre>
}
