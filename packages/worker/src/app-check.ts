import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { WorkerError } from './worker-error.js'

/** Longest the app check may take (a cold TypeScript compile of big apps on a busy machine). */
export const APP_CHECK_TIMEOUT_MS = 60_000

/**
 * The check's bundle (scripts/build.mjs): it loads apps as the bundled worker does, compiling
 * them. Named from packages/, so it is found from the control plane's bundle too.
 */
const ENTRY = fileURLToPath(new URL('../../worker/dist/app-check.mjs', import.meta.url))

/** An app module that did not load. */
export interface AppLoadFailure {
  readonly name: string
  readonly path: string
  /** The module's own error (compile error, missing file, throw at import, bad export). */
  readonly message: string
}

/**
 * Loads every app (name → absolute module path) the way a worker would, in a throwaway Node
 * process, so `litecell serve` can refuse to start with the module's own error instead of
 * finding it at a tenant's wake. Resolves with the failures (none: every app loads). Each app
 * is compiled on the way (once per app version), so the first wake finds it ready.
 */
export async function checkApps(
  apps: Readonly<Record<string, string>>,
  options: { readonly timeoutMs?: number } = {},
): Promise<AppLoadFailure[]> {
  const child = spawn(
    process.execPath,
    ['--enable-source-maps', ENTRY, JSON.stringify(apps)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      timeout: options.timeoutMs ?? APP_CHECK_TIMEOUT_MS,
    },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exit = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  const verdict = stdout.trim().split('\n').at(-1) ?? ''
  try {
    return (JSON.parse(verdict) as { failures: AppLoadFailure[] }).failures
  } catch {
    // The check itself died (an app that exits the process at import, a timeout).
    throw new WorkerError(
      'APP_LOAD_FAILED',
      `load apps ${Object.keys(apps).join(', ')}: the check process ended with ${exit ?? 'a timeout'} before a verdict${stderr.trim() ? `: ${stderr.trim().slice(-2_000)}` : ''}`,
    )
  }
}
