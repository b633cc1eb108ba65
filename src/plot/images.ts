/**
 * Grids of small images: a digit, a dense unit's incoming weights seen as a 28×28 picture, a
 * conv filter. Each pixel is one rect mark coloured through a scale, so the chart has a legend
 * (what a colour means), a tooltip per pixel in the browser, and renders the same everywhere.
 *
 * Layout: image i sits in column i mod `columns` and row ⌊i / columns⌋ of a grid, pixel (r, c)
 * at (c · pixelSize, r · pixelSize) inside its cell, its caption under it. The positions are
 * computed by Vega-Lite from each pixel's image and flat index, so the data stays small
 * ({ i, p, v } per pixel).
 */
import { asTensor, type AnyTensor } from '../tensor/tensor.ts'
import { checkInt, checkOneOf, PlotError, round6, SCHEMA, type LayerPart, type VegaLiteSpec } from './spec.ts'
import { countsFor, type Labels } from './confusion.ts'
import { predictClasses, targetClasses } from '../train/metrics.ts'
import { checkOptions } from '../options.ts'

/** One image of a grid: pixels [H, W] and an optional caption (several strings: several lines). */
export interface Picture {
  readonly pixels: AnyTensor
  readonly title?: string | readonly string[]
}

/** Options of an image grid. */
export interface ImageGridOptions {
  /** Images per row (default: about √n, filling every row where it can, at most 16). */
  readonly columns?: number
  /** Screen pixels per image pixel (default 3; integer, so pixel edges land on whole pixels). */
  readonly pixelSize?: number
  /** 'greys' (0 white → 1 black) for intensities, 'diverging' (blue < 0 < red, white at 0) for weights; default diverging when any value is negative. */
  readonly color?: 'greys' | 'diverging'
  /**
   * 'none' (default): one colour scale for all images, so they compare. 'each': scale each image
   * on its own (by its largest |value| for diverging, to its min..max for greys), which shows
   * the pattern of every image however small its values.
   */
  readonly normalize?: 'none' | 'each'
  /** The colour scale's domain (default: the values' range; symmetric about 0 for diverging). */
  readonly domain?: readonly [number, number]
  readonly title?: string
  readonly subtitle?: string
  /** The legend's title (default 'value'). */
  readonly legendTitle?: string
}

/** The most pixels a grid draws (each is an SVG element): beyond this, show fewer images. */
export const MAX_PIXELS = 250_000

/** Array.isArray without narrowing (a readonly list stays one). */
const isList = (v: unknown): boolean => Array.isArray(v)

const isTensor = (v: unknown): v is AnyTensor => typeof v === 'object' && v !== null && 'shape' in v && 'data' in v

/**
 * The images of a batch tensor [N, H, W] or [N, 1, H, W] (single-channel NCHW), at most `max`.
 * @example picturesOf(test.x, 16) // the first 16 MNIST test digits
 */
export const picturesOf = (x: AnyTensor, max = Infinity, titles?: readonly string[]): Picture[] => picturesFor('picturesOf', x, max, titles)

/** picturesOf, its errors naming `where`. */
const picturesFor = (where: string, x: AnyTensor, max = Infinity, titles?: readonly string[]): Picture[] => {
  if (!isTensor(x)) throw new PlotError(`${where}: expected images as a tensor [N, H, W] or [N, 1, H, W], got ${typeof x}`)
  const s = x.shape
  const [n, h, w] = s.length === 3 ? [s[0], s[1], s[2]] : s.length === 4 && s[1] === 1 ? [s[0], s[2], s[3]] : []
  if (n === undefined || h === undefined || w === undefined) {
    throw new PlotError(`${where}: expected images [N, H, W] or [N, 1, H, W], got shape [${s.join(', ')}]`)
  }
  const count = Math.min(n, max)
  return Array.from({ length: count }, (_, i) => ({
    pixels: { shape: [h, w], data: asTensor(x).data.subarray(i * h * w, (i + 1) * h * w) },
    ...(titles?.[i] === undefined ? {} : { title: titles[i] }),
  }))
}

