import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import type { ChartAxes, ChartData } from '../chart-series.js'

/** Line colours, chosen to stay apart for the first dozen series. */
const PALETTE = ['#4f46e5', '#0d9488', '#d97706', '#db2777', '#2563eb', '#65a30d', '#9333ea', '#dc2626', '#0891b2', '#ca8a04', '#475569', '#16a34a']
const HEIGHT_PX = 340

/**
 * A uPlot line chart of aligned query data (one line per series). uPlot draws on a canvas and
 * stays fast with thousands of points; the chart is rebuilt when data or axes change and
 * resized with its container.
 */
export function QueryChart(props: { data: ChartData; axes: ChartAxes }) {
  const container = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const element = container.current
    if (!element) return
    const options: uPlot.Options = {
      width: Math.max(320, element.clientWidth),
      height: HEIGHT_PX,
      scales: { x: { time: false } },
      axes: [
        { label: props.axes.x, stroke: '#475569', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e2e5ea' } },
        { label: props.axes.y, stroke: '#475569', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e2e5ea' }, size: 60 },
      ],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      series: [
        { label: props.axes.x },
        ...props.data.series.map((series, index) => ({
          label: series.label,
          stroke: PALETTE[index % PALETTE.length],
          width: 2,
          spanGaps: true,
          points: { size: 5 },
        })),
      ],
    }
    const data: uPlot.AlignedData = [props.data.xs, ...props.data.series.map((series) => series.values)]
    const chart = new uPlot(options, data, element)
    const observer = new ResizeObserver(() => chart.setSize({ width: Math.max(320, element.clientWidth), height: HEIGHT_PX }))
    observer.observe(element)
    return () => {
      observer.disconnect()
      chart.destroy()
    }
  }, [props.data, props.axes])
  return <div class="chart" ref={container} data-testid="chart" />
}
