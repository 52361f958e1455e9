import { styleText } from 'node:util'

type Style = Parameters<typeof styleText>[0]

/** Width of the progress bar, in characters. */
const BAR_WIDTH = 28

/**
 * What the demo prints: numbered steps, one line per result, a live progress bar. Colour
 * and redrawn lines only on a terminal (and never with NO_COLOR); piped output stays plain
 * text with no control characters, so a CI log reads like the terminal.
 */
export class Narrator {
  readonly #isTty = Boolean(process.stdout.isTTY)
  readonly #isColor = this.#isTty && !process.env.NO_COLOR && process.env.TERM !== 'dumb'
  #step = 0
  /** The progress line currently on screen, redrawn below anything printed meanwhile. */
  #live: string | null = null

  paint(style: Style, text: string): string {
    return this.#isColor ? styleText(style, text) : text
  }

  title(text: string, subtitle: string): void {
    this.#print(`\n${this.paint('bold', text)}  ${this.paint('dim', subtitle)}`)
  }

  step(text: string): void {
    this.#step += 1
    this.#print(`\n${this.paint(['bold', 'cyan'], `${this.#step}.`)} ${this.paint('bold', text)}`)
  }

  ok(text: string, elapsedMs?: number): void {
    this.#print(`   ${this.paint('green', '✓')} ${text}${this.#elapsed(elapsedMs)}`)
  }

  /** Something the demo did on purpose that looks alarming (killing a worker). */
  act(text: string): void {
    this.#print(`   ${this.paint('yellow', '⚡')} ${text}`)
  }

  info(text: string): void {
    this.#print(`   ${this.paint('dim', '·')} ${text}`)
  }

  fail(text: string): void {
    this.#print(`   ${this.paint('red', '✗')} ${this.paint('red', text)}`)
  }

  /** Indented lines (a table), as given. */
  block(lines: readonly string[]): void {
    for (const line of lines) this.#print(`     ${line}`)
  }

  /**
   * A progress bar redrawn in place on a terminal (lines printed meanwhile appear above it);
   * elsewhere only its final state is printed.
   */
  progress(total: number): ProgressBar {
    const render = (done: number, detail: string) => {
      const filled = Math.round((BAR_WIDTH * Math.min(done, total)) / total)
      const bar = this.paint('green', '█'.repeat(filled)) + this.paint('dim', '░'.repeat(BAR_WIDTH - filled))
      return `   ${bar} ${String(done).padStart(String(total).length)}/${total}  ${this.paint('dim', detail)}`
    }
    let last = ''
    return {
      update: (done, detail) => {
        last = render(done, detail)
        this.#live = last
        if (this.#isTty) process.stdout.write(`\r\x1b[2K${last}`)
      },
      finish: () => {
        this.#live = null
        if (this.#isTty) process.stdout.write('\r\x1b[2K')
        if (last) this.#print(last)
      },
    }
  }

  #elapsed(ms: number | undefined): string {
    return ms === undefined ? '' : this.paint('dim', `  ${formatMs(ms)}`)
  }

  #print(line: string): void {
    if (this.#isTty && this.#live !== null) process.stdout.write(`\r\x1b[2K${line}\n${this.#live}`)
    else process.stdout.write(`${line}\n`)
  }
}

/** A live progress line. */
export interface ProgressBar {
  update(done: number, detail: string): void
  /** Leaves the last state printed as an ordinary line. */
  finish(): void
}

/** `850 ms`, `3.2 s`. */
export function formatMs(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(1)} s`
}