/** Columns for n images: about √n, preferring a count that fills every row (32 → 8 × 4), at most 16. */
export const defaultColumns = (n: number): number => {
  const root = Math.sqrt(n)
  for (let c = Math.ceil(root); c <= Math.min(16, 2 * root); c++) if (n % c === 0) return c
  return Math.min(16, Math.ceil(root))
}

/**
 * A grid of images with captions, one rect mark per pixel.
 * @example writePlot(Plot.imageGrid(Plot.picturesOf(train.x, 32), { color: 'greys' }), 'out/digits.png')
 */
export const imageGrid = (images: readonly Picture[] | AnyTensor, options: ImageGridOptions = {}): VegaLiteSpec => {
  checkOptions('imageGrid', options, ['columns', 'pixelSize', 'color', 'normalize', 'domain', 'title', 'subtitle', 'legendTitle'], {
    unknown: PlotError,
  })
  return gridFor('imageGrid', images, options)
}

/** imageGrid, its errors naming `where`: the public function called (denseWeights, convFilters, misclassified). */
const gridFor = (where: string, images: readonly Picture[] | AnyTensor, options: ImageGridOptions): VegaLiteSpec => {
  checkOneOf(where, 'color', options.color, ['greys', 'diverging'])
  checkOneOf(where, 'normalize', options.normalize, ['none', 'each'])
  const pics = isTensor(images) ? picturesFor(where, images) : images
  if (!isList(pics))
    throw new PlotError(`${where}: expected a list of pictures { pixels, title? } or a tensor of images, got ${typeof pics}`)
  const n = pics.length
  if (n === 0) throw new PlotError(`${where}: no images to draw`)
  pics.forEach((p, i) => {
    if (typeof p !== 'object' || p === null || !isTensor(p.pixels))
      throw new PlotError(`${where}: image ${i} must be { pixels, title? } with pixels a tensor [H, W]`)
  })
  const first = pics[0]!.pixels
  if (first.shape.length !== 2) throw new PlotError(`${where}: each image must be [H, W], got [${first.shape.join(', ')}] for image 0`)
  const [h, w] = first.shape as [number, number]
  pics.forEach((p, i) => {
    if (p.pixels.shape.length !== 2 || p.pixels.shape[0] !== h || p.pixels.shape[1] !== w) {
      throw new PlotError(`${where}: image ${i} is [${p.pixels.shape.join(', ')}] but image 0 is [${h}, ${w}]; all must have one size`)
    }
    const bad = p.pixels.data.findIndex((v) => !Number.isFinite(v))
    if (bad >= 0) throw new PlotError(`${where}: image ${i} has a non-finite pixel (${p.pixels.data[bad]}) at flat index ${bad}`)
  })
  if (n * h * w > MAX_PIXELS)
    throw new PlotError(`${where}: ${n} images of ${h}×${w} are ${n * h * w} pixels, more than ${MAX_PIXELS}; draw fewer images`)
  const columns = options.columns === undefined ? defaultColumns(n) : checkInt(where, 'columns', options.columns)
  const ps = checkInt(where, 'pixelSize', options.pixelSize ?? 3)
  const captionLines = pics.reduce(
    (most, p) => Math.max(most, p.title === undefined ? 0 : typeof p.title === 'string' ? 1 : p.title.length),
    0,
  )
  const captioned = captionLines > 0
  const gap = 6
  const captionH = captioned ? 12 * captionLines + 2 : 0
  const cellW = w * ps + gap
  const cellH = h * ps + captionH + gap
  const rows = Math.ceil(n / columns)
  const width = Math.min(n, columns) * cellW - gap
  const height = rows * cellH - gap

  // The values drawn: each image's own, or scaled per image.
  let lo = Infinity
  let hi = -Infinity
  for (const p of pics) for (const v of p.pixels.data) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)))
  const color = options.color ?? (lo < 0 ? 'diverging' : 'greys')
  const each = options.normalize === 'each'
  const scaled = (d: Float64Array): ((v: number) => number) => {
    if (!each) return (v) => v
    let a = Infinity
    let b = -Infinity
    for (const v of d) ((a = Math.min(a, v)), (b = Math.max(b, v)))
    if (color === 'diverging') {
      const m = Math.max(Math.abs(a), Math.abs(b)) || 1
      return (v) => v / m
    }
    return (v) => (b > a ? (v - a) / (b - a) : 0)
  }
  const values: { i: number; p: number; v: number }[] = []
  pics.forEach((pic, i) => {
    const { data } = asTensor(pic.pixels) // read only: a float32 image's values read as float64 numbers
    const f = scaled(data)
    data.forEach((v, p) => values.push({ i, p, v: round6(f(v)) }))
  })
  // the colour scale's domain: given; or what scaling each image gives; or the values' range
  // (symmetric about 0 for diverging, so white is 0)
  const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1
  const fitted = color === 'diverging' ? [-m, m] : [Math.min(0, lo), hi > lo ? hi : lo + 1]
  const domain: number[] = options.domain !== undefined ? [...options.domain] : each ? (color === 'diverging' ? [-1, 1] : [0, 1]) : fitted
  // a hairline around each image, so a white (zero) border still shows where the image ends
  const frames = pics.map((_, i) => ({
    x: (i % columns) * cellW,
    y: Math.floor(i / columns) * cellH,
    x2: (i % columns) * cellW + w * ps,
    y2: Math.floor(i / columns) * cellH + h * ps,
  }))
  const frameLayer: LayerPart = {
    data: { values: frames },
    mark: { type: 'rect', fill: null, stroke: '#cccccc', strokeWidth: 0.5, aria: false },
    encoding: { x2: { field: 'x2' }, y2: { field: 'y2' } },
  }
  const pixelsLayer: LayerPart = {
    data: { values },
    transform: [
      { calculate: `(datum.i % ${columns}) * ${cellW} + (datum.p % ${w}) * ${ps}`, as: 'x' },
      { calculate: `floor(datum.i / ${columns}) * ${cellH} + floor(datum.p / ${w}) * ${ps}`, as: 'y' },
      { calculate: `datum.x + ${ps}`, as: 'x2' },
      { calculate: `datum.y + ${ps}`, as: 'y2' },
    ],
    // aria: false keeps per-pixel ARIA labels out of the SVG (they tripled its size)
    mark: { type: 'rect', aria: false },
    encoding: {
      x2: { field: 'x2' },
      y2: { field: 'y2' },
      color: {
        field: 'v',
        type: 'quantitative',
        title: options.legendTitle ?? 'value',
        // redblue runs red → blue; reversed, negative is blue and positive red, with white at 0
        // nice: false and three significant digits, so the colour bar ends at the data's extremes
        // and says so (vega would round ±0.945 out to ±1, and label it ±1)
        scale:
          color === 'diverging'
            ? { scheme: 'redblue', reverse: true, domain, domainMid: 0, nice: false }
            : { range: ['#ffffff', '#000000'], domain, nice: false },
        legend: { gradientLength: Math.min(200, Math.max(30, height - 20)), format: '.3~g' },
      },
      tooltip: [
        { field: 'i', type: 'quantitative', title: 'image' },
        { field: 'p', type: 'quantitative', title: 'pixel' },
        { field: 'v', type: 'quantitative', title: options.legendTitle ?? 'value', format: '.3~g' },
      ],
    },
  }
  const captions = pics.flatMap((p, i) =>
    p.title === undefined
      ? []
      : [
          {
            title: typeof p.title === 'string' ? p.title : [...p.title],
            x: (i % columns) * cellW + (w * ps) / 2,
            y: Math.floor(i / columns) * cellH + h * ps + 2,
          },
        ],
  )
  const captionLayer: LayerPart[] = captioned
    ? [
        {
          data: { values: captions },
          mark: { type: 'text', baseline: 'top', align: 'center', fontSize: 10, color: '#333333', limit: cellW },
          encoding: { text: { field: 'title', type: 'nominal' } },
        },
      ]
    : []
  return {
    $schema: SCHEMA,
    title: { text: options.title ?? 'images', ...(options.subtitle === undefined ? {} : { subtitle: options.subtitle }) },
    width,
    height,
    view: { stroke: null },
    // positions are screen pixels: x and y scales are the identity, y pointing down
    encoding: {
      x: { field: 'x', type: 'quantitative', scale: { domain: [0, width], nice: false }, axis: null },
      y: { field: 'y', type: 'quantitative', scale: { domain: [0, height], nice: false, reverse: true }, axis: null },
    },
    layer: [pixelsLayer, frameLayer, ...captionLayer],
  }
}

