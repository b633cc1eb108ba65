/**
 * A tensor as a grid of numbers, each cell coloured by its sign and size (blue negative, red
 * positive, white zero), like a heatmap you can read. Large tensors show their top-left corner
 * and say how much is left out; a vector is one row; higher ranks are flattened to [rows, rest].
 * The rows and columns are numbered from 0, as the gradient check's coordinates are, and the
 * cells a check marks are outlined and shown even past the corner (their rows and columns added,
 * the numbering saying where); a grid wider than its column scrolls sideways by itself. The grid
 * is a table to a screen reader, row by row, its numbers as row and column headers.
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
  /** Flat indices into t to outline, shown even past the rows and columns shown (a gradient check's coordinates). */
  readonly marks?: readonly number[]
  /** The index of the first row and column in the bigger tensor this is a part of (a crop), for the numbering. */
  readonly origin?: readonly [number, number]
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
  marks = [],
  origin = [0, 0],
}: MatrixProps) => {
  const rows = t.shape.length >= 2 ? t.shape[0]! : 1
  const cols = t.data.length / Math.max(rows, 1)
  const r = Math.min(rows, maxRows)
  const c = Math.min(cols, maxCols)
  const upTo = (n: number, extra: readonly number[]): number[] =>
    [...new Set([...Array.from({ length: n }, (_, i) => i), ...extra])].sort((a, b) => a - b)
  const rowsShown = upTo(
    r,
    marks.map((m) => Math.floor(m / cols)),
  )
  const colsShown = upTo(
    c,
    marks.map((m) => m % cols),
  )
  const marked = new Set(marks)
  const shown = rowsShown.flatMap((i) => colsShown.map((j) => i * cols + j))
  const s = scale ?? shown.reduce((m, k) => Math.max(m, Math.abs(t.data[k]!)), 0)
  const cut = [rows > r ? `${rows - r} more rows` : '', cols > c ? `${cols - c} more columns` : ''].filter((x) => x !== '').join(', ')
  const extra = rowsShown.length > r || colsShown.length > c ? ' and the outlined cells' : ''
  const numbered = t.shape.length >= 2 // a vector is one row: its columns are numbered, not its row
  // a cell is never narrower than its number (a grid wider than its column scrolls), and no wider than it needs
  const head = numbered ? 1.4 : 0
  const most = colsShown.length * (1.8 + 0.8 * digits) + head
  const at = (k: number): string =>
    t.shape.length >= 2 ? `[${origin[0] + Math.floor(k / cols)}, ${origin[1] + (k % cols)}]` : `[${origin[1] + k}]`
  return (
    <div>
      <div class="matrix-scroll">
        <div
          class="matrix"
          role="table"
          aria-label={`${label}, shape ${shape(t.shape)}`}
          style={{
            gridTemplateColumns: `${numbered ? 'max-content ' : ''}repeat(${colsShown.length}, minmax(max-content, 1fr))`,
            width: `min(100%, ${most}rem)`,
          }}
        >
          <div role="row" class="mrow">
            {numbered && <span class="idx" />}
            {colsShown.map((j) => (
              <span key={`c${j}`} class="idx" role="columnheader">
                {origin[1] + j}
              </span>
            ))}
          </div>
          {rowsShown.map((i) => (
            <div key={i} role="row" class="mrow">
              {numbered && (
                <span class="idx" role="rowheader">
                  {origin[0] + i}
                </span>
              )}
              {colsShown.map((j) => {
                const k = i * cols + j
                const v = t.data[k]!
                return (
                  <span
                    key={k}
                    role="cell"
                    title={`${at(k)} = ${v}`}
                    class={marked.has(k) ? 'marked' : undefined}
                    style={indices ? undefined : { background: cellColor(v, s), color: Math.abs(v) > 0.7 * s ? '#fff' : '#222' }}
                  >
                    {indices ? String(v) : num(v, digits)}
                  </span>
                )
              })}
            </div>
          ))}
        </div>
      </div>
      <div class="muted mono">
        {caption ?? shape(t.shape)}
        {cut !== '' && ` · showing ${r}×${c}${extra}; ${cut}`}
      </div>
    </div>
  )
}
