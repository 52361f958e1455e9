import { useCallback, useState } from 'preact/hooks'

/** Cursor pagination state: the cursors of the pages before this one, so "previous" works too. */
export interface CursorPages {
  cursor: string | undefined
  page: number
  next: (nextCursor: string) => void
  previous: () => void
  reset: () => void
}

export function useCursorPages(): CursorPages {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined])
  const next = useCallback((nextCursor: string) => setStack((pages) => [...pages, nextCursor]), [])
  const previous = useCallback(() => setStack((pages) => (pages.length > 1 ? pages.slice(0, -1) : pages)), [])
  const reset = useCallback(() => setStack([undefined]), [])
  return { cursor: stack[stack.length - 1], page: stack.length, next, previous, reset }
}
