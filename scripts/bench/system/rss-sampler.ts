import { treeOf, totalRss, type ProcessInfo } from '@litecell/testkit'

/** How often the sampler reads /proc. */
export const DEFAULT_SAMPLE_INTERVAL_MS = 200

/**
 * Samples the summed RSS of a process tree (see {@link treeOf}) every `intervalMs` and keeps
 * the peak, the largest process count and every process it ever saw (so a bench can check
 * afterwards that none of them outlived the server).
 */
export class RssSampler {
  readonly #rootPid: number
  readonly #intervalMs: number
  readonly #seen = new Map<string, ProcessInfo>()
  #timer: NodeJS.Timeout | undefined
  #peakBytes = 0
  #peakProcesses = 0
  #peakWorkers = 0
  #onSample: ((sample: { workers: number; rssBytes: number }) => void) | undefined

  constructor(rootPid: number, intervalMs = DEFAULT_SAMPLE_INTERVAL_MS) {
    this.#rootPid = rootPid
    this.#intervalMs = intervalMs
  }

  start(): void {
    this.sample()
    this.#timer = setInterval(() => this.sample(), this.#intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  /** Takes one sample now; returns the tree's processes and summed RSS. */
  sample(): { processes: ProcessInfo[]; rssBytes: number } {
    const processes = treeOf(this.#rootPid)
    const rssBytes = totalRss(processes)
    for (const info of processes) this.#seen.set(`${info.pid}:${info.startTicks}`, info)
    this.#peakBytes = Math.max(this.#peakBytes, rssBytes)
    this.#peakProcesses = Math.max(this.#peakProcesses, processes.length)
    // A worker leads its own process group (standby workers too); the control plane does not.
    const workers = processes.filter((info) => info.pid === info.pgid && info.pid !== this.#rootPid).length
    this.#peakWorkers = Math.max(this.#peakWorkers, workers)
    this.#onSample?.({ workers, rssBytes })
    return { processes, rssBytes }
  }

  /** Calls `listener` with every sample's worker count and RSS (one listener; undefined removes it). */
  watch(listener: ((sample: { workers: number; rssBytes: number }) => void) | undefined): void {
    this.#onSample = listener
  }

  /** Forgets the peaks (the start of a measured phase). */
  resetPeak(): void {
    this.#peakBytes = 0
    this.#peakProcesses = 0
    this.#peakWorkers = 0
  }

  get peakBytes(): number {
    return this.#peakBytes
  }

  /** Most worker processes (assigned or standby) at once. */
  get peakWorkers(): number {
    return this.#peakWorkers
  }

  get peakProcesses(): number {
    return this.#peakProcesses
  }

  /** Every process seen in the tree since the start. */
  seen(): ProcessInfo[] {
    return [...this.#seen.values()]
  }
}
