import type { Narrator } from './narrator.js'

/** One promise the demo checked. */
export interface CheckResult {
  readonly held: boolean
  readonly text: string
}

/**
 * The demo's verdict: every ✓ line it prints is a check that held, every ✗ one that did
 * not. The demo exits 0 only if all of them held.
 */
export class Checks {
  readonly #narrator: Narrator
  readonly #results: CheckResult[] = []

  constructor(narrator: Narrator) {
    this.#narrator = narrator
  }

  /** Records and prints a check: `text` says what held; `why` says what was seen instead. */
  expect(held: boolean, text: string, why: string, elapsedMs?: number): boolean {
    this.#results.push({ held, text })
    if (held) this.#narrator.ok(text, elapsedMs)
    else this.#narrator.fail(`${text}: FAILED, ${why}`)
    return held
  }

  get count(): number {
    return this.#results.length
  }

  failures(): CheckResult[] {
    return this.#results.filter((result) => !result.held)
  }
}
