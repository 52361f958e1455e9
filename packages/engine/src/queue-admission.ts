/**
 * One execution waiting for admission to its queue. `priority` and `order` are the run's
 * `lc_runs.priority` and `lc_runs.id`, both durable, so the order in which a queue admits its
 * runs is a function of the database alone: an engine that opens after a crash or a
 * hibernation rebuilds the same order from the runs it recovers.
 */
export interface Ticket {
  /** Lower first. */
  readonly priority: number
  /** Insertion order of the run (its `lc_runs.id`): FIFO within a priority. */
  readonly order: number
  /** The run's partition key, or `null`. */
  readonly partition: string | null
  /** Starts the execution; the promise settles when it ends (it never rejects). */
  readonly start: () => Promise<void>
}

/** The limits of one queue (from the app's `QueueDefinition`, or the engine's default queue). */
export interface AdmissionLimits {
  readonly concurrency: number
  readonly partitionConcurrency?: number | undefined
  readonly rateLimit?: { readonly limit: number; readonly periodMs: number } | undefined
}

/** Binary min-heap of tickets by `(priority, order)`. */
class TicketHeap {
  readonly #items: Ticket[] = []

  get size(): number {
    return this.#items.length
  }

  push(ticket: Ticket): void {
    const items = this.#items
    let i = items.push(ticket) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(ticket, items[parent] as Ticket)) break
      items[i] = items[parent] as Ticket
      i = parent
    }
    items[i] = ticket
  }

  pop(): Ticket | undefined {
    const items = this.#items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= items.length) break
      const right = left + 1
      const child =
        right < items.length && before(items[right] as Ticket, items[left] as Ticket) ? right : left
      if (!before(items[child] as Ticket, last)) break
      items[i] = items[child] as Ticket
      i = child
    }
    items[i] = last
    return top
  }
}

function before(a: Ticket, b: Ticket): boolean {
  return a.priority < b.priority || (a.priority === b.priority && a.order < b.order)
}

/**
 * Admission to one queue: executions start in `(priority, order)` order, at most
 * `concurrency` at once, at most `partitionConcurrency` of one partition at once, and at most
 * `rateLimit.limit` starts in any window of `rateLimit.periodMs` (sliding, real time).
 *
 * A ticket whose partition is full waits in that partition's own heap, so it never blocks the
 * tickets of other partitions behind it; each execution of a partition that ends moves the
 * partition's best waiting ticket back into the queue's heap.
 *
 * Limits count executions, as p-queue did before: a run that sleeps or waits leaves its slot,
 * and takes one again (in its priority order) when it wakes.
 */
export class RunQueue {
  readonly #concurrency: number
  readonly #partitionConcurrency: number | null
  readonly #rateLimit: { readonly limit: number; readonly periodMs: number } | null
  readonly #ready = new TicketHeap()
  readonly #blocked = new Map<string, TicketHeap>()
  readonly #runningByPartition = new Map<string, number>()
  /** Start times (performance.now) of the last `rateLimit.limit` executions, oldest first. */
  #starts: number[] = []
  #rateTimer: NodeJS.Timeout | null = null
  #running = 0

  constructor(limits: AdmissionLimits) {
    this.#concurrency = limits.concurrency
    this.#partitionConcurrency = limits.partitionConcurrency ?? null
    this.#rateLimit = limits.rateLimit ?? null
  }

  /** Executions started and not yet ended. */
  get running(): number {
    return this.#running
  }

  /** Tickets waiting for admission. */
  get waiting(): number {
    let waiting = this.#ready.size
    for (const heap of this.#blocked.values()) waiting += heap.size
    return waiting
  }

  /**
   * True if a ticket without a partition added now would start at once: a free slot, nobody
   * waiting ahead, and no rate limit (whose window would need a clock read to judge).
   */
  admitsAtOnce(): boolean {
    return this.#running < this.#concurrency && this.#ready.size === 0 && this.#rateLimit === null
  }

  /** Queues a ticket; starts it at once (synchronously) if the limits allow. */
  add(ticket: Ticket): void {
    this.#ready.push(ticket)
    this.#pump()
  }

  /** Drops every waiting ticket (close); running executions go on. */
  clear(): void {
    while (this.#ready.pop() !== undefined);
    this.#blocked.clear()
    if (this.#rateTimer !== null) clearTimeout(this.#rateTimer)
    this.#rateTimer = null
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#ready.size > 0) {
      if (!this.#rateAllows()) return
      const ticket = this.#ready.pop() as Ticket
      const partition = this.#partitionConcurrency === null ? null : ticket.partition
      if (partition !== null) {
        const running = this.#runningByPartition.get(partition) ?? 0
        if (running >= (this.#partitionConcurrency as number)) {
          let blocked = this.#blocked.get(partition)
          if (blocked === undefined) this.#blocked.set(partition, (blocked = new TicketHeap()))
          blocked.push(ticket)
          continue
        }
        this.#runningByPartition.set(partition, running + 1)
      }
      this.#running++
      if (this.#rateLimit !== null) this.#noteStart()
      // p-queue also moved on in a microtask after a task ended, so a chain of executions
      // cannot grow the stack.
      void ticket.start().then(() => queueMicrotask(() => this.#release(partition)))
    }
  }

  #release(partition: string | null): void {
    this.#running--
    if (partition !== null) {
      const running = (this.#runningByPartition.get(partition) ?? 1) - 1
      if (running === 0) this.#runningByPartition.delete(partition)
      else this.#runningByPartition.set(partition, running)
      const blocked = this.#blocked.get(partition)
      const next = blocked?.pop()
      if (next !== undefined) this.#ready.push(next)
      if (blocked !== undefined && blocked.size === 0) this.#blocked.delete(partition)
    }
    this.#pump()
  }

  #rateAllows(): boolean {
    const limit = this.#rateLimit
    if (limit === null || this.#starts.length < limit.limit) return true
    const waitMs = (this.#starts[0] as number) + limit.periodMs - performance.now()
    if (waitMs <= 0) return true
    if (this.#rateTimer === null) {
      this.#rateTimer = setTimeout(() => {
        this.#rateTimer = null
        this.#pump()
      }, Math.ceil(waitMs))
    }
    return false
  }

  #noteStart(): void {
    const limit = this.#rateLimit as { limit: number }
    this.#starts.push(performance.now())
    if (this.#starts.length > limit.limit) this.#starts.shift()
  }
}
