/** A run status or tenant state as a coloured pill (the text is the value itself). */
export function StatusBadge(props: { value: string }) {
  return <span class={`badge badge-${props.value.replace(/[^a-z]/g, '')}`}>{props.value}</span>
}
