import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One timer firing as the bench app's `timer` workflow reports it (epoch ms, this machine's clock). */
export interface FiredTimer {
  readonly tenant: string
  readonly dueAt: number
  readonly wokeAt: number
}

/**
 * An HTTP endpoint on localhost where the `timer` runs of `pnpm bench:fleet --timers` report
 * when they resumed: the bench learns of every firing without waking the tenants again to
 * read their runs. A step is at least once, so a tenant may report twice; the first counts.
 */
export class FiredTimerCollector {
  readonly #server: Server
  readonly #fired = new Map<string, FiredTimer>()
  #duplicates = 0
  #onReport: (() => void) | undefined

  private constructor(server: Server) {
    this.#server = server
  }

  static async start(): Promise<FiredTimerCollector> {
    let collector!: FiredTimerCollector
    const server = createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (chunk: string) => (body += chunk))
      req.on('end', () => {
        try {
          collector.#record(JSON.parse(body) as FiredTimer)
          res.writeHead(204).end()
        } catch (err) {
          res.writeHead(400).end(String(err))
        }
      })
    })
    collector = new FiredTimerCollector(server)
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
    return collector
  }

  /** Where the runs POST their report. */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/fired`
  }

  /** The first report of each tenant. */
  get fired(): ReadonlyMap<string, FiredTimer> {
    return this.#fired
  }

  /** Reports beyond each tenant's first (a step that ran again). */
  get duplicates(): number {
    return this.#duplicates
  }

  /** Resolves once `count` tenants have reported, or at `deadlineMs` (epoch). */
  async waitFor(count: number, deadlineMs: number): Promise<void> {
    while (this.#fired.size < count && Date.now() < deadlineMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, Math.min(1_000, deadlineMs - Date.now())))
        this.#onReport = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.#onReport = undefined
    }
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((closed) => this.#server.close(() => closed()))
  }

  #record(report: FiredTimer): void {
    if (typeof report.tenant !== 'string' || !Number.isFinite(report.wokeAt)) {
      throw new Error(`not a timer report: ${JSON.stringify(report)}`)
    }
    if (this.#fired.has(report.tenant)) this.#duplicates += 1
    else this.#fired.set(report.tenant, report)
    this.#onReport?.()
  }
}
