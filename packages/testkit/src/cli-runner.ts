/**
 * Runs the real `litecell` command as a user would: the installed bin
 * (`packages/cli/bin/litecell.js`, the bundled CLI), as a child process, in a directory of the
 * test's choosing (never the repository root unless asked), with exactly the environment given
 * on top of this process's own.
 */
import { spawn } from 'node:child_process'
import { CLI_BIN } from './litecell-server.js'

/** The `litecell` bin, as `pnpm exec litecell` / `npx litecell` run it. */
export { CLI_BIN }

/** What a command did. */
export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
  /** stdout parsed as JSON (for `--json` runs), undefined if it is not JSON. */
  json: any
  /** Wall time of the whole process, in ms. */
  elapsedMs: number
}

/** How to run a command. */
export interface CliRunOptions {
  /** The current directory of the command. */
  readonly cwd: string
  /** Variables on top of this process's own; `undefined` removes one. */
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly stdin?: string
  /** Called with each stdout chunk while it runs (for commands that follow things). */
  readonly onStdout?: (text: string) => void
  readonly signal?: AbortSignal
}

/** Runs `litecell <args>` to its end. */
export async function runCli(args: readonly string[], options: CliRunOptions): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env }
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name]
  const startedAtMs = Date.now()
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    cwd: options.cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.signal ? { signal: options.signal } : {}),
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    options.onStdout?.(chunk.toString())
  })
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.once('error', () => undefined) // an abort: the exit below still comes
  child.stdin.end(options.stdin ?? '')
  const code = await new Promise<number | null>((done) => child.once('close', (exit) => done(exit)))
  let json: unknown
  try {
    json = JSON.parse(stdout)
  } catch {
    json = undefined
  }
  return { code, stdout, stderr, json, elapsedMs: Date.now() - startedAtMs }
}
