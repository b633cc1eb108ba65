/** A readable rendering of tensors, the way a person writes them down. */
import { assertTensor, showShape, type AnyTensor } from './tensor.ts'
import { checkOptions } from '../options.ts'

const fmt = (v: number, digits: number): string => {
  if (Number.isNaN(v)) return 'NaN'
  if (!Number.isFinite(v)) return v > 0 ? 'Inf' : '-Inf'
  const a = Math.abs(v)
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(Math.max(0, digits - 1))
  return v.toFixed(digits)
}

/**
 * Renders a tensor as nested brackets with aligned columns; long axes are elided with "…".
 * @example toString(tensor([[1, 2], [3, 4]])) // "Tensor [2, 2]\n[[1.0000, 2.0000],\n [3.0000, 4.0000]]"
 */
export const toString = (t: AnyTensor, options: { digits?: number; edge?: number } = {}): string => {
  assertTensor(t, 'T.toString', 'first argument')
  checkOptions('T.toString', options, ['digits', 'edge'])
  const digits = options.digits ?? 4
  const edge = options.edge ?? 4
  const r = t.shape.length
  const strides: number[] = new Array<number>(r).fill(1)
  for (let i = r - 2; i >= 0; i--) strides[i] = strides[i + 1]! * t.shape[i + 1]!
  const cells: string[] = []
  for (let i = 0; i < t.data.length; i++) cells.push(fmt(t.data[i]!, digits))
  const width = cells.reduce((w, c) => Math.max(w, c.length), 0)
  const pick = (d: number): (number | null)[] =>
    d <= 2 * edge + 1
      ? Array.from({ length: d }, (_, i) => i)
      : [...Array.from({ length: edge }, (_, i) => i), null, ...Array.from({ length: edge }, (_, i) => d - edge + i)]
  const rec = (axis: number, offset: number, indent: string): string => {
    if (axis === r) return (cells[offset] ?? '').padStart(width)
    const d = t.shape[axis]!
    const parts = pick(d).map((i) => (i === null ? '…' : rec(axis + 1, offset + i * strides[axis]!, indent + ' ')))
    const sep = axis === r - 1 ? ', ' : ',\n' + indent + ' '
    return '[' + parts.join(sep) + ']'
  }
  return `Tensor ${showShape(t.shape)}\n${rec(0, 0, '')}`
}
