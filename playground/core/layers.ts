/**
 * The layer kinds the playground offers, as data: each kind's configuration, the library layer it
 * builds (`L.dense(units)`, `L.relu`, ...), the source a user writes for it, the name a person
 * reads ("dense 1 (2→16)", "relu 1", "conv2d 1 (1→8, 3×3)"), its maths as short formulas, and
 * where its forward and vjp live in the library's sources.
 */
import { L } from 'chainrule'

/** Padding of a conv2d: 'valid' (none), 'same' (output size = input size at stride 1), or rows/columns added on each side. */
export type Padding = 'valid' | 'same' | number

/** Each kind's settings, by kind. */
interface Settings {
  readonly dense: { readonly units: number }
  readonly relu: object
  readonly leakyRelu: { readonly alpha: number }
  readonly sigmoid: object
  readonly tanh: object
  readonly elu: { readonly alpha: number }
  readonly softmax: object
  readonly dropout: { readonly rate: number }
  readonly batchNorm: object
  readonly conv2d: { readonly filters: number; readonly kernel: number; readonly stride: number; readonly padding: Padding }
  readonly maxPool2d: { readonly size: number; readonly stride: number }
  readonly avgPool2d: { readonly size: number; readonly stride: number }
  readonly flatten: object
}

/** The kind of a layer. */
export type LayerKind = keyof Settings

/** A layer of kind K, as configured: its kind and its settings. */
export type LayerConfigOf<K extends LayerKind> = { readonly kind: K } & Settings[K]

/** One layer of the network, as configured. */
export type LayerConfig = { [K in LayerKind]: LayerConfigOf<K> }[LayerKind]

/** A layer's maths: its forward and its vjp as short formulas, in the names of the layer's file. */
export interface Maths {
  readonly forward: string
  readonly vjp: string
}

/** A piece of library source to show: a declaration (`const name = …`) or a record property (`vjp: …`) in a file (from the root). */
export interface Excerpt {
  readonly file: string
  readonly name: string
}

/** What the page shows as a layer's forward or vjp: pieces of source, and, when they are not the layer file's own lines, why. */
export interface Reading {
  readonly excerpts: readonly Excerpt[]
  readonly note?: string
}

/** All the playground knows of one kind of layer. */
interface Kind<K extends LayerKind> {
  /** A new layer of this kind, with its default settings. */
  readonly fresh: LayerConfigOf<K>
  /** The library layer (the same call `code` writes); throws the library's error for a bad setting. */
  readonly layer: (c: LayerConfigOf<K>) => L.AnyLayer
  /** The TypeScript a user writes for it. */
  readonly code: (c: LayerConfigOf<K>) => string
  /** What its name says it maps, after "dense 1": "2→16"; none for an activation. */
  readonly maps?: (c: LayerConfigOf<K>, inShape: readonly number[], outShape: readonly number[]) => string
  /** Its forward and vjp as formulas, as its file states them. */
  readonly maths: Maths
  /** The library source file of its forward and vjp (from the repository root). */
  readonly file: string
  /**
   * What to show for its forward and vjp where the layer's own `forward:` and `vjp:` are not the
   * place to read the maths (they pass arrays to kernels): the readable code they run.
   */
  readonly reads?: { readonly forward: Reading; readonly vjp: Reading }
}

/** A layer file's own property and the helpers beside it that hold its maths (e.g. sigmoid's vjp and its `vjp64`). */
const withHelpers = (file: string, forward: readonly string[], vjp: readonly string[]): { forward: Reading; vjp: Reading } => ({
  forward: { excerpts: ['forward', ...forward].map((name) => ({ file, name })) },
  vjp: { excerpts: ['vjp', ...vjp].map((name) => ({ file, name })) },
})

/** The note of a layer whose file hands its arrays to kernels: what is shown instead, and how the kernels that ran relate to it. */
const kernelNote = (layerFile: string, kernelFile: string, same: string): string =>
  `${layerFile} checks the shapes and hands the arrays to a kernel (readable or fast, as Kernels.use picks): ` +
  `shown here are the readable loops of ${kernelFile}, the ones it runs under Kernels.use('reference'). ${same}`

const poolReads = (layerFile: string, forward: string, vjp: string): { forward: Reading; vjp: Reading } => {
  const kernels = 'src/kernels/pool.ts'
  const note = kernelNote(layerFile, kernels, 'The page runs the fast loops, which give the same numbers, bit for bit.')
  return {
    forward: {
      excerpts: [
        { file: 'src/kernels/window.ts', name: 'tapIndex' },
        { file: kernels, name: forward },
      ],
      note,
    },
    vjp: { excerpts: [{ file: kernels, name: vjp }], note },
  }
}

