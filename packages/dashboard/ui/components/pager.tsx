/** Previous / next buttons for cursor pagination (the API's opaque `nextCursor`). */
export function Pager(props: { page: number; hasNext: boolean; onPrevious: () => void; onNext: () => void; summary?: string }) {
  return (
    <div class="pager">
      <span class="muted">{props.summary ?? `Page ${props.page}`}</span>
      <button type="button" class="button button-small" disabled={props.page <= 1} onClick={props.onPrevious}>
        ← Previous
      </button>
      <button type="button" class="button button-small" disabled={!props.hasNext} onClick={props.onNext}>
        Next →
      </button>
    </div>
  )
}
