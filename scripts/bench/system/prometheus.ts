import type { LitecellClient } from '@litecell/client'

/** Count and sum (seconds) of one histogram, by its `outcome` label. */
export interface LifecycleCounts {
  readonly ok: number
  readonly error: number
  readonly okSumSeconds: number
}

/** What the bench reads from `GET /metrics`. */
export interface FleetSnapshot {
  readonly wakes: LifecycleCounts
  readonly hibernations: LifecycleCounts
  readonly activeWorkers: number
  readonly crashes: number
}

/** Scrapes the control plane's Prometheus text (admin token). */
export async function scrapeFleet(admin: LitecellClient): Promise<FleetSnapshot> {
  const text = await admin.metrics()
  return {
    wakes: lifecycle(text, 'litecell_wake_duration_seconds'),
    hibernations: lifecycle(text, 'litecell_hibernate_duration_seconds'),
    activeWorkers: sample(text, 'litecell_active_workers'),
    crashes: sample(text, 'litecell_worker_crashes_total'),
  }
}

/** What happened between two scrapes. */
export function fleetDelta(before: FleetSnapshot, after: FleetSnapshot) {
  const minus = (a: LifecycleCounts, b: LifecycleCounts) => ({
    ok: a.ok - b.ok,
    error: a.error - b.error,
    /** Mean duration (ms) of the successful ones, as the control plane timed them. */
    okMeanMs: a.ok > b.ok ? Math.round(((a.okSumSeconds - b.okSumSeconds) / (a.ok - b.ok)) * 1000) : null,
  })
  return {
    wakes: minus(after.wakes, before.wakes),
    hibernations: minus(after.hibernations, before.hibernations),
    crashes: after.crashes - before.crashes,
  }
}

function lifecycle(text: string, name: string): LifecycleCounts {
  return {
    ok: sample(text, `${name}_count`, 'outcome="ok"'),
    error: sample(text, `${name}_count`, 'outcome="error"'),
    okSumSeconds: sample(text, `${name}_sum`, 'outcome="ok"'),
  }
}

/** The value of a sample line `name{…label…} value` (0 when absent: prom-client omits unseen labels). */
function sample(text: string, name: string, label?: string): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue
    if (label !== undefined && !rest.includes(label)) continue
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (Number.isFinite(value)) return value
  }
  return 0
}
