import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { isAlive, pids } from './processes.js'

/** Environment variable marking every process of one family; children inherit it. */
const MARKER_ENV = 'LITECELL_PROCESS_FAMILY'

/**
 * The processes one server started: the control plane, its workers and their Litestream
 * processes. Workers run in process groups of their own and may outlive a killed parent, so
 * they are found by a marker in their environment (which every child inherits), read from
 * /proc. Where there is no /proc (macOS), the family is always empty.
 */
export class ProcessFamily {
  readonly #marker = `${MARKER_ENV}=${randomBytes(9).toString('base64url')}`

  /** The environment variable to give the first process of the family. */
  env(): Record<string, string> {
    const [name, value] = this.#marker.split('=') as [string, string]
    return { [name]: value }
  }

  /** Live (not zombie) members, this process excluded. */
  living(): number[] {
    return pids().filter((pid) => {
      if (pid === process.pid) return false
      try {
        const environ = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')
        return environ.includes(this.#marker) && isAlive(pid)
      } catch {
        return false // exited while we looked, or not ours to read
      }
    })
  }

  /** Members still alive after `graceMs` (a watchdog loop may take a second to notice its parent is gone). */
  async survivors(graceMs: number): Promise<number[]> {
    const deadline = performance.now() + graceMs
    for (;;) {
      const members = this.living()
      if (members.length === 0 || performance.now() > deadline) return members
      await sleep(100)
    }
  }

  /**
   * SIGKILLs every member, again for any a dying member started meanwhile, until none is alive
   * or `timeoutMs` passed; returns the members still alive then. A SIGKILLed process lives on
   * for a moment, so a check right after `killAll` may still see it.
   */
  async killAllAndWait(timeoutMs = 10_000): Promise<number[]> {
    const deadline = performance.now() + timeoutMs
    for (;;) {
      this.killAll()
      const members = this.living()
      if (members.length === 0 || performance.now() > deadline) return members
      await sleep(50)
    }
  }

  /** SIGKILLs every member (without waiting for them to die). */
  killAll(): void {
    for (let round = 0; round < 3; round += 1) {
      const members = this.living()
      if (members.length === 0) return
      for (const pid of members) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // gone already
        }
      }
    }
  }
}
