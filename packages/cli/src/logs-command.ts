import { Command } from 'commander'
import { contextOf } from './cli-context.js'
import { integerFrom } from './option-parsers.js'

/** Exit code after Ctrl-C, as shells report SIGINT (128 + 2). */
const INTERRUPTED_EXIT_CODE = 130
/** Fields of a worker's JSON log line shown in their own place, or not at all. */
const HIDDEN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'tenant', 'v'])
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }

/**
 * `litecell logs <tenant>`: the tenant's worker log (`GET /v1/tenants/:id/logs`, admin): what
 * its workers logged and what workflow code printed. JSON log lines read as
 * `time LEVEL message key=value…`; other lines (a workflow's console.log) as they are.
 * `--json` prints the lines as the server sent them.
 */
export function logsCommand(): Command {
  return new Command('logs')
    .description("show a tenant's worker log (what workflow code printed included)")
    .argument('<tenant>', 'tenant id')
    .option('-f, --follow', 'keep printing lines as they are written (Ctrl-C to stop)')
    .option('-n, --lines <n>', 'lines from the end to start with, 0 to 10000 (default 100)', integerFrom(0, 10_000))
    .action(async (tenant: string, options: { follow?: boolean; lines?: number }, command: Command) => {
      const { client, output } = contextOf(command)
      const stop = new AbortController()
      const interrupt = () => {
        stop.abort()
        process.exit(INTERRUPTED_EXIT_CODE)
      }
      process.once('SIGINT', interrupt)
      try {
        const response = await client.logs(tenant, {
          follow: options.follow === true,
          ...(options.lines !== undefined ? { lines: options.lines } : {}),
          signal: stop.signal,
        })
        if (!response.body) return
        let pending = ''
        const decoder = new TextDecoder()
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
          pending += decoder.decode(chunk, { stream: true })
          const lines = pending.split('\n')
          pending = lines.pop() ?? ''
          for (const line of lines) output.line(output.isJson ? line : readable(line))
        }
        if (pending !== '') output.line(output.isJson ? pending : readable(pending))
      } finally {
        process.off('SIGINT', interrupt)
      }
    })
}

/** A pino JSON line as `HH:MM:SS.mmm LEVEL message key=value…`; anything else unchanged. */
export function readable(line: string): string {
  if (!line.startsWith('{')) return line
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line
  }
  if (typeof entry.msg !== 'string' && typeof entry.level !== 'number') return line
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : ''
  const level = typeof entry.level === 'number' ? (LEVELS[entry.level] ?? String(entry.level)) : ''
  const extra = Object.entries(entry)
    .filter(([key]) => !HIDDEN_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
  return [time, level.padEnd(5), entry.msg ?? '', ...extra].filter((part) => part !== '').join(' ')
}
