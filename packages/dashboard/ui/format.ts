/** Formatting for people: times relative to now, durations, sizes. Pure functions. */

const UNITS: [number, string][] = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'min'],
  [1000, 's'],
]

/** `340 ms`, `2.5 s`, `3 min 20 s`, `2 h 5 min`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—'
  const abs = Math.abs(ms)
  if (abs < 1000) return `${Math.round(ms)} ms`
  if (abs < 10_000) return `${(ms / 1000).toFixed(1)} s`
  if (abs < 60_000) return `${Math.round(ms / 1000)} s`
  const parts: string[] = []
  let rest = Math.round(abs / 1000) * 1000
  for (const [size, unit] of UNITS) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`)
      rest %= size
    }
    if (parts.length === 2) break
  }
  return (ms < 0 ? '-' : '') + parts.join(' ')
}

/** `5 s ago`, `in 3 min`, or `—` for null. */
export function formatRelative(iso: string | null | undefined, nowMs: number = Date.now()): string {
  if (!iso) return '—'
  const deltaMs = Date.parse(iso) - nowMs
  if (Number.isNaN(deltaMs)) return '—'
  if (Math.abs(deltaMs) < 1000) return 'just now'
  const text = formatDuration(Math.abs(deltaMs)).replace(/\.\d/, '')
  return deltaMs < 0 ? `${text} ago` : `in ${text}`
}

/** `2026-11-23 09:00:01` in the browser's time zone (the full ISO time goes in a title). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return '—'
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
}

/** `112 MB`, `5.5 KB`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit += 1
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`
}

/** A JSON value as indented text (tenant data is always shown as text, never as markup). */
export function formatJson(value: unknown): string {
  if (value === undefined) return '—'
  return JSON.stringify(value, null, 2) ?? String(value)
}

/** One table cell's text for a query value. */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** `12,345`. */
export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : n.toLocaleString('en-US')
}
