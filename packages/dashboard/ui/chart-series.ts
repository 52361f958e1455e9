import type { JsonValue, QueryResult } from './api-types.js'

/** Most lines one chart draws (one per value of the group column). */
export const MAX_SERIES = 40

/** uPlot's aligned data: shared x values, then one y array per line (null = no point). */
export interface ChartData {
  readonly xs: number[]
  readonly series: { readonly label: string; readonly values: (number | null)[] }[]
  /** Distinct group values beyond {@link MAX_SERIES}, left out. */
  readonly omittedGroups: number
}

/** Which columns to plot. */
export interface ChartAxes {
  readonly x: string
  readonly y: string
  /** One line per distinct value of this column; null for a single line. */
  readonly group: string | null
}

/** Columns whose values are all numbers (nulls aside), with at least one number. */
export function numericColumns(result: Pick<QueryResult, 'columns' | 'rows'>): string[] {
  return result.columns.filter((column) => {
    let seen = false
    for (const row of result.rows) {
      const value = row[column]
      if (value === null || value === undefined) continue
      if (typeof value !== 'number' || !Number.isFinite(value)) return false
      seen = true
    }
    return seen
  })
}

/**
 * The axes a result suggests: the first two numeric columns as x and y, the next column (any
 * type) as the group, so `SELECT epoch, loss, lr FROM metrics` plots loss against epoch, one
 * line per lr. Null when fewer than two numeric columns exist.
 */
export function defaultAxes(result: Pick<QueryResult, 'columns' | 'rows'>): ChartAxes | null {
  const numeric = numericColumns(result)
  const [x, y] = numeric
  if (x === undefined || y === undefined) return null
  const group = result.columns.find((column) => column !== x && column !== y) ?? null
  return { x, y, group }
}

/**
 * Aligns rows into uPlot's shape: x values sorted and de-duplicated, one line per group value
 * (sorted numerically when they are numbers), several y values at one x of one group
 * averaged. Rows whose x or y is not a number are skipped.
 */
export function chartData(rows: readonly Record<string, JsonValue>[], axes: ChartAxes): ChartData {
  const groups = new Map<string, { key: JsonValue; points: Map<number, { sum: number; count: number }> }>()
  const xSet = new Set<number>()
  for (const row of rows) {
    const x = row[axes.x]
    const y = row[axes.y]
    if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) continue
    const key = axes.group === null ? null : (row[axes.group] ?? null)
    const label = axes.group === null ? axes.y : `${axes.group}=${typeof key === 'string' ? key : JSON.stringify(key)}`
    let group = groups.get(label)
    if (!group) groups.set(label, (group = { key, points: new Map() }))
    const point = group.points.get(x) ?? { sum: 0, count: 0 }
    point.sum += y
    point.count += 1
    group.points.set(x, point)
    xSet.add(x)
  }
  const xs = [...xSet].sort((a, b) => a - b)
  const ordered = [...groups.entries()].sort(([labelA, a], [labelB, b]) =>
    typeof a.key === 'number' && typeof b.key === 'number' ? a.key - b.key : labelA.localeCompare(labelB),
  )
  const kept = ordered.slice(0, MAX_SERIES)
  return {
    xs,
    series: kept.map(([label, group]) => ({
      label,
      values: xs.map((x) => {
        const point = group.points.get(x)
        return point ? point.sum / point.count : null
      }),
    })),
    omittedGroups: ordered.length - kept.length,
  }
}
