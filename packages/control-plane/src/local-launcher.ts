import { spawn } from 'node:child_process'
import { mkdirSync, openSync, closeSync } from 'node:fs'
import { dirname } from 'node:path'
import { WORKER_NODE_ARGS } from '@litecell/worker'
import type { Launcher, WorkerExit, WorkerProcess, WorkerSpec } from './launcher.js'

/** Heap cap of one worker, so a memory-hungry tenant dies alone. */
export const DEFAULT_WORKER_MAX_OLD_SPACE_MB = 256

/**
 * Launches each worker as a child process of the control plane on this machine, with a
 * capped heap and its stdout/stderr appended to its tenant's log file.
 */
export class LocalLauncher implements Launcher {
  readonly #maxOldSpaceMb: number

  constructor(options: { maxOldSpaceMb?: number } = {}) {
    const maxOldSpaceMb = options.maxOldSpaceMb ?? DEFAULT_WORKER_MAX_OLD_SPACE_MB
    if (!Number.isInteger(maxOldSpaceMb) || maxOldSpaceMb < 16) {
      throw new TypeError(`Expected \`maxOldSpaceMb\` to be an integer from 16 and up, got \`${maxOldSpaceMb}\``)
    }
    this.#maxOldSpaceMb = maxOldSpaceMb
  }

  launch(spec: WorkerSpec): WorkerProcess {
    mkdirSync(dirname(spec.logPath), { recursive: true })
    const log = openSync(spec.logPath, 'a')
    const child = spawn(
      process.execPath,
      [`--max-old-space-size=${this.#maxOldSpaceMb}`, ...WORKER_NODE_ARGS],
      { env: { ...minimalEnv(), ...spec.env }, stdio: ['ignore', log, log] },
    )
    closeSync(log)
    const exited = new Promise<WorkerExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }))
      child.once('error', () => resolve({ code: null, signal: null }))
    })
    return {
      pid: child.pid,
      exited,
      kill: (signal = 'SIGTERM') => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      },
    }
  }
}

/** The parent's environment minus litecell's own secrets: workers get only what they need. */
function minimalEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key === 'LITECELL_ADMIN_TOKEN') continue
    env[key] = value
  }
  return env
}