/** Options of denseWeights. */
export interface DenseWeightsOptions extends ImageGridOptions {
  /** Draw the first this many units (default 64). */
  readonly units?: number
}

/**
 * The incoming weights of a dense layer's units as images: column j of W [in, units] reshaped
 * to `imageShape` ([28, 28] for a first layer on MNIST). A trained unit's picture shows the
 * stroke pattern it responds to: red where ink raises its output, blue where ink lowers it.
 * Each unit is scaled by its own largest |weight| unless `normalize: 'none'`.
 * @example
 * const { params } = L.initialize(L.pipe(L.flatten, L.dense(10)), key, [1, 28, 28]) // after training, the 10 templates
 * writePlot(Plot.denseWeights(params[1].W, [28, 28]), 'out/weights.png')
 */
export const denseWeights = (W: AnyTensor, imageShape: readonly [number, number], options: DenseWeightsOptions = {}): VegaLiteSpec => {
  checkOptions(
    'denseWeights',
    options,
    ['columns', 'pixelSize', 'color', 'normalize', 'domain', 'title', 'subtitle', 'legendTitle', 'units'],
    { unknown: PlotError },
  )
  const where = 'denseWeights'
  if (W.shape.length !== 2) throw new PlotError(`${where}: W must be [in, units], got [${W.shape.join(', ')}]`)
  const [fanIn, units] = W.shape as [number, number]
  const [h, w] = imageShape
  if (h * w !== fanIn)
    throw new PlotError(`${where}: images of ${h}×${w} need ${h * w} inputs per unit, but W has ${fanIn} ([${fanIn}, ${units}])`)
  const count = Math.min(units, checkInt(where, 'units', options.units ?? 64))
  const pics = Array.from({ length: count }, (_, j) => {
    const data = new Float64Array(fanIn)
    for (let k = 0; k < fanIn; k++) data[k] = W.data[k * units + j]!
    return { pixels: { shape: [h, w], data }, title: String(j) }
  })
  const each = (options.normalize ?? 'each') === 'each'
  const { units: _units, ...grid } = options // this function's own options are not imageGrid's
  return gridFor(where, pics, {
    color: 'diverging',
    normalize: 'each',
    title: 'first-layer weights',
    subtitle: `units 0-${count - 1} of ${units}: each unit's ${fanIn} incoming weights as a ${h}×${w} image${each ? ', scaled by its largest |w|' : ''}`,
    legendTitle: each ? 'weight / max |w|' : 'weight',
    ...grid,
  })
}

