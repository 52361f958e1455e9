import type { MetricsDelta } from '@litecell/protocol'
import { Counter, Gauge, Histogram, Registry as MetricsRegistry } from 'prom-client'
import { RecentDurations } from './recent-durations.js'
import type { Registry } from './registry.js'
import type { TenantState } from './tenant-record.js'

const STATES: readonly TenantState[] = ['hibernated', 'starting', 'active', 'stopping', 'failed']
/** Buckets (seconds) for wake and hibernate durations. */
const LIFECYCLE_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30]
/** Buckets (seconds) for step latency. */
const STEP_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30]

/**
 * The control plane's Prometheus metrics, in a registry of its own (no process-wide default
 * registry). Tenant states and active workers are read at scrape time; run and step figures
 * arrive from the workers with their heartbeats.
 */
export class FleetMetrics {
  readonly #registry = new MetricsRegistry()
  /** Times wakes into the histogram and, when they succeed, into {@link recentWakes}. */
  readonly wakes: LifecycleTimer
  /** Times hibernations into the histogram and, when they succeed, into {@link recentHibernations}. */
  readonly hibernations: LifecycleTimer
  /** Successful wakes of the last hour (fleet summary). */
  readonly recentWakes = new RecentDurations()
  /** Successful hibernations of the last hour (fleet summary). */
  readonly recentHibernations = new RecentDurations()
  readonly #runs: Counter<'status'>
  readonly #steps: Counter
  readonly #stepLatency: Histogram
  readonly #replicationRestarts: Counter
  readonly #crashes: Counter

  constructor(options: { registry: Registry; activeWorkers: () => number }) {
    const registers = [this.#registry]
    new Gauge({
      name: 'litecell_tenants',
      help: 'Tenants by state',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = new Map<string, number>(STATES.map((state) => [state, 0]))
        for (const tenant of options.registry.list()) counts.set(tenant.state, (counts.get(tenant.state) ?? 0) + 1)
        for (const [state, count] of counts) this.set({ state }, count)
      },
    })
    new Gauge({
      name: 'litecell_active_workers',
      help: 'Worker processes starting, active or stopping',
      registers,
      collect() {
        this.set(options.activeWorkers())
      },
    })
    this.wakes = lifecycleTimer(
      new Histogram({
        name: 'litecell_wake_duration_seconds',
        help: 'Time from wake request to worker ready',
        labelNames: ['outcome'],
        buckets: LIFECYCLE_BUCKETS,
        registers,
      }),
      this.recentWakes,
    )
    this.hibernations = lifecycleTimer(
      new Histogram({
        name: 'litecell_hibernate_duration_seconds',
        help: 'Time to stop a worker with a verified final sync',
        labelNames: ['outcome'],
        buckets: LIFECYCLE_BUCKETS,
        registers,
      }),
      this.recentHibernations,
    )
    this.#runs = new Counter({ name: 'litecell_runs_total', help: 'Runs that reached a status', labelNames: ['status'], registers })
    this.#steps = new Counter({ name: 'litecell_steps_total', help: 'Step attempts ended', registers })
    this.#stepLatency = new Histogram({
      name: 'litecell_step_duration_seconds',
      help: 'Step attempt duration (sampled, at most 2000 per worker heartbeat)',
      buckets: STEP_BUCKETS,
      registers,
    })
    this.#replicationRestarts = new Counter({
      name: 'litecell_replication_errors_total',
      help: 'Litestream processes that died and were restarted',
      registers,
    })
    this.#crashes = new Counter({ name: 'litecell_worker_crashes_total', help: 'Worker exits that were not a clean hibernation', registers })
  }

  /** Adds what a worker reported. */
  record(delta: MetricsDelta | undefined): void {
    if (!delta) return
    for (const [status, count] of Object.entries(delta.runs)) {
      if (typeof count === 'number' && count > 0) this.#runs.inc({ status }, count)
    }
    if (delta.steps > 0) this.#steps.inc(delta.steps)
    for (const ms of delta.stepMs) this.#stepLatency.observe(ms / 1000)
    if (delta.replicationRestarts > 0) this.#replicationRestarts.inc(delta.replicationRestarts)
  }

  workerCrashed(): void {
    this.#crashes.inc()
  }

  /** The Prometheus text exposition. */
  async text(): Promise<string> {
    return this.#registry.metrics()
  }

  get contentType(): string {
    return this.#registry.contentType
  }
}

/** Starts timing a wake or hibernation; call the result with its outcome when it ends. */
export interface LifecycleTimer {
  startTimer(): (labels: { outcome: 'ok' | 'error' }) => void
}

function lifecycleTimer(histogram: Histogram<'outcome'>, recent: RecentDurations): LifecycleTimer {
  return {
    startTimer() {
      const startedAt = performance.now()
      return (labels) => {
        const ms = performance.now() - startedAt
        histogram.observe(labels, ms / 1000)
        if (labels.outcome === 'ok') recent.record(ms)
      }
    },
  }
}
