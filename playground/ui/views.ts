/**
 * The Train mode's pictures as Plot specs: each unit's output over the input plane (one image per
 * unit, like TensorFlow Playground's neurons), the first layer's filters, and one digit's
 * activations layer by layer. The numbers come from playground/core/train.ts; the drawing is the
 * library's Plot.imageGrid. Units, filters, channels and examples are numbered from 0, as the
 * Step mode's matrices and the gradient check's coordinates are (filter 5 is W[5]).
 */
import { Plot, T, type Tensor } from 'chainrule'
import type { LayerMaps, LayerOutput, FirstLayerWeights } from '../core/train.ts'

/** A colour scale's end rounded up to two significant digits (6.79 → 6.8, 17.8 → 18), so the legend reads round numbers; 1 for 0. */
export const roundUp = (v: number): number => {
  if (!(v > 0)) return 1
  const unit = 10 ** (Math.floor(Math.log10(v)) - 1)
  return Number((Math.ceil(v / unit - 1e-9) * unit).toPrecision(2))
}

/** One layer's units over the plane as a grid of small images, up the page as up the plane (the grid's rows run from the bottom). */
export const unitHeatmaps = (maps: LayerMaps, resolution: number): Plot.VegaLiteSpec => {
  const pictures = maps.units.map(({ unit, values }) => {
    const flipped = new Float64Array(values.length)
    for (let r = 0; r < resolution; r++)
      flipped.set(values.subarray(r * resolution, (r + 1) * resolution), (resolution - 1 - r) * resolution)
    return { pixels: T.fromArray([resolution, resolution], flipped), title: `unit ${unit}` }
  })
  const bound = roundUp(Math.max(Math.abs(maps.min), Math.abs(maps.max)))
  return Plot.imageGrid(pictures, {
    columns: Math.min(8, pictures.length),
    pixelSize: 3,
    color: maps.min < 0 ? 'diverging' : 'greys',
    domain: maps.min < 0 ? [-bound, bound] : [0, bound],
    title: maps.name,
    legendTitle: 'output',
  })
}

/** A shape's three dims, or undefined when it has another rank. */
const dims3 = (s: readonly number[]): [number, number, number] | undefined => {
  const [a, b, c] = s
  return s.length === 3 && a !== undefined && b !== undefined && c !== undefined ? [a, b, c] : undefined
}

/** A shape's four dims, or undefined when it has another rank. */
const dims4 = (s: readonly number[]): [number, number, number, number] | undefined => {
  const [a, b, c, d] = s
  return s.length === 4 && a !== undefined && b !== undefined && c !== undefined && d !== undefined ? [a, b, c, d] : undefined
}

/**
 * Conv kernels [out, in, kh, kw] as pictures, one per filter (one row per filter and a column per
 * input channel when there are several), numbered from 1 as the layers are, on one diverging scale.
 */
export const kernelPictures = (W: Tensor, title: string): Plot.VegaLiteSpec => {
  const d = dims4(W.shape)
  if (d === undefined) throw new Error(`kernelPictures: kernels are [out, in, kh, kw], got [${W.shape.join(', ')}]`)
  const [out, inC, kh, kw] = d
  const count = Math.min(out, 32)
  const pictures = []
  for (let o = 0; o < count; o++)
    for (let c = 0; c < inC; c++) {
      const at = (o * inC + c) * kh * kw
      pictures.push({
        pixels: T.fromArray([kh, kw], W.data.subarray(at, at + kh * kw)),
        title: inC === 1 ? `filter ${o}` : `${o}·${c}`,
      })
    }
  const bound = roundUp(W.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0))
  return Plot.imageGrid(pictures, {
    columns: inC === 1 ? Math.min(8, count) : Math.min(8, inC),
    pixelSize: Math.max(3, Math.ceil(36 / Math.max(kh, kw))),
    color: 'diverging',
    domain: [-bound, bound],
    title,
    subtitle: `${count} of ${out} filters, ${kh}×${kw}${inC === 1 ? '' : ', one column per input channel (caption: filter·channel)'}`,
    legendTitle: 'weight',
  })
}

/** The first layer's weights as pictures: conv kernels, or a dense unit's weights on the image. */
export const filters = (w: FirstLayerWeights): Plot.VegaLiteSpec =>
  w.kind === 'conv2d'
    ? kernelPictures(w.W, `${w.name}: its filters`)
    : Plot.denseWeights(w.W, w.imageShape, { units: 16, title: `${w.name}: each unit's weights on the image` })

/** One example's output of a layer: its channels as images when it has them ([C, H, W]), else undefined (a vector: shown as a matrix). */
export const activationImages = (o: LayerOutput): Plot.VegaLiteSpec | undefined => {
  const d = dims3(o.y.shape)
  if (d === undefined) return undefined
  const [c, h, w] = d
  const pictures = Array.from({ length: Math.min(c, 16) }, (_, k) => ({
    pixels: T.fromArray([h, w], o.y.data.subarray(k * h * w, (k + 1) * h * w)),
    title: `channel ${k}`,
  }))
  return Plot.imageGrid(pictures, { columns: Math.min(8, pictures.length), pixelSize: Math.max(1, Math.floor(56 / h)), title: o.name })
}

/** An example's image [1, H, W] (or [H, W]) as a picture spec. */
export const digit = (x: Tensor, title: string): Plot.VegaLiteSpec => {
  const h = x.shape.at(-2) ?? 1
  const w = x.shape.at(-1) ?? 1
  return Plot.imageGrid([{ pixels: T.fromArray([h, w], x.data.subarray(0, h * w)) }], { pixelSize: 4, color: 'greys', title })
}

/** A batch of images [N, C, H, W] as pictures of its first example's channels (at most 8), for a tensor too big to read as numbers. */
export const firstExampleChannels = (t: Tensor, title: string): Plot.VegaLiteSpec => {
  const d = dims4(t.shape)
  if (d === undefined) throw new Error(`firstExampleChannels: a batch of images is [N, C, H, W], got [${t.shape.join(', ')}]`)
  const [, c, h, w] = d
  const pictures = Array.from({ length: Math.min(c, 8) }, (_, k) => ({
    pixels: T.fromArray([h, w], t.data.subarray(k * h * w, (k + 1) * h * w)),
    title: c === 1 ? 'example 0' : `channel ${k}`,
  }))
  return Plot.imageGrid(pictures, { columns: Math.min(8, pictures.length), pixelSize: Math.max(1, Math.floor(56 / h)), title })
}

/** The middle of the first example's first channel of a batch of images [N, C, H, W]: where the numbers are (an image's border is mostly 0). */
export interface Crop {
  /** The crop, [rows, cols]. */
  readonly t: Tensor
  /** Its first row and column in the image, from 0. */
  readonly row: number
  readonly col: number
}

/** The centre size×size of the first example's first channel of [N, C, H, W] (the whole channel when it is smaller). */
export const centreCrop = (t: Tensor, size: number): Crop => {
  const d = dims4(t.shape)
  if (d === undefined) throw new Error(`centreCrop: a batch of images is [N, C, H, W], got [${t.shape.join(', ')}]`)
  const [, , h, w] = d
  const [rows, cols] = [Math.min(size, h), Math.min(size, w)]
  const [row, col] = [Math.floor((h - rows) / 2), Math.floor((w - cols) / 2)]
  const out = new Float64Array(rows * cols)
  for (let r = 0; r < rows; r++) out.set(t.data.subarray((row + r) * w + col, (row + r) * w + col + cols), r * cols)
  return { t: T.fromArray([rows, cols], out), row, col }
}