/** Options of convFilters. */
export interface ConvFiltersOptions extends ImageGridOptions {
  /** Draw the first this many output channels (default all, up to 64). */
  readonly filters?: number
}

/**
 * Conv kernels [out, in, kh, kw] as a grid of kh×kw images, one per (output, input) channel
 * pair, captioned "o" (one input channel) or "o·c". One shared diverging scale by default, so
 * filter strengths compare.
 * @example
 * const { params } = L.initialize(L.pipe(L.conv2d(8, 5), L.relu), key, [1, 28, 28])
 * writePlot(Plot.convFilters(params[0].W), 'out/filters.png')
 */
export const convFilters = (K: AnyTensor, options: ConvFiltersOptions = {}): VegaLiteSpec => {
  checkOptions(
    'convFilters',
    options,
    ['columns', 'pixelSize', 'color', 'normalize', 'domain', 'title', 'subtitle', 'legendTitle', 'filters'],
    { unknown: PlotError },
  )
  const where = 'convFilters'
  if (K.shape.length !== 4) throw new PlotError(`${where}: kernels must be [out, in, kh, kw], got [${K.shape.join(', ')}]`)
  const [out, inC, kh, kw] = K.shape as [number, number, number, number]
  const count = Math.min(out, checkInt(where, 'filters', options.filters ?? 64))
  const pics: Picture[] = []
  for (let o = 0; o < count; o++) {
    for (let c = 0; c < inC; c++) {
      const at = (o * inC + c) * kh * kw
      pics.push({ pixels: { shape: [kh, kw], data: asTensor(K).data.subarray(at, at + kh * kw) }, title: inC === 1 ? `${o}` : `${o}·${c}` })
    }
  }
  const { filters: _filters, ...grid } = options // this function's own options are not imageGrid's
  return gridFor(where, pics, {
    color: 'diverging',
    pixelSize: Math.max(3, Math.ceil(36 / Math.max(kh, kw))),
    columns: inC === 1 ? defaultColumns(count) : inC,
    title: 'conv filters',
    subtitle: `${count} of ${out} filters, ${kh}×${kw}${inC === 1 ? '' : `, one column per input channel (caption: filter·channel)`}`,
    legendTitle: 'weight',
    ...grid,
  })
}

