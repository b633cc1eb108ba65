/**
 * A tensor as a grid of numbers, each cell coloured by its sign and size (blue negative, red
 * positive, white zero), like a heatmap you can read. Large tensors show their top-left corner
 * and say how much is left out; a vector is one row; higher ranks are flattened to [rows, rest].
 */
import type { Tensor } from 'chainrule'
import { num, shape } from './format.ts'

/** Props of Matrix: the tensor, a label for a screen reader, and how much of it to show. */
export interface MatrixProps {
  readonly t: Tensor
  readonly label: string
  readonly maxRows?: number
  readonly maxCols?: number
  /** Scale of the colours (default: the largest |value| shown), so two matrices can share one. */
  readonly scale?: number
  /** What the line under the cells says in place of the tensor's shape (e.g. which part of a bigger tensor this is). */
  readonly caption?: string
  /** Significant digits in a cell (default 2: a heatmap to glance at; 4 where cells are compared with numbers elsewhere). */
  readonly digits?: number
  /** Indices, not magnitudes: whole numbers in plain cells, with no colour scale. */
  readonly indices?: boolean
}

/** The colour of a value on a diverging scale: white at 0, full blue at -scale, full red at +scale. */
export const cellColor = (v: number, scale: number): string => {
  const t = scale > 0 ? Math.max(-1, Math.min(1, v / scale)) : 0
  const [r, g, b] = t >= 0 ? [214, 96, 77] : [67, 147, 195]
  const a = Math.abs(t)
  const mix = (c: number): number => Math.round(255 + (c - 255) * a)
  return `rgb(${mix(r)}, ${mix(g)}, ${mix(b)})`
}

/** Whether the page is phone-wide (fewer columns fit a matrix's cells there). */
export const narrow = (): boolean => typeof matchMedia === 'function' && matchMedia('(max-width: 600px)').matches

/** A tensor drawn as a grid of coloured, numbered cells. */
export const Matrix = ({
  t,
  label,
  maxRows = 8,
  maxCols = narrow() ? 6 : 10,
  scale,
  caption,
  digits = 2,
  indices = false,
}: MatrixProps) => {
  const rows = t.shape.length >= 2 ? t.shape[0]! : 1
  const cols = t.data.length / Math.max(rows, 1)
  const r = Math.min(rows, maxRows)
  const c = Math.min(cols, maxCols)
  const shown: number[] = []
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) shown.push(t.data[i * cols + j]!)
  const s = scale ?? shown.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
  const cut = [rows > r ? `${rows - r} more rows` : '', cols > c ? `${cols - c} more columns` : ''].filter((x) => x !== '').join(', ')
  return (
    <div>
      <div
        class="matrix"
        role="table"
        aria-label={`${label}, shape ${shape(t.shape)}`}
        style={{ gridTemplateColumns: `repeat(${c}, minmax(0, 1fr))`, width: `min(100%, ${c * (1.8 + 0.8 * digits)}rem)` }}
      >
        {shown.map((v, k) => (
          <span
            key={k}
            role="cell"
            title={String(v)}
            style={indices ? undefined : { background: cellColor(v, s), color: Math.abs(v) > 0.7 * s ? '#fff' : '#222' }}
          >
            {indices ? String(v) : num(v, digits)}
          </span>
        ))}
      </div>
      <div class="muted mono">
        {caption ?? shape(t.shape)}
        {cut !== '' && ` · showing ${r}×${c}; ${cut}`}
      </div>
    </div>
  )
}
