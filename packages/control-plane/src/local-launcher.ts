import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { dirname, isAbsolute, join } from 'node:path'
import {
  PRELOAD_APPS_ENV,
  STANDBY_ENV,
  TENANT_DB_FILE,
  serializeWorkerEnvironment,
  type StandbyAssignment,
} from '@litecell/protocol'
import type { AdoptedWorker, Launcher, WorkerExit, WorkerProcess, WorkerSpec } from './launcher.js'
import { streamLogFile, tenantLogPath, type LogRequest } from './tenant-log.js'

/** Heap cap of one worker, so a memory-hungry tenant dies alone. */
export const DEFAULT_WORKER_MAX_OLD_SPACE_MB = 256
/** Standby workers kept loaded and waiting, so a wake skips Node's start and the compile. */
export const DEFAULT_STANDBY_WORKERS = 1
/** How often a dead worker's process group is checked for survivors (its Litestream). */
const GROUP_POLL_MS = 25
/** Survivors of a dead worker's group are killed after this long. */
const GROUP_EXIT_TIMEOUT_MS = 30_000
/** How often an adopted worker (not a child: no exit event) is checked for its end. */
const ADOPTED_POLL_MS = 250

/** Settings of a {@link LocalLauncher}. */
export interface LocalLauncherOptions {
  /** Node arguments that run the worker's entry point (`WORKER_NODE_ARGS` of @litecell/worker). */
  readonly workerNodeArgs: readonly string[]
  /** Absolute folder holding each tenant's folder (`<tenantsDir>/<id>/tenant.db`). */
  readonly tenantsDir: string
  /** @default 256 */
  readonly maxOldSpaceMb?: number
  /** @default 1 */
  readonly standbyWorkers?: number
  /** App modules a standby worker loads in advance. */
  readonly preloadApps?: readonly string[]
  /** Folder of the tenants' log files (`<logsDir>/<id>.log`), served by {@link LocalLauncher.logs}. */
  readonly logsDir: string
}

/**
 * Launches each worker as a child process of the control plane on this machine, with a
 * capped heap and its output appended to its tenant's log file. It keeps `standbyWorkers`
 * processes started ahead of need (code loaded, waiting on IPC); a launch hands one its
 * tenant and starts the next standby in the background.
 */
export class LocalLauncher implements Launcher {
  readonly #maxOldSpaceMb: number
  readonly #standbyWorkers: number
  readonly #preloadApps: readonly string[]
  readonly #workerNodeArgs: readonly string[]
  readonly #tenantsDir: string
  readonly #logsDir: string
  #standby: ChildProcess[] = []
  #closed = false

