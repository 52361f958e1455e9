import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** API URL when neither `--url` nor LITECELL_URL says otherwise (the control plane's default port). */
export const DEFAULT_URL = 'http://127.0.0.1:8787'
/** Data directory of a local `litecell serve`, relative to the current directory. */
export const DEFAULT_DATA_DIR = '.litecell'
/** File in the data directory where `litecell serve` keeps the admin token it generated. */
export const ADMIN_TOKEN_FILE = 'admin-token'

/** Where the CLI sends requests, and with which token. */
export interface Connection {
  readonly url: string
  readonly token: string | undefined
  /** Where the token came from, for messages: `--token`, `LITECELL_TOKEN`, a file path, or none. */
  readonly tokenSource: string | undefined
  /** The admin token file looked for when neither `--token` nor LITECELL_TOKEN was given. */
  readonly tokenFile?: string
}

/**
 * Resolves the API URL and token. The token is, in order: `--token`, LITECELL_TOKEN, or the
 * admin token a local `litecell serve` saved in `$LITECELL_DATA_DIR/admin-token` (default
 * `./.litecell/admin-token`), so `pnpm litecell …` works next to `pnpm start` without setup.
 * (Constants are repeated here rather than imported from the control plane, whose module
 * graph would add a second to every command's start-up.)
 */
export function resolveConnection(
  options: { readonly url?: string | undefined; readonly token?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Connection {
  const url = options.url || env.LITECELL_URL || DEFAULT_URL
  if (options.token) return { url, token: options.token, tokenSource: '--token' }
  if (env.LITECELL_TOKEN) return { url, token: env.LITECELL_TOKEN, tokenSource: 'LITECELL_TOKEN' }
  const file = join(resolve(cwd, env.LITECELL_DATA_DIR || DEFAULT_DATA_DIR), ADMIN_TOKEN_FILE)
  const token = readTokenFile(file)
  return token
    ? { url, token, tokenSource: file, tokenFile: file }
    : { url, token: undefined, tokenSource: undefined, tokenFile: file }
}

function readTokenFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined
  } catch {
    // No saved admin token (no local server, or another data dir): go without one.
    return undefined
  }
}
