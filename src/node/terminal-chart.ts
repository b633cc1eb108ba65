/**
 * A line chart in the terminal, drawn with Unicode braille characters: each character is a
 * 2×4 grid of dots, so a 60×12 chart has 120×48 dots of resolution. An ASCII fallback draws one
 * '*' per character cell. No dependency: the drawing is a dot grid and Bresenham's line.
 *
 *   lineChart([3, 2, 1], { width: 20, height: 6, title: 'falling', xLabel: 'step' })
 *
 *   falling
 *      3 ┤⠑⠢⢄
 *        │   ⠉⠒⢄⡀
 *   2.17 ┤      ⠈⠑⠤⣀
 *        │          ⠑⠢⢄⡀
 *        │             ⠈⠒⠤⡀
 *      1 ┤                ⠈⠑⠢⢄
 *        └────────────────────
 *         1       step        3
 */
import type { History } from '../train/fit.ts'
import { checkOptions } from '../options.ts'

/** Options of lineChart. */
export interface LineChartOptions {
  /** Plot area in characters (default 60 × 12). */
  readonly width?: number
  readonly height?: number
  /** A line above the chart. */
  readonly title?: string
  /** Log-scaled y axis (every value must be > 0). */
  readonly log?: boolean
  /** 'braille' (default) or 'ascii' for terminals without braille glyphs. */
  readonly charset?: 'braille' | 'ascii'
  /** The x values of the first and last point, for the axis labels (default 1 and n). */
  readonly xRange?: readonly [number, number]
  /** A label under the middle of the x axis. */
  readonly xLabel?: string
}

// Braille dot bits, by [row][column] inside a character cell (Unicode U+2800 block).
const BRAILLE_BITS = [
  [0x01, 0x08],
  [0x02, 0x10],
  [0x04, 0x20],
  [0x40, 0x80],
] as const

const fmt = (v: number): string => {
  const a = Math.abs(v)
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(1)
  return String(Number(v.toPrecision(3)))
}

/**
 * A line through the values, as lines of text. Longer series than there are dot columns are
 * averaged per column (a smoothed curve); shorter ones are spread out and joined by lines.
 * @example console.log(lineChart(history.steps.map((s) => s.loss), { title: 'loss', log: true }))
 */