  constructor(options: LocalLauncherOptions) {
    if (!Array.isArray(options.workerNodeArgs) || options.workerNodeArgs.length === 0) {
      throw new TypeError(
        `Expected \`workerNodeArgs\` to be a non-empty list of strings, got \`${String(options.workerNodeArgs)}\``,
      )
    }
    this.#workerNodeArgs = options.workerNodeArgs
    if (typeof options.tenantsDir !== 'string' || !isAbsolute(options.tenantsDir)) {
      throw new TypeError(
        `Expected \`tenantsDir\` to be an absolute path, got \`${String(options.tenantsDir)}\``,
      )
    }
    this.#tenantsDir = options.tenantsDir
    mkdirSync(this.#tenantsDir, { recursive: true })
    this.#logsDir = options.logsDir
    const maxOldSpaceMb = options.maxOldSpaceMb ?? DEFAULT_WORKER_MAX_OLD_SPACE_MB
    if (!Number.isInteger(maxOldSpaceMb) || maxOldSpaceMb < 16) {
      throw new TypeError(`Expected \`maxOldSpaceMb\` to be an integer from 16 and up, got \`${maxOldSpaceMb}\``)
    }
    const standbyWorkers = options.standbyWorkers ?? DEFAULT_STANDBY_WORKERS
    if (!Number.isInteger(standbyWorkers) || standbyWorkers < 0) {
      throw new TypeError(`Expected \`standbyWorkers\` to be an integer from 0 and up, got \`${standbyWorkers}\``)
    }
    this.#maxOldSpaceMb = maxOldSpaceMb
    this.#standbyWorkers = standbyWorkers
    this.#preloadApps = options.preloadApps ?? []
    this.#refill()
  }

  launch(spec: WorkerSpec): WorkerProcess {
    const child = this.#takeStandby() ?? this.#spawn()
    mkdirSync(dirname(spec.logPath), { recursive: true })
    const log = createWriteStream(spec.logPath, { flags: 'a' })
    // A log that cannot be written (disk full, folder gone) must never take the control plane down.
    log.on('error', () => undefined)
    child.stdout!.pipe(log, { end: false })
    child.stderr!.pipe(log, { end: false })
    // Ended at 'close', not 'exit': the worker's pipes still deliver lines after it exits — its
    // Litestream, which outlives it for the final sync, writes to them — and a write after end()
    // was an unhandled error that killed the control plane (seen in a 200-tenant fleet burst).
    child.once('close', () => log.end())
    const tenantDir = join(this.#tenantsDir, spec.settings.tenantId)
    const env = serializeWorkerEnvironment(spec.settings, { tenantDir })
    child.send({ type: 'assign', env } satisfies StandbyAssignment)
    // A worker counts as exited only once its whole process group is gone: its Litestream
    // does a final sync after the worker dies, and a successor must not start a second
    // replicator on the same path meanwhile (ARCHITECTURE.md invariant 1).
    const exited = new Promise<WorkerExit>((resolve) => {
      child.once('exit', (code, signal) => {
        // After a clean hibernation Litestream has already stopped: what is left of the group
        // is its idle watchdog loop, not worth waiting for.
        if (code === 0) killGroup(child.pid)
        void groupGone(child.pid).then(() => resolve({ code, signal }))
      })
    })
    setImmediate(() => this.#refill())
    return {
      pid: child.pid,
      exited,
      kill: (signal = 'SIGTERM') => {
        // SIGTERM asks the worker to hibernate; SIGKILL takes its Litestream down with it.
        if (signal === 'SIGKILL') killGroup(child.pid)
        else if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      },
    }
  }

  /**
   * A worker of a previous control plane on this data folder: `pid` must lead a process group
   * of its own (as every launched worker does) and hold a file of the tenant's folder open, so
   * a heartbeat cannot make this launcher follow (and later kill the group of) any other
   * process. Its end is seen by polling its group, every {@link ADOPTED_POLL_MS}.
   */
  adopt(worker: AdoptedWorker): WorkerProcess | undefined {
    const { pid } = worker
    if (pid === undefined || !Number.isInteger(pid) || pid <= 1 || processGroupOf(pid) !== pid) return undefined
    const tenantDir = join(this.#tenantsDir, worker.tenantId)
    if (!existsSync(tenantDir) || !holdsFileUnder(pid, realpathSync(tenantDir))) return undefined
    const exited = (async (): Promise<WorkerExit> => {
      while (isGroupAlive(pid)) await new Promise((resolve) => setTimeout(resolve, ADOPTED_POLL_MS))
      return { code: null, signal: null }
    })()
    let ended = false
    void exited.then(() => (ended = true))
    return {
      pid,
      exited,
      kill: (signal = 'SIGTERM') => {
        if (ended) return // its pid may be another process's by now
        if (signal === 'SIGKILL') killGroup(pid)
        else {
          try {
            process.kill(pid, signal)
          } catch {
            // already gone
          }
        }
      },
    }
  }

  /** A tenant's database is here between a crash (or a failed hibernation) and its next worker. */
  hasLocalState(tenantId: string): boolean {
    return existsSync(join(this.#tenantsDir, tenantId, TENANT_DB_FILE))
  }

  async removeLocalState(tenantId: string): Promise<void> {
    await rm(join(this.#tenantsDir, tenantId), { recursive: true, force: true })
  }

  /** The tenant's log file: every worker of the tenant appends its output to it. */
  logs(tenantId: string, request: LogRequest): ReadableStream<Uint8Array> {
    return streamLogFile(tenantLogPath(this.#logsDir, tenantId), request)
  }

  /** Stops the standby workers (assigned workers are the fleet's to stop). */
  close(): void {
    this.#closed = true
    for (const child of this.#standby.splice(0)) child.kill('SIGKILL')
  }

  refresh(): void {
    for (const child of this.#standby.splice(0)) child.kill('SIGKILL')
    this.#refill()
  }

  #takeStandby(): ChildProcess | undefined {
    for (;;) {
      const child = this.#standby.shift()
      if (!child) return undefined
      if (child.exitCode === null && child.signalCode === null && child.connected) return child
    }
  }

  #refill(): void {
    while (!this.#closed && this.#standby.length < this.#standbyWorkers) this.#standby.push(this.#spawn())
  }

  #spawn(): ChildProcess {
    const child = spawn(process.execPath, [`--max-old-space-size=${this.#maxOldSpaceMb}`, ...this.#workerNodeArgs], {
      env: {
        ...launcherEnv(),
        [STANDBY_ENV]: '1',
        [PRELOAD_APPS_ENV]: this.#preloadApps.join(','),
        // The control plane shows the SDK's Node 20 notice once at start; not every worker log.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Its own process group, holding its Litestream: see `exited` above.
      detached: true,
    })
    // Output before an assignment (a failed preload) is nobody's: drop it.
    child.stdout!.resume()
    child.stderr!.resume()
    child.once('error', () => undefined)
    return child
  }
}

function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
  } catch {
    return false
  }
  // kill(0) also counts zombies, and an orphaned zombie waits for PID 1 to reap it, which a
  // container's init may do late or never: on Linux, look for a live member instead.
  return hasLiveMember(pgid) ?? true
}

/** Whether a non-zombie process is in the group, from /proc; undefined without /proc. */
function hasLiveMember(pgid: number): boolean | undefined {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return undefined
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // Fields after the parenthesised command: state, ppid, pgrp, …
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(group) === pgid && state !== 'Z') return true
    } catch {
      // the process ended while we looked
    }
  }
  return false
}

/** The process group of a live (not zombie) process, from /proc; undefined if none. */
function processGroupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return state === 'Z' ? undefined : Number(group)
  } catch {
    return undefined
  }
}

/** Whether the process holds a file under `dir` open (its tenant's database, say). */
function holdsFileUnder(pid: number, dir: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(`${dir}/`)
      } catch {
        return false
      }
    })
  } catch {
    return false
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

async function groupGone(pid: number | undefined): Promise<void> {
  if (pid === undefined) return
  const deadline = Date.now() + GROUP_EXIT_TIMEOUT_MS
  while (isGroupAlive(pid)) {
    if (Date.now() > deadline) killGroup(pid)
    await new Promise((resolve) => setTimeout(resolve, GROUP_POLL_MS))
  }
}

/** The parent's environment minus litecell's own secrets: workers get only what they need. */
function launcherEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key === 'LITECELL_ADMIN_TOKEN' || key.startsWith('AWS_SECRET')) continue
    env[key] = value
  }
  return env
}
