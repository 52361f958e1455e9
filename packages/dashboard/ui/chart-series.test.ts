import { describe, expect, it } from 'vitest'
import { MAX_SERIES, chartData, defaultAxes, numericColumns } from './chart-series.js'

const metrics = {
  columns: ['epoch', 'loss', 'lr'],
  rows: [
    { epoch: 2, loss: 0.5, lr: 0.1 },
    { epoch: 1, loss: 0.9, lr: 0.1 },
    { epoch: 1, loss: 1.2, lr: 0.01 },
    { epoch: 2, loss: 1.0, lr: 0.01 },
    { epoch: 3, loss: 0.8, lr: 0.01 },
  ],
}

describe('chart series', () => {
  it('suggests the first two numeric columns against each other, one line per the third', () => {
    expect(defaultAxes(metrics)).toEqual({ x: 'epoch', y: 'loss', group: 'lr' })
    expect(defaultAxes({ columns: ['name', 'n'], rows: [{ name: 'a', n: 1 }] })).toBeNull()
  })

  it('aligns rows into shared x values with one line per group, gaps as null', () => {
    const data = chartData(metrics.rows, { x: 'epoch', y: 'loss', group: 'lr' })
    expect(data.xs).toEqual([1, 2, 3])
    expect(data.series).toEqual([
      { label: 'lr=0.01', values: [1.2, 1.0, 0.8] },
      { label: 'lr=0.1', values: [0.9, 0.5, null] },
    ])
  })

  it('averages several points of one group at one x and skips non-numeric values', () => {
    const rows = [
      { x: 1, y: 2 },
      { x: 1, y: 4 },
      { x: 2, y: null },
      { x: 'three', y: 1 },
    ]
    expect(numericColumns({ columns: ['x', 'y'], rows })).toEqual(['y'])
    expect(chartData(rows, { x: 'x', y: 'y', group: null })).toEqual({ xs: [1], series: [{ label: 'y', values: [3] }], omittedGroups: 0 })
  })

  it('draws at most MAX_SERIES lines and says how many it left out', () => {
    const rows = Array.from({ length: MAX_SERIES + 5 }, (_, i) => ({ x: 1, y: i, g: i }))
    const data = chartData(rows, { x: 'x', y: 'y', group: 'g' })
    expect(data.series).toHaveLength(MAX_SERIES)
    expect(data.omittedGroups).toBe(5)
  })
})
