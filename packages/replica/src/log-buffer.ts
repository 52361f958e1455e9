/** How many Litestream log lines a replicator keeps. */
export const DEFAULT_LOG_CAPACITY_LINES = 500

/** A ring buffer of the most recent log lines. */
export class LogBuffer {
  readonly #capacityLines: number
  #lines: string[] = []
  #next = 0

  constructor(capacityLines = DEFAULT_LOG_CAPACITY_LINES) {
    if (!Number.isInteger(capacityLines) || capacityLines < 1) {
      throw new TypeError(
        `Expected \`capacityLines\` to be an integer from 1 and up, got \`${capacityLines}\` (${typeof capacityLines})`,
      )
    }
    this.#capacityLines = capacityLines
  }

  push(line: string): void {
    if (this.#lines.length < this.#capacityLines) {
      this.#lines.push(line)
      return
    }
    this.#lines[this.#next] = line
    this.#next = (this.#next + 1) % this.#capacityLines
  }

  /** The kept lines, oldest first. */
  lines(): string[] {
    return [...this.#lines.slice(this.#next), ...this.#lines.slice(0, this.#next)]
  }

  /** The last `count` lines joined for an error message. */
  tail(count = 5): string {
    return this.lines().slice(-count).join('\n')
  }
}