const times = (s: readonly number[]): string => s.join('×')

/** A pool's code: its size, and its stride when not the size. */
const poolCode = (c: LayerConfigOf<'maxPool2d' | 'avgPool2d'>): string =>
  `L.${c.kind}(${c.size}${c.stride === c.size ? '' : `, { stride: ${c.stride} }`})`

/** Every kind, one record each, in the order a menu lists them. */
const kinds: { readonly [K in LayerKind]: Kind<K> } = {
  dense: {
    fresh: { kind: 'dense', units: 16 },
    layer: (c) => L.dense(c.units),
    code: (c) => `L.dense(${c.units})`,
    maps: (c, inShape) => `${inShape[0]}→${c.units}`,
    maths: { forward: 'y = x·W + b', vjp: 'dx = dy·Wᵀ,  dW = xᵀ·dy,  db = Σₙ dy[n, :]' },
    file: 'src/layers/dense.ts',
  },
  relu: {
    fresh: { kind: 'relu' },
    layer: () => L.relu,
    code: () => 'L.relu',
    maths: { forward: 'y = max(x, 0)', vjp: 'dx = dy·[x > 0]' },
    file: 'src/layers/relu.ts',
    reads: withHelpers('src/layers/relu.ts', ['reluOf'], ['reluVjpOf']),
  },
  leakyRelu: {
    fresh: { kind: 'leakyRelu', alpha: 0.01 },
    layer: (c) => L.leakyRelu(c.alpha),
    code: (c) => `L.leakyRelu(${c.alpha})`,
    maths: { forward: 'y = x if x > 0, else αx', vjp: 'dx = dy if x > 0, else α·dy' },
    file: 'src/layers/leaky-relu.ts',
  },
  sigmoid: {
    fresh: { kind: 'sigmoid' },
    layer: () => L.sigmoid,
    code: () => 'L.sigmoid',
    maths: { forward: 'y = 1/(1 + e⁻ˣ)', vjp: 'dx = dy·y(1 − y)' },
    file: 'src/layers/sigmoid.ts',
    reads: withHelpers('src/layers/sigmoid.ts', ['logistic'], ['vjp64']),
  },
  tanh: {
    fresh: { kind: 'tanh' },
    layer: () => L.tanh,
    code: () => 'L.tanh',
    maths: { forward: 'y = tanh x', vjp: 'dx = dy·(1 − y²)' },
    file: 'src/layers/tanh.ts',
    reads: withHelpers('src/layers/tanh.ts', [], ['vjp64']),
  },
  elu: {
    fresh: { kind: 'elu', alpha: 1 },
    layer: (c) => L.elu(c.alpha),
    code: (c) => `L.elu(${c.alpha})`,
    maths: { forward: 'y = x if x > 0, else α(eˣ − 1)', vjp: 'dx = dy if x > 0, else dy·(y + α)' },
    file: 'src/layers/elu.ts',
    reads: withHelpers('src/layers/elu.ts', ['forward64'], ['vjp64']),
  },
  softmax: {
    fresh: { kind: 'softmax' },
    layer: () => L.softmax,
    code: () => 'L.softmax',
    maths: { forward: 'yᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m)', vjp: 'dxⱼ = yⱼ(dyⱼ − Σᵢ dyᵢyᵢ)' },
    file: 'src/layers/softmax.ts',
  },
  dropout: {
    fresh: { kind: 'dropout', rate: 0.5 },
    layer: (c) => L.dropout({ dropProb: c.rate }),
    code: (c) => `L.dropout({ dropProb: ${c.rate} })`,
    maps: (c) => `p = ${c.rate}`,
    maths: { forward: 'y = x ⊙ m,  m = bernoulli(1 − p)/(1 − p)', vjp: 'dx = dy ⊙ m' },
    file: 'src/layers/dropout.ts',
  },
  batchNorm: {
    fresh: { kind: 'batchNorm' },
    layer: () => L.batchNorm(),
    code: () => 'L.batchNorm()',
    maths: {
      forward: 'x̂ = (x − μ)/√(σ² + ε),  y = γx̂ + β',
      vjp: 'dβ = Σ dy,  dγ = Σ dy·x̂,  dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))/√(σ² + ε),  dx̂ = dy·γ',
    },
    file: 'src/layers/batch-norm.ts',
  },
  conv2d: {
    fresh: { kind: 'conv2d', filters: 8, kernel: 3, stride: 1, padding: 'valid' },
    layer: (c) => L.conv2d(c.filters, c.kernel, { stride: c.stride, padding: c.padding }),
    code: (c) => {
      const options = [
        ...(c.stride === 1 ? [] : [`stride: ${c.stride}`]),
        ...(c.padding === 'valid' ? [] : [`padding: ${JSON.stringify(c.padding)}`]),
      ]
      return `L.conv2d(${c.filters}, ${c.kernel}${options.length === 0 ? '' : `, { ${options.join(', ')} }`})`
    },
    maps: (c, inShape) => `${inShape[0]}→${c.filters}, ${c.kernel}×${c.kernel}`,
    maths: {
      forward: 'y[n, f] = Σ_c W[f, c] ⋆ x[n, c] + b[f]',
      vjp: 'dx = Σ_f dy[n, f] ⋆ᵀ W[f],  dW[f, c] = Σₙ dy[n, f] ⋆ x[n, c],  db[f] = Σ dy[n, f]',
    },
    file: 'src/layers/conv2d.ts',
    reads: (() => {
      const kernels = 'src/kernels/conv.ts'
      const note = kernelNote(
        'src/layers/conv2d.ts',
        kernels,
        'The page runs the fast kernels: the same sums as im2col and one matrix product, in another order ' +
          '(the same numbers to rounding). db is convBiasGrad’s under every kernel.',
      )
      const of = (...names: string[]): Excerpt[] => names.map((name) => ({ file: kernels, name }))
      return {
        forward: { excerpts: of('naiveForward'), note },
        vjp: { excerpts: of('naiveInputGrad', 'naiveKernelGrad', 'convBiasGrad'), note },
      }
    })(),
  },
  maxPool2d: {
    fresh: { kind: 'maxPool2d', size: 2, stride: 2 },
    layer: (c) => L.maxPool2d(c.size, { stride: c.stride }),
    code: poolCode,
    maps: (c) => `${c.size}×${c.size}`,
    maths: { forward: 'y = max of each window', vjp: "dx = dy at each window's argmax, 0 elsewhere" },
    file: 'src/layers/max-pool.ts',
    reads: poolReads('src/layers/max-pool.ts', 'maxPoolNaive', 'maxPoolBackwardNaive'),
  },
  avgPool2d: {
    fresh: { kind: 'avgPool2d', size: 2, stride: 2 },
    layer: (c) => L.avgPool2d(c.size, { stride: c.stride }),
    code: poolCode,
    maps: (c) => `${c.size}×${c.size}`,
    maths: { forward: 'y = mean of each window', vjp: 'dx = dy/(k·k) to every input of the window' },
    file: 'src/layers/avg-pool.ts',
    reads: poolReads('src/layers/avg-pool.ts', 'avgPoolNaive', 'avgPoolBackwardNaive'),
  },
  flatten: {
    fresh: { kind: 'flatten' },
    layer: () => L.flatten,
    code: () => 'L.flatten',
    maps: (_c, inShape, outShape) => `${times(inShape)}→${times(outShape)}`,
    maths: { forward: 'y = x reshaped to [N, d₁·d₂·…]', vjp: 'dx = dy reshaped back' },
    file: 'src/layers/flatten.ts',
  },
}

