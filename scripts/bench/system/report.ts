import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Machine } from './machine.js'
import type { ScenarioResult } from './scenario.js'

/** Everything one `pnpm bench` run found, as written to `bench-results/system.json`. */
export interface BenchReport {
  readonly mode: 'quick' | 'full' | 'wake' | 'api' | 'rss'
  readonly machine: Machine
  readonly seconds: number
  /** True when every scenario completed and every check held (speed is never asserted). */
  readonly ok: boolean
  readonly scenarios: readonly ScenarioResult[]
}

/** The report as a readable table: one section per scenario, figure and value columns. */
export function formatTable(report: BenchReport): string {
  const { machine } = report
  const lines = [
    `litecell system benchmark (${report.mode}) — ${report.ok ? 'all scenarios completed, every check held' : 'FAILED'} in ${report.seconds} s`,
    `machine: ${machine.cpuCount} × ${machine.cpuModel}, ${machine.memoryMb} MB RAM (${machine.freeMemoryMb} free), ${machine.platform}, node ${machine.node}`,
    `load average at start (1/5/15 min): ${machine.loadAverage.join(' / ')}; started ${machine.startedAt}`,
    'figures are medians over the repeats unless marked p99; latencies in ms',
  ]
  const width = Math.max(40, ...report.scenarios.flatMap((s) => s.table.map(([figure]) => figure.length)))
  for (const scenario of report.scenarios) {
    lines.push('', `${scenario.name} — ${scenario.status} (${scenario.seconds} s)`, `${'-'.repeat(width + 20)}`)
    for (const [figure, value] of scenario.table) lines.push(`${figure.padEnd(width)}  ${value}`)
    for (const check of scenario.checks.filter((c) => !c.ok)) lines.push(`FAILED CHECK: ${check.what}${check.detail ? ` (${check.detail})` : ''}`)
    if (scenario.error) lines.push(`ERROR: ${scenario.error.split('\n')[0]}`)
    const held = scenario.checks.filter((c) => c.ok).length
    if (scenario.checks.length > 0) lines.push(`checks: ${held}/${scenario.checks.length} held`)
  }
  return `${lines.join('\n')}\n`
}

/** Writes the report as JSON (creating the folder). */
export function writeReport(path: string, report: BenchReport): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`)
}
