import cliProgress from 'cli-progress'
import { formatDuration, type OutputStream } from './output.js'

/** Interval between plain progress lines when stderr is not a terminal. */
export const PLAIN_LINE_INTERVAL_MS = 2_000

/** Interval between refreshes of the bar's rate and ETA when nothing else changes. */
export const BAR_REFRESH_MS = 1_000

/** Where a batch stands. */
export interface BatchCounts {
  /** Runs the file holds, if known (not for stdin). */
  readonly total: number | undefined
  readonly submitted: number
  readonly succeeded: number
  /** Failed or cancelled. */
  readonly failed: number
}

/** How progress is shown: a live bar (terminal), periodic plain lines (logs, CI), or not at all (`--json`). */
export type ProgressMode = 'bar' | 'lines' | 'silent'

/**
 * Progress of `runs batch`: submitted, done, failed, rate and ETA, on stderr. The bar counts
 * runs that ended when the batch waits for them, else runs submitted.
 */
export class BatchProgress {
  readonly #mode: ProgressMode
  readonly #waiting: boolean
  readonly #stream: OutputStream
  readonly #startedAtMs = Date.now()
  #bar: cliProgress.SingleBar | undefined
  #timer: NodeJS.Timeout | undefined
  #counts: BatchCounts = { total: undefined, submitted: 0, succeeded: 0, failed: 0 }

  constructor(options: {
    readonly mode: ProgressMode
    /** Whether runs are waited for (else the batch ends once submitted). */
    readonly waiting: boolean
    /** @default process.stderr */
    readonly stream?: OutputStream
  }) {
    this.#mode = options.mode
    this.#waiting = options.waiting
    this.#stream = options.stream ?? process.stderr
    if (this.#mode === 'bar') {
      this.#bar = new cliProgress.SingleBar(
        {
          stream: this.#stream as NodeJS.WritableStream,
          format:
            '{bar} {percentage}% | submitted {submitted} | done {done} | failed {failed} | {rate}/s | ETA {timeLeft}',
          hideCursor: true,
          etaBuffer: 100,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      )
      this.#bar.start(1, 0, this.#payload())
      // Rate and ETA are ours, not the bar's: refresh them while no run ends (a slow run).
      this.#timer = setInterval(() => this.update(this.#counts), BAR_REFRESH_MS)
      this.#timer.unref()
    } else if (this.#mode === 'lines') {
      this.#timer = setInterval(() => this.#printLine(), PLAIN_LINE_INTERVAL_MS)
      this.#timer.unref()
    }
  }

  /** Chooses the mode from the output: silent for `--json`, a bar on a terminal, else lines. */
  static modeFor(output: { isJson: boolean; isInteractive: boolean }): ProgressMode {
    if (output.isJson) return 'silent'
    return output.isInteractive ? 'bar' : 'lines'
  }

  /** Runs per second so far (ended runs when waiting, else submitted). */
  get rate(): number {
    const seconds = Math.max((Date.now() - this.#startedAtMs) / 1000, 0.001)
    return this.#progressed() / seconds
  }

  update(counts: BatchCounts): void {
    this.#counts = counts
    if (!this.#bar) return
    const total = counts.total ?? Math.max(counts.submitted, 1)
    this.#bar.setTotal(Math.max(total, 1))
    this.#bar.update(this.#progressed(), this.#payload())
  }

  /** Stops the bar or the lines; `completed` prints a last line (not after an error). */
  stop(completed: boolean): void {
    if (this.#timer) clearInterval(this.#timer)
    if (this.#bar) this.#bar.stop()
    if (this.#mode === 'lines' && completed) this.#printLine()
  }

  #progressed(): number {
    const counts = this.#counts
    return this.#waiting ? counts.succeeded + counts.failed : counts.submitted
  }

  #payload(): Record<string, string | number> {
    const { submitted, succeeded, failed } = this.#counts
    return { submitted, done: succeeded, failed, rate: this.rate.toFixed(1), timeLeft: this.#eta() }
  }

  /** Time left at the rate so far, `-` until there is a rate and a known total. */
  #eta(): string {
    const { total, submitted } = this.#counts
    const remaining = (total ?? submitted) - this.#progressed()
    return this.rate > 0 && total !== undefined
      ? formatDuration((remaining / this.rate) * 1000)
      : '-'
  }

  #printLine(): void {
    const { total, submitted, succeeded, failed } = this.#counts
    const parts = [`submitted ${submitted}${total === undefined ? '' : `/${total}`}`]
    if (this.#waiting) parts.push(`done ${succeeded}`, `failed ${failed}`)
    parts.push(`${this.rate.toFixed(1)} runs/s`, `ETA ${this.#eta()}`)
    this.#stream.write(`batch: ${parts.join(', ')}\n`)
  }
}