/** Every layer kind, in the order a menu lists them. */
export const layerKinds: readonly LayerKind[] = [
  'dense',
  'relu',
  'leakyRelu',
  'sigmoid',
  'tanh',
  'elu',
  'softmax',
  'dropout',
  'batchNorm',
  'conv2d',
  'maxPool2d',
  'avgPool2d',
  'flatten',
]

/** The activations (element-wise or row-wise maps without params). */
export const activations: readonly LayerKind[] = ['relu', 'leakyRelu', 'sigmoid', 'tanh', 'elu', 'softmax']

/** A layer of each kind with its default settings (a dense of 16, a conv2d of 8 filters 3×3, pools of 2). */
export const defaultLayer = (kind: LayerKind): LayerConfig => kinds[kind].fresh

/** The library layer for a configured layer: the same call `codeOfLayer` writes. Throws the library's error for a bad setting. */
export const layerOf = <K extends LayerKind>(c: LayerConfigOf<K>): L.AnyLayer => kinds[c.kind].layer(c)

/** The TypeScript a user writes for a configured layer, e.g. `L.dense(16)`, `L.conv2d(8, 3, { stride: 1, padding: 'same' })`. */
export const codeOfLayer = <K extends LayerKind>(c: LayerConfigOf<K>): string => kinds[c.kind].code(c)

