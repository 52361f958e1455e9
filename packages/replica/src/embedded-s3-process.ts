import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  type EmbeddedS3,
  type EmbeddedS3Options,
  type EmbeddedS3Settings,
  embeddedS3Endpoint,
  embeddedS3Settings,
  embeddedS3StartError,
  embeddedS3Storage,
} from './embedded-s3.js'
import { messageOf } from './replica-error.js'

/** The server's script; named from packages/ so it is found from the sources and from a bundle in another package's dist/. */
const SERVER_SCRIPT = fileURLToPath(
  new URL('../../replica/src/embedded-s3-server.mjs', import.meta.url),
)
/** How long the server's process may take to listen. */
const START_TIMEOUT_MS = 15_000
/** How long a port given explicitly may stay taken at start: a killed predecessor's server is still exiting. */
const PORT_BUSY_WAIT_MS = 5_000
/** How long a stopping server may take before it is killed. */
const STOP_TIMEOUT_MS = 5_000
/** First pause before a server that ended unexpectedly is started again (grows per failed attempt, up to 2 s). */
const RESTART_DELAY_MS = 200

/** Options of {@link startEmbeddedS3Process}. */
export interface EmbeddedS3ProcessOptions extends Omit<EmbeddedS3Options, 'onObjectCreated'> {
  /** Told each time the server's process ended unexpectedly or could not be started again. */
  readonly onRestart?: (reason: string) => void
}

/**
 * {@link startEmbeddedS3}, in a Node process of its own: the S3 server's request handling and
 * file I/O stay off the caller's event loop (the control plane's, which also answers every
 * worker). The process exits when the caller does, even on SIGKILL (its IPC channel closes),
 * and is started again on the same port if it ends on its own.
 */
export async function startEmbeddedS3Process(opts: EmbeddedS3ProcessOptions): Promise<EmbeddedS3> {
  const settings = embeddedS3Settings(opts)
  const started = performance.now()
  for (;;) {
    try {
      const { child, port } = await spawnServer(settings)
      return new EmbeddedS3Process({ ...settings, port }, child, opts.onRestart)
    } catch (err) {
      const busy = (err as { code?: unknown }).code === 'EADDRINUSE'
      if (!busy || settings.port === 0 || performance.now() - started > PORT_BUSY_WAIT_MS) {
        throw embeddedS3StartError(err, settings)
      }
      await sleep(100)
    }
  }
}

class EmbeddedS3Process implements EmbeddedS3 {
  readonly endpoint: string
  readonly port: number
  readonly storage: EmbeddedS3['storage']
  readonly #settings: EmbeddedS3Settings
  readonly #onRestart: ((reason: string) => void) | undefined
  #child: ChildProcess
  #stopped: Promise<void> | undefined

  constructor(
    settings: EmbeddedS3Settings,
    child: ChildProcess,
    onRestart?: (reason: string) => void,
  ) {
    this.#settings = settings
    this.port = settings.port
    this.endpoint = embeddedS3Endpoint(settings.port)
    this.storage = embeddedS3Storage(this.endpoint, settings.bucket)
    this.#onRestart = onRestart
    this.#child = child
    this.#watch(child)
  }

  stop(): Promise<void> {
    this.#stopped ??= stopServer(this.#child)
    return this.#stopped
  }

  #watch(child: ChildProcess): void {
    child.on('error', () => {}) // a failed kill of a process already gone: its exit is what counts
    child.once('exit', (code, signal) => {
      if (this.#stopped) return
      this.#onRestart?.(
        `embedded S3 server exited (${signal ?? `code ${code}`}); starting it again`,
      )
      void this.#restart()
    })
  }

  async #restart(): Promise<void> {
    for (let attempt = 1; !this.#stopped; attempt++) {
      await sleep(Math.min(RESTART_DELAY_MS * attempt, 2_000))
      if (this.#stopped) return
      try {
        const { child } = await spawnServer(this.#settings)
        this.#child = child
        this.#watch(child)
        // stop() began while it started: it stopped the old process only.
        if (this.#stopped) await stopServer(child)
        return
      } catch (err) {
        this.#onRestart?.(`embedded S3 server did not start again: ${messageOf(err)}`)
      }
    }
  }
}

/** Spawns the server and waits until it listens (its port) or fails (an error with its `code`). */
function spawnServer(settings: EmbeddedS3Settings): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [SERVER_SCRIPT, JSON.stringify(settings)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(err)
    }
    const timer = setTimeout(
      () => fail(new Error(`the server's process did not listen within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    )
    child.once('error', fail)
    child.once('exit', (code, signal) =>
      fail(new Error(`the server's process exited (${signal ?? `code ${code}`})`)),
    )
    child.once('message', (message: { port?: number; error?: string; code?: string }) => {
      if (typeof message.port === 'number') {
        clearTimeout(timer)
        child.removeAllListeners('exit')
        child.removeAllListeners('error')
        resolve({ child, port: message.port })
      } else {
        fail(Object.assign(new Error(message.error ?? 'unknown error'), { code: message.code }))
      }
    })
  })
}

/** SIGTERM, then SIGKILL after {@link STOP_TIMEOUT_MS}; resolves once the process has exited. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
  await exited
  clearTimeout(timer)
}
