import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { setTimeout as delay } from 'node:timers/promises'
import { ReplicaError } from './replica-error.js'

/** After the process exits, how long to wait at most for the rest of its output. */
export const OUTPUT_DRAIN_MAX_MS = 250

/** How the process ended. */
export interface LitestreamExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** Options of {@link LitestreamProcess.spawn}. */
export interface LitestreamSpawnOptions {
  /** Extra environment (credentials go here, never into arguments). */
  readonly env?: Readonly<Record<string, string>>
  /** Called with every line the process writes to stdout or stderr. */
  readonly onLine?: (line: string) => void
}

/**
 * One run of the Litestream binary, started directly (not through the npm wrapper, which
 * forwards neither signals nor exit codes). Lines of stdout and stderr are reported as
 * they arrive; `exited` settles once the process is gone and its output is drained.
 */
export class LitestreamProcess {
  readonly #child: ChildProcess
  readonly #lineListeners = new Set<(line: string) => void>()
  #exit: LitestreamExit | undefined
  /** Settles when the process has exited and both output streams have closed. */
  readonly exited: Promise<LitestreamExit>

  private constructor(
    binaryPath: string,
    args: readonly string[],
    options: LitestreamSpawnOptions,
  ) {
    this.#child = spawn(binaryPath, args, {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    if (options.onLine) this.#lineListeners.add(options.onLine)
    const drained = [this.#child.stdout, this.#child.stderr].map((stream) => {
      if (!stream) return Promise.resolve()
      const lines = createInterface({ input: stream, crlfDelay: Infinity })
      lines.on('line', (line) => {
        for (const listener of this.#lineListeners) listener(line)
      })
      return new Promise<void>((resolve) => lines.once('close', resolve))
    })
    const ended = new Promise<LitestreamExit>((resolve) => {
      this.#child.once('error', (err) => {
        for (const listener of this.#lineListeners) listener(`spawn error: ${err.message}`)
        resolve({ code: null, signal: null })
      })
      this.#child.once('exit', (code, signal) => resolve({ code, signal }))
    })
    // Wait for the output to drain, but not for long: a grandchild that kept the pipes
    // open must not delay the exit.
    this.exited = ended.then(async (exit) => {
      await Promise.race([Promise.all(drained), delay(OUTPUT_DRAIN_MAX_MS)])
      this.#exit = exit
      return exit
    })
  }

  /** Start `litestream <args>`. */
  static spawn(
    binaryPath: string,
    args: readonly string[],
    options: LitestreamSpawnOptions = {},
  ): LitestreamProcess {
    return new LitestreamProcess(binaryPath, args, options)
  }

  /** The OS process id (undefined if the spawn failed). */
  get pid(): number | undefined {
    return this.#child.pid
  }

  /** Whether the process has exited. */
  get isExited(): boolean {
    return (
      this.#exit !== undefined || this.#child.exitCode !== null || this.#child.signalCode !== null
    )
  }

  /**
   * Resolve with the first line that satisfies `isMatch`; reject with `LITESTREAM_FAILED`
   * if the process exits first or `timeoutMs` passes.
   */
  waitForLine(isMatch: (line: string) => boolean, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#lineListeners.delete(listener)
      }
      const listener = (line: string): void => {
        if (!isMatch(line)) return
        done()
        resolve(line)
      }
      const timer = setTimeout(() => {
        done()
        reject(
          new ReplicaError(
            'LITESTREAM_FAILED',
            `litestream did not become ready within ${timeoutMs} ms`,
          ),
        )
      }, timeoutMs)
      this.#lineListeners.add(listener)
      void this.exited.then((exit) => {
        if (!this.#lineListeners.has(listener)) return
        done()
        reject(
          new ReplicaError(
            'LITESTREAM_FAILED',
            `litestream exited before it was ready (${describeExit(exit)})`,
          ),
        )
      })
    })
  }

  /**
   * Stop with SIGTERM (Litestream then runs a final sync) and wait up to `timeoutMs`;
   * after that, SIGKILL. Resolves with the exit and whether the kill was needed.
   */
  terminate(timeoutMs: number): Promise<LitestreamExit & { readonly killed: boolean }> {
    if (!this.isExited) this.#child.kill('SIGTERM')
    return this.waitForExit(timeoutMs)
  }

  /** Wait up to `timeoutMs` for the process to exit by itself; after that, SIGKILL. */
  async waitForExit(timeoutMs: number): Promise<LitestreamExit & { readonly killed: boolean }> {
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs)
    })
    const first = await Promise.race([this.exited, timedOut])
    clearTimeout(timer)
    if (first !== 'timeout') return { ...first, killed: false }
    this.kill()
    return { ...(await this.exited), killed: true }
  }

  /** SIGKILL, no final sync. */
  kill(): void {
    if (!this.isExited) this.#child.kill('SIGKILL')
  }
}

/** `exit code 1` / `signal SIGKILL`, for messages. */
export function describeExit(exit: LitestreamExit): string {
  if (exit.signal) return `signal ${exit.signal}`
  return exit.code === null ? 'failed to start' : `exit code ${exit.code}`
}

/** How often the watchdog checks that the supervisor still lives. */
export const WATCHDOG_INTERVAL_S = 1

/**
 * Arguments that tie a `litestream replicate` to its supervisor: Litestream runs a tiny
 * shell loop as its `-exec` child and shuts down (attempting a final sync) as soon as the
 * loop ends, that is once the supervisor `pid` or Litestream itself is gone. Without it an
 * idle orphan of a SIGKILLed worker lives on (it dies of SIGPIPE only when it next logs),
 * holding its read lock and replicating whatever a successor writes into the same file,
 * next to the successor's own Litestream (ARCHITECTURE.md invariant 1).
 */
export function watchdogArgs(pid: number): string[] {
  if (!Number.isInteger(pid) || pid < 1)
    throw new TypeError(`Expected a pid, got \`${pid}\` (${typeof pid})`)
  // `exec >/dev/null 2>&1` first: the loop's `sleep` must not hold Litestream's output pipes
  // open, or the supervisor would see Litestream's output end up to a second after its exit.
  const loop = `exec >/dev/null 2>&1; while kill -0 ${pid} && kill -0 $PPID; do sleep ${WATCHDOG_INTERVAL_S}; done`
  return ['-exec', `sh -c '${loop}'`]
}