/** The forward and vjp formulas of a kind, as its layer file states them. */
export const mathsOf = (kind: LayerKind): Maths => kinds[kind].maths

/** Where a kind's forward and vjp are written: the library source file (from the repository root). */
export const sourceFileOf = (kind: LayerKind): string => kinds[kind].file

/**
 * What the Step mode shows as a kind's forward or vjp: its file's `forward:` or `vjp:` property,
 * with the helpers beside it that hold the maths, or, for a layer that hands its arrays to
 * kernels (conv2d, the pools), the readable reference kernels it runs, with a note saying so.
 */
export const readingOf = (kind: LayerKind, property: 'forward' | 'vjp'): Reading =>
  kinds[kind].reads?.[property] ?? { excerpts: [{ file: kinds[kind].file, name: property }] }

/** Every file the Step mode shows source from (the layers' files and the kernels they run), from the repository root. */
export const shownFiles = (): readonly string[] => [
  ...new Set(
    layerKinds.flatMap((k) => [
      kinds[k].file,
      ...(['forward', 'vjp'] as const).flatMap((p) => readingOf(k, p).excerpts.map((e) => e.file)),
    ]),
  ),
]

/** The index of a pipe's child in a path as the library writes it (`pipe[2].dense` → 2); undefined for any other path. */
export const layerIndexOf = (path: string): number | undefined => {
  const m = /^pipe\[(\d+)\]\.[^.]+$/.exec(path)
  return m === null ? undefined : Number(m[1])
}

/** A layer's kind and its number among the layers of its kind (from 1): "dense 2", "relu 1". */
export const shortName = (layers: readonly LayerConfig[], index: number): string => {
  const kind = layers[index]!.kind
  return `${kind} ${layers.slice(0, index + 1).filter((l) => l.kind === kind).length}`
}

/**
 * The name a person reads for layer `index` of a network: the kind, its count among layers of that
 * kind (from 1), and what it maps, e.g. "dense 1 (2→16)", "relu 1", "conv2d 1 (1→8, 3×3)",
 * "maxPool2d 1 (2×2)", "flatten 1 (8×13×13→1352)", "dropout 1 (p = 0.5)".
 */
export const layerName = (
  layers: readonly LayerConfig[],
  index: number,
  inShape: readonly number[],
  outShape: readonly number[],
): string => {
  const maps = mapsOf(layers[index]!, inShape, outShape)
  return `${shortName(layers, index)}${maps === undefined ? '' : ` (${maps})`}`
}

/** What a configured layer's name says it maps, from its kind's record. */
const mapsOf = <K extends LayerKind>(c: LayerConfigOf<K>, inShape: readonly number[], outShape: readonly number[]): string | undefined =>
  kinds[c.kind].maps?.(c, inShape, outShape)

/**
 * The lines of `name` in a source text: a record property (`vjp: …`) or a declaration (`const
 * name = …`, `function name`), from its first line to where its brackets close, as written; a
 * declaration comes with the doc comment above it. Undefined when the text has no such thing.
 * @example sourceLines(denseText, 'vjp') // "vjp: (p, { x }, dy, options) => {\n  checkInput(...)\n  ...\n},"
 */
export const sourceLines = (text: string, name: string): string | undefined => {
  const lines = text.split('\n')
  const property = new RegExp(`^\\s*${name}: `)
  const declaration = new RegExp(`^\\s*(export )?(const|function) ${name}\\b`)
  const start = lines.findIndex((l) => property.test(l) || declaration.test(l))
  if (start < 0) return undefined
  let top = start
  if (declaration.test(lines[start]!) && /^\s*\*\/\s*$|^\s*\/\*\*.*\*\/\s*$/.test(lines[start - 1] ?? '')) {
    top = start - 1
    while (top > 0 && !/^\s*\/\*\*/.test(lines[top]!)) top--
  }
  const indent = /^\s*/.exec(lines[start]!)![0].length
  let depth = 0
  for (let i = start; i < lines.length; i++) {
    for (const ch of codeOnly(lines[i]!)) {
      if (ch === '(' || ch === '[' || ch === '{') depth++
      else if (ch === ')' || ch === ']' || ch === '}') depth--
    }
    if (depth <= 0)
      return lines
        .slice(top, i + 1)
        .map((l) => l.slice(Math.min(indent, /^\s*/.exec(l)![0].length)))
        .join('\n')
  }
  return undefined
}

/** A line without its strings, template literals and `//` comment, so brackets inside them are not counted. */
const codeOnly = (line: string): string =>
  line.replace(/'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|`(?:\\.|[^`\\])*`/g, '""').replace(/\/\/.*$/, '')