/** Options of misclassified. */
export interface MisclassifiedOptions extends ImageGridOptions {
  /** Draw the first this many mistakes (default 32). */
  readonly max?: number
  /** A name per class (default the index). */
  readonly classNames?: readonly string[]
}

/**
 * The first images the model got wrong, each captioned with its true and predicted class.
 * `predictions` may be class indices (Train.evaluate's) or scores [N, C].
 * @example
 * const { predictions } = Train.evaluate(model, state.params, state.state, test, { loss })
 * writePlot(Plot.misclassified(test.x, test.y, predictions!), 'out/mistakes.png')
 */
export const misclassified = (x: AnyTensor, labels: Labels, predictions: Labels, options: MisclassifiedOptions = {}): VegaLiteSpec => {
  checkOptions(
    'misclassified',
    options,
    ['columns', 'pixelSize', 'color', 'normalize', 'domain', 'title', 'subtitle', 'legendTitle', 'max', 'classNames'],
    { unknown: PlotError },
  )
  const where = 'misclassified'
  const t = isTensor(labels) ? targetClasses(asTensor(labels)) : labels
  const p = isTensor(predictions)
    ? predictions.shape.length === 2
      ? predictClasses(asTensor(predictions))
      : targetClasses(asTensor(predictions))
    : predictions
  if (t === undefined || p === undefined) throw new PlotError(`${where}: labels and predictions must be class indices [N] or rows [N, C]`)
  countsFor(where, t, p) // validates: same length, class indices
  const n = x.shape[0] ?? 0
  if (t.length !== n) throw new PlotError(`${where}: ${n} images but ${t.length} labels`)
  const name = (c: number): string => options.classNames?.[c] ?? String(c)
  const max = checkInt(where, 'max', options.max ?? 32)
  const wrong: number[] = []
  for (let i = 0; i < n && wrong.length < max; i++) if (t[i] !== p[i]) wrong.push(i)
  let total = 0
  for (let i = 0; i < n; i++) if (t[i] !== p[i]) total++
  if (wrong.length === 0) throw new PlotError(`${where}: the model got all ${n} examples right; nothing to show`)
  const all = picturesFor(where, x)
  const pics = wrong.map((i) => ({ pixels: all[i]!.pixels, title: [`true ${name(t[i]!)}`, `pred ${name(p[i]!)}`] }))
  const { max: _max, classNames: _classNames, ...grid } = options // this function's own options are not imageGrid's
  return gridFor(where, pics, {
    color: 'greys',
    pixelSize: 4,
    columns: Math.min(8, pics.length),
    title: 'misclassified examples',
    subtitle: `the first ${pics.length} of ${total.toLocaleString('en-US')} mistakes in ${n.toLocaleString('en-US')} examples`,
    legendTitle: 'pixel',
    ...grid,
  })
}
