/**
 * The Train mode's pictures as Plot specs: each unit's output over the input plane (one image per
 * unit, like TensorFlow Playground's neurons), the first layer's filters, and one digit's
 * activations layer by layer. The numbers come from playground/core/train.ts; the drawing is the
 * library's Plot.imageGrid.
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
    return { pixels: T.fromArray([resolution, resolution], flipped), title: `unit ${unit + 1}` }
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

/** The first layer's weights as pictures: conv kernels, or a dense unit's weights on the image. */
export const filters = (w: FirstLayerWeights): Plot.VegaLiteSpec =>
  w.kind === 'conv2d'
    ? Plot.convFilters(w.W, { title: `${w.name}: its filters` })
    : Plot.denseWeights(w.W, w.imageShape, { units: 16, title: `${w.name}: each unit's weights on the image` })

/** One example's output of a layer: its channels as images when it has them ([C, H, W]), else undefined (a vector: shown as a matrix). */
export const activationImages = (o: LayerOutput): Plot.VegaLiteSpec | undefined => {
  const s = o.y.shape
  if (s.length !== 3) return undefined
  const [c, h, w] = s as [number, number, number]
  const pictures = Array.from({ length: Math.min(c, 16) }, (_, k) => ({
    pixels: T.fromArray([h, w], o.y.data.subarray(k * h * w, (k + 1) * h * w)),
    title: `channel ${k + 1}`,
  }))
  return Plot.imageGrid(pictures, { columns: Math.min(8, pictures.length), pixelSize: Math.max(1, Math.floor(56 / h)), title: o.name })
}

/** An example's image [1, H, W] (or [H, W]) as a picture spec. */
export const digit = (x: Tensor, title: string): Plot.VegaLiteSpec => {
  const [h, w] = x.shape.slice(-2) as [number, number]
  return Plot.imageGrid([{ pixels: T.fromArray([h, w], x.data) }], { pixelSize: 4, color: 'greys', title })
}

/** A batch of images [N, C, H, W] as pictures of its first example's channels (at most 8), for a tensor too big to read as numbers. */
export const firstExampleChannels = (t: Tensor, title: string): Plot.VegaLiteSpec => {
  const [, c, h, w] = t.shape as [number, number, number, number]
  const pictures = Array.from({ length: Math.min(c, 8) }, (_, k) => ({
    pixels: T.fromArray([h, w], t.data.subarray(k * h * w, (k + 1) * h * w)),
    title: c === 1 ? 'example 1' : `channel ${k + 1}`,
  }))
  return Plot.imageGrid(pictures, { columns: Math.min(8, pictures.length), pixelSize: Math.max(1, Math.floor(56 / h)), title })
}
