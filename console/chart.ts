// uPlot inside a preact component: drawn on a canvas, rebuilt when its data changes, sized to its box.
import { html } from 'htm/preact'
import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'

export interface ChartProps {
  data: uPlot.AlignedData
  series: uPlot.Series[]
  height: number
  /** bars for counts, lines for measurements */
  bars?: boolean
  label: string
}

const AXIS = { stroke: '#8b97a6', grid: { stroke: '#1f2935', width: 1 }, ticks: { stroke: '#1f2935', width: 1 }, font: '13px system-ui, sans-serif' }

export function Chart({ data, series, height, bars, label }: ChartProps) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current!
    const plot = new uPlot(
      {
        width: el.clientWidth,
        height,
        legend: { show: !bars },
        cursor: { show: !bars, points: { size: 6 } },
        scales: { x: { time: true } },
        axes: [AXIS, { ...AXIS, size: 56 }],
        series: [{}, ...series.map((s) => (bars ? { ...s, paths: uPlot.paths.bars!({ size: [0.7, 40] }), points: { show: false } } : s))],
      },
      data,
      el,
    )
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.destroy()
    }
  }, [data, series, height, bars])
  return html`<div class="chart" ref=${box} role="img" aria-label=${label}></div>`
}
