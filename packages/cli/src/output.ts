import Table from 'cli-table3'

/** Longest cell text in a table before it is cut with an ellipsis. */
export const MAX_CELL_CHARS = 80

/** A writable stream the CLI prints to (stdout or stderr, or a test double). */
export interface OutputStream {
  write(text: string): unknown
  readonly isTTY?: boolean
}

/** How a command prints. */
export interface OutputOptions {
  /** `--json`: machine-readable API bodies on stdout, nothing else there. */
  readonly json: boolean
  /** @default process.stdout */
  readonly stdout?: OutputStream
  /** @default process.stderr */
  readonly stderr?: OutputStream
}

/** A table cell before formatting. */
export type Cell = string | number | boolean | null | undefined

// gh-style tables: no borders, two spaces between columns.
const BORDERLESS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
}

/**
 * Prints a command's result: with `--json`, the API body as JSON on stdout (one document per
 * command, so `| jq` works); otherwise tables and short lines for people. Progress and notes
 * go to stderr, so stdout stays clean either way.
 */
export class Output {
  readonly isJson: boolean
  readonly #stdout: OutputStream
  readonly #stderr: OutputStream

  constructor(options: OutputOptions) {
    this.isJson = options.json
    this.#stdout = options.stdout ?? process.stdout
    this.#stderr = options.stderr ?? process.stderr
  }

  /** Whether stderr is a terminal (progress bars and prompts need one). */
  get isInteractive(): boolean {
    return this.#stderr.isTTY === true
  }

  /** With `--json` prints `body`; otherwise runs `human` to print it for people. */
  result(body: unknown, human: () => void): void {
    if (this.isJson) this.json(body)
    else human()
  }

  /** Prints a value as pretty JSON on stdout. */
  json(value: unknown): void {
    this.#stdout.write(`${JSON.stringify(value, null, 2)}\n`)
  }

  /** Prints a line on stdout. */
  line(text = ''): void {
    this.#stdout.write(`${text}\n`)
  }

  /** Prints a line on stderr: status for people that scripts can ignore. */
  note(text: string): void {
    this.#stderr.write(`${text}\n`)
  }

  /** Prints rows under a header, or `empty` when there are none. */
  table(head: readonly string[], rows: readonly (readonly Cell[])[], empty = '(none)'): void {
    if (rows.length === 0) {
      this.line(empty)
      return
    }
    const table = new Table({
      head: head.map((text) => text.toUpperCase()),
      chars: BORDERLESS,
      style: {
        head: this.#stdout.isTTY ? ['bold'] : [],
        border: [],
        'padding-left': 0,
        'padding-right': 0,
      },
    })
    for (const row of rows) table.push(row.map((cell) => truncate(formatValue(cell))))
    this.line(table.toString().replace(/ +$/gm, ''))
  }

  /** Prints `label  value` pairs, one per line, labels aligned. */
  fields(pairs: readonly (readonly [string, Cell])[]): void {
    const width = Math.max(...pairs.map(([label]) => label.length))
    for (const [label, value] of pairs)
      this.line(`${`${label}:`.padEnd(width + 2)}${formatValue(value)}`)
  }
}

/** A value as table text: `-` for null/undefined, JSON for objects. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '-'
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value)
}

/** Cuts text to `max` characters with an ellipsis, on one line. */
export function truncate(text: string, max = MAX_CELL_CHARS): string {
  const flat = text.replace(/\s*\n\s*/g, ' ')
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

/** A duration for people: `850ms`, `12.3s`, `4m05s`, `2h10m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-'
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  const seconds = Math.round(ms / 1000)
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`
  const minutes = Math.round(seconds / 60)
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`
}

/** An ISO time for people, or `-`: `2026-11-26 06:30:12`, UTC like the API. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-'
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}

/** A byte count for people: `512 B`, `1.5 KiB`, `3.2 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}
