/**
 * A chart: one of the library's Plot specs (Vega-Lite JSON), compiled by vega-lite and drawn by
 * vega as SVG (or on a canvas, for image grids of thousands of cells). A new spec replaces the
 * drawing; specs that arrive while one is being drawn wait, and only the newest of them is drawn
 * (live training can outpace the drawing).
 */
import { useEffect, useRef } from 'preact/hooks'
import { parse, View } from 'vega'
import { compile } from 'vega-lite'
import type { Plot } from 'chainrule'

/** Draws a spec into an element, returning the view (to finalize when replaced). */
const render = async (spec: Plot.VegaLiteSpec, container: HTMLElement, renderer: 'svg' | 'canvas'): Promise<View> => {
  const view = new View(parse(compile(spec).spec), { renderer, container, hover: false })
  await view.runAsync()
  return view
}

/** Props of Chart: the spec (nothing drawn while undefined) and what the chart shows, for a screen reader and a caption. */
export interface ChartProps {
  readonly spec: Plot.VegaLiteSpec | undefined
  readonly label: string
  readonly caption?: string
  /** 'svg' (default), or 'canvas' for charts of thousands of marks (image grids), which it draws faster. */
  readonly renderer?: 'svg' | 'canvas'
}

/** A Plot spec drawn by vega, fitted to its column. */
export const Chart = ({ spec, label, caption, renderer = 'svg' }: ChartProps) => {
  const box = useRef<HTMLDivElement>(null)
  const state = useRef<{ view: View | undefined; busy: boolean; next: Plot.VegaLiteSpec | undefined }>({
    view: undefined,
    busy: false,
    next: undefined,
  })
  useEffect(() => {
    const s = state.current
    s.next = spec
    if (s.busy || spec === undefined) return
    const pump = async (): Promise<void> => {
      s.busy = true
      while (s.next !== undefined && box.current !== null) {
        const todo = s.next
        s.next = undefined
        const view = await render(todo, box.current, renderer)
        s.view?.finalize()
        s.view = view
      }
      s.busy = false
    }
    pump().catch((e: unknown) => {
      s.busy = false
      console.error(e)
    })
  }, [spec])
  useEffect(() => () => state.current.view?.finalize(), [])
  return (
    <figure class="chart" role="img" aria-label={label}>
      <div ref={box} />
      {caption !== undefined && <figcaption>{caption}</figcaption>}
    </figure>
  )
}