export const lineChart = (values: readonly number[], options: LineChartOptions = {}): string => {
  checkOptions('lineChart', options, ['width', 'height', 'title', 'log', 'charset', 'xRange', 'xLabel'])
  const width = options.width ?? 60
  const height = options.height ?? 12
  if (!Number.isInteger(width) || width < 4 || !Number.isInteger(height) || height < 2) {
    throw new RangeError(`lineChart: width must be an integer >= 4 and height >= 2, got ${width} × ${height}`)
  }
  const finite = values.filter((v) => Number.isFinite(v) && (!options.log || v > 0))
  if (finite.length === 0) return `${options.title ?? ''}\n  (no ${options.log ? 'positive ' : ''}finite values to draw)`
  const braille = (options.charset ?? 'braille') === 'braille'
  const [cw, ch] = braille ? [2, 4] : [1, 1]
  const dw = width * cw
  const dh = height * ch
  const f = options.log ? Math.log10 : (v: number) => v
  const n = finite.length
  // one point per dot column (means of buckets), or each value at its own column
  const pts: [number, number][] = []
  if (n > dw) {
    for (let c = 0; c < dw; c++) {
      const a = Math.floor((c * n) / dw)
      const b = Math.max(a + 1, Math.floor(((c + 1) * n) / dw))
      let s = 0
      for (let i = a; i < b; i++) s += f(finite[i] as number)
      pts.push([c, s / (b - a)])
    }
  } else {
    finite.forEach((v, i) => pts.push([n === 1 ? 0 : Math.round((i * (dw - 1)) / (n - 1)), f(v)]))
  }
  let lo = Infinity
  let hi = -Infinity
  for (const [, y] of pts) ((lo = Math.min(lo, y)), (hi = Math.max(hi, y)))
  if (hi === lo) ((hi += 0.5), (lo -= 0.5))
  const row = (y: number): number => Math.round(((hi - y) / (hi - lo)) * (dh - 1))

  const dots = Array.from({ length: dh }, () => new Uint8Array(dw))
  const set = (x: number, y: number): void => {
    ;(dots[y] as Uint8Array)[x] = 1
  }
  let prev: [number, number] | undefined
  for (const [x, yv] of pts) {
    const y = row(yv)
    if (prev === undefined) set(x, y)
    else {
      // Bresenham from prev to (x, y)
      let [x0, y0] = prev
      const dx = Math.abs(x - x0)
      const dy = -Math.abs(y - y0)
      const sx = x0 < x ? 1 : -1
      const sy = y0 < y ? 1 : -1
      let err = dx + dy
      for (;;) {
        set(x0, y0)
        if (x0 === x && y0 === y) break
        const e2 = 2 * err
        if (e2 >= dy) ((err += dy), (x0 += sx))
        if (e2 <= dx) ((err += dx), (y0 += sy))
      }
    }
    prev = [x, y]
  }

  const unf = options.log ? (v: number) => 10 ** v : (v: number) => v
  const labels = new Map<number, string>([
    [0, fmt(unf(hi))],
    [height - 1, fmt(unf(lo))],
  ])
  if (height >= 5)
    labels.set(Math.floor((height - 1) / 2), fmt(unf(hi - ((hi - lo) * (Math.floor((height - 1) / 2) * ch + (ch - 1) / 2)) / (dh - 1))))
  const pad = Math.max(...[...labels.values()].map((l) => l.length))
  const lines: string[] = []
  if (options.title !== undefined) lines.push(options.title)
  for (let r = 0; r < height; r++) {
    let s = ''
    for (let c = 0; c < width; c++) {
      let bits = 0
      for (let i = 0; i < ch; i++)
        for (let j = 0; j < cw; j++)
          if ((dots[r * ch + i] as Uint8Array)[c * cw + j] === 1)
            bits |= braille ? ((BRAILLE_BITS[i] as readonly [number, number])[j] as number) : 1
      s += bits === 0 ? ' ' : braille ? String.fromCharCode(0x2800 + bits) : '*'
    }
    const label = labels.get(r)
    lines.push(`${(label ?? '').padStart(pad)} ${label === undefined ? '│' : '┤'}${s.trimEnd()}`)
  }
  lines.push(`${' '.repeat(pad)} └${'─'.repeat(width)}`)
  const [x0, x1] = options.xRange ?? [1, values.length]
  const left = x0.toLocaleString('en-US')
  const right = x1.toLocaleString('en-US')
  const mid = options.xLabel ?? ''
  const inner = width + 1 - left.length - right.length
  const midPad = Math.max(1, Math.floor((inner - mid.length) / 2))
  lines.push(`${' '.repeat(pad + 2)}${left}${' '.repeat(midPad)}${mid}${' '.repeat(Math.max(1, inner - midPad - mid.length))}${right}`)
  return lines.join('\n')
}

/**
 * The per-step training loss of a history as a terminal chart, for the end of a run.
 * @example console.log(lossCurve(history))
 */
export const lossCurve = (history: History, options: LineChartOptions = {}): string => {
  checkOptions('lossCurve', options, ['width', 'height', 'title', 'log', 'charset', 'xRange', 'xLabel'])
  const steps = history.steps
  if (steps.length === 0) return 'loss per step: (no steps recorded)'
  const width = options.width ?? 60
  const perColumn = steps.length / (width * ((options.charset ?? 'braille') === 'braille' ? 2 : 1))
  const first = steps[0] as { step: number }
  const last = steps[steps.length - 1] as { step: number; loss: number }
  return lineChart(
    steps.map((s) => s.loss),
    {
      title: `training loss per step${perColumn > 1 ? ` (each dot column: the mean of ${Math.round(perColumn)} steps)` : ''}${options.log ? ', log scale' : ''}; last step ${fmt(last.loss)}`,
      xRange: [first.step, last.step],
      xLabel: 'step',
      ...options,
    },
  )
}
