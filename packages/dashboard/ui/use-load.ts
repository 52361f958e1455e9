import { useCallback, useEffect, useRef, useState } from 'preact/hooks'

/** The state of data loaded from the API. */
export interface Loaded<T> {
  data: T | undefined
  error: Error | undefined
  isLoading: boolean
  /** Loads again (keeps showing the old data meanwhile). */
  reload: () => void
}

/**
 * Loads `load()` now and whenever `deps` change; an answer that arrives after a newer request
 * started is dropped, so fast filter changes never show a stale page.
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<Error | undefined>(undefined)
  const [isLoading, setLoading] = useState(true)
  const [generation, setGeneration] = useState(0)
  const latest = useRef(0)
  useEffect(() => {
    const controller = new AbortController()
    const ticket = ++latest.current
    setLoading(true)
    load(controller.signal).then(
      (value) => {
        if (ticket !== latest.current) return
        setData(value)
        setError(undefined)
        setLoading(false)
      },
      (err: unknown) => {
        if (ticket !== latest.current || (err as Error).name === 'AbortError') return
        setError(err as Error)
        setLoading(false)
      },
    )
    return () => controller.abort()
  }, [...deps, generation])
  const reload = useCallback(() => setGeneration((n) => n + 1), [])
  return { data, error, isLoading, reload }
}

/** Calls `fn` at most once per `ms` (trailing), for bursts of live events. */
export function useThrottled(fn: () => void, ms: number): () => void {
  const timer = useRef<number | undefined>(undefined)
  const latest = useRef(fn)
  latest.current = fn
  useEffect(() => () => clearTimeout(timer.current), [])
  return useCallback(() => {
    if (timer.current !== undefined) return
    timer.current = setTimeout(() => {
      timer.current = undefined
      latest.current()
    }, ms) as unknown as number
  }, [ms])
}

/** A clock that ticks every `ms`, for "5 s ago" labels and running bars. */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(timer)
  }, [ms])
  return now
}
