/**
 * The layer kinds the playground offers, as data: each kind's configuration, the library layer it
 * builds (`L.dense(units)`, `L.relu`, ...), the source a user writes for it, the name a person
 * reads ("dense 1 (2→16)", "relu 1", "conv2d 1 (1→8, 3×3)"), its maths as short formulas, and
 * where its forward and vjp live in the library's sources.
 */
import { L } from 'chainrule'

/** Padding of a conv2d: 'valid' (none), 'same' (output size = input size at stride 1), or rows/columns added on each side. */
export type Padding = 'valid' | 'same' | number

/** One layer of the network, as configured. */
export type LayerConfig =
  | { readonly kind: 'dense'; readonly units: number }
  | { readonly kind: 'relu' }
  | { readonly kind: 'leakyRelu'; readonly alpha: number }
  | { readonly kind: 'sigmoid' }
  | { readonly kind: 'tanh' }
  | { readonly kind: 'elu'; readonly alpha: number }
  | { readonly kind: 'softmax' }
  | { readonly kind: 'dropout'; readonly rate: number }
  | { readonly kind: 'batchNorm' }
  | { readonly kind: 'conv2d'; readonly filters: number; readonly kernel: number; readonly stride: number; readonly padding: Padding }
  | { readonly kind: 'maxPool2d'; readonly size: number; readonly stride: number }
  | { readonly kind: 'avgPool2d'; readonly size: number; readonly stride: number }
  | { readonly kind: 'flatten' }

/** The kind of a layer. */
export type LayerKind = LayerConfig['kind']

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
export const defaultLayer = (kind: LayerKind): LayerConfig => {
  switch (kind) {
    case 'dense':
      return { kind, units: 16 }
    case 'leakyRelu':
      return { kind, alpha: 0.01 }
    case 'elu':
      return { kind, alpha: 1 }
    case 'dropout':
      return { kind, rate: 0.5 }
    case 'conv2d':
      return { kind, filters: 8, kernel: 3, stride: 1, padding: 'valid' }
    case 'maxPool2d':
    case 'avgPool2d':
      return { kind, size: 2, stride: 2 }
    default:
      return { kind }
  }
}

/** The library layer for a configured layer: the same call `codeOfLayer` writes. Throws the library's error for a bad setting. */
export const layerOf = (c: LayerConfig): L.AnyLayer => {
  switch (c.kind) {
    case 'dense':
      return L.dense(c.units)
    case 'relu':
      return L.relu
    case 'leakyRelu':
      return L.leakyRelu(c.alpha)
    case 'sigmoid':
      return L.sigmoid
    case 'tanh':
      return L.tanh
    case 'elu':
      return L.elu(c.alpha)
    case 'softmax':
      return L.softmax
    case 'dropout':
      return L.dropout({ dropProb: c.rate })
    case 'batchNorm':
      return L.batchNorm()
    case 'conv2d':
      return L.conv2d(c.filters, c.kernel, { stride: c.stride, padding: c.padding })
    case 'maxPool2d':
      return L.maxPool2d(c.size, { stride: c.stride })
    case 'avgPool2d':
      return L.avgPool2d(c.size, { stride: c.stride })
    case 'flatten':
      return L.flatten
  }
}

/** The TypeScript a user writes for a configured layer, e.g. `L.dense(16)`, `L.conv2d(8, 3, { stride: 1, padding: 'same' })`. */
export const codeOfLayer = (c: LayerConfig): string => {
  switch (c.kind) {
    case 'dense':
      return `L.dense(${c.units})`
    case 'leakyRelu':
      return `L.leakyRelu(${c.alpha})`
    case 'elu':
      return `L.elu(${c.alpha})`
    case 'dropout':
      return `L.dropout({ dropProb: ${c.rate} })`
    case 'batchNorm':
      return 'L.batchNorm()'
    case 'conv2d': {
      const options = [
        ...(c.stride === 1 ? [] : [`stride: ${c.stride}`]),
        ...(c.padding === 'valid' ? [] : [`padding: ${JSON.stringify(c.padding)}`]),
      ]
      return `L.conv2d(${c.filters}, ${c.kernel}${options.length === 0 ? '' : `, { ${options.join(', ')} }`})`
    }
    case 'maxPool2d':
    case 'avgPool2d':
      return `L.${c.kind}(${c.size}${c.stride === c.size ? '' : `, { stride: ${c.stride} }`})`
    default:
      return `L.${c.kind}`
  }
}

const times = (s: readonly number[]): string => s.join('×')

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
  const c = layers[index]!
  const base = shortName(layers, index)
  switch (c.kind) {
    case 'dense':
      return `${base} (${inShape[0]}→${c.units})`
    case 'conv2d':
      return `${base} (${inShape[0]}→${c.filters}, ${c.kernel}×${c.kernel})`
    case 'maxPool2d':
    case 'avgPool2d':
      return `${base} (${c.size}×${c.size})`
    case 'flatten':
      return `${base} (${times(inShape)}→${times(outShape)})`
    case 'dropout':
      return `${base} (p = ${c.rate})`
    default:
      return base
  }
}

/** A layer's maths: its forward and its vjp as short formulas, in the names of the layer's file. */
export interface Maths {
  readonly forward: string
  readonly vjp: string
}

/** The forward and vjp formulas of each kind, as the layer files state them. */
export const maths: { readonly [K in LayerKind]: Maths } = {
  dense: { forward: 'y = x·W + b', vjp: 'dx = dy·Wᵀ,  dW = xᵀ·dy,  db = Σₙ dy[n, :]' },
  relu: { forward: 'y = max(x, 0)', vjp: 'dx = dy·[x > 0]' },
  leakyRelu: { forward: 'y = x if x > 0, else αx', vjp: 'dx = dy if x > 0, else α·dy' },
  sigmoid: { forward: 'y = 1/(1 + e⁻ˣ)', vjp: 'dx = dy·y(1 − y)' },
  tanh: { forward: 'y = tanh x', vjp: 'dx = dy·(1 − y²)' },
  elu: { forward: 'y = x if x > 0, else α(eˣ − 1)', vjp: 'dx = dy if x > 0, else dy·(y + α)' },
  softmax: { forward: 'yᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m)', vjp: 'dxⱼ = yⱼ(dyⱼ − Σᵢ dyᵢyᵢ)' },
  dropout: { forward: 'y = x ⊙ m,  m = bernoulli(1 − p)/(1 − p)', vjp: 'dx = dy ⊙ m' },
  batchNorm: {
    forward: 'x̂ = (x − μ)/√(σ² + ε),  y = γx̂ + β',
    vjp: 'dβ = Σ dy,  dγ = Σ dy·x̂,  dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))/√(σ² + ε),  dx̂ = dy·γ',
  },
  conv2d: {
    forward: 'y[n, f] = Σ_c W[f, c] ⋆ x[n, c] + b[f]',
    vjp: 'dx = Σ_f dy[n, f] ⋆ᵀ W[f],  dW[f, c] = Σₙ dy[n, f] ⋆ x[n, c],  db[f] = Σ dy[n, f]',
  },
  maxPool2d: { forward: 'y = max of each window', vjp: "dx = dy at each window's argmax, 0 elsewhere" },
  avgPool2d: { forward: 'y = mean of each window', vjp: 'dx = dy/(k·k) to every input of the window' },
  flatten: { forward: 'y = x reshaped to [N, d₁·d₂·…]', vjp: 'dx = dy reshaped back' },
}

/** Where a kind's forward and vjp are written: the library source file (from the repository root). */
export const sourceFile: { readonly [K in LayerKind]: string } = {
  dense: 'src/layers/dense.ts',
  relu: 'src/layers/relu.ts',
  leakyRelu: 'src/layers/leaky-relu.ts',
  sigmoid: 'src/layers/sigmoid.ts',
  tanh: 'src/layers/tanh.ts',
  elu: 'src/layers/elu.ts',
  softmax: 'src/layers/softmax.ts',
  dropout: 'src/layers/dropout.ts',
  batchNorm: 'src/layers/batch-norm.ts',
  conv2d: 'src/layers/conv2d.ts',
  maxPool2d: 'src/layers/max-pool.ts',
  avgPool2d: 'src/layers/avg-pool.ts',
  flatten: 'src/layers/flatten.ts',
}

/**
 * The lines of the `forward:` or `vjp:` property in a layer's source text (as `sourceFile` names
 * it): from the property's first line to where its brackets close, as written. Undefined when the
 * text has no such property.
 * @example sourceLines(denseText, 'vjp') // "vjp: (p, { x }, dy, options) => {\n  checkInput(...)\n  ...\n},"
 */
export const sourceLines = (text: string, property: 'forward' | 'vjp'): string | undefined => {
  const lines = text.split('\n')
  const start = lines.findIndex((l) => new RegExp(`^\\s*${property}: `).test(l))
  if (start < 0) return undefined
  const indent = /^\s*/.exec(lines[start]!)![0].length
  let depth = 0
  for (let i = start; i < lines.length; i++) {
    for (const ch of codeOnly(lines[i]!)) {
      if (ch === '(' || ch === '[' || ch === '{') depth++
      else if (ch === ')' || ch === ']' || ch === '}') depth--
    }
    if (depth <= 0)
      return lines
        .slice(start, i + 1)
        .map((l) => l.slice(indent))
        .join('\n')
  }
  return undefined
}

/** A line without its strings, template literals and `//` comment, so brackets inside them are not counted. */
const codeOnly = (line: string): string =>
  line.replace(/'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|`(?:\\.|[^`\\])*`/g, '""').replace(/\/\/.*$/, '')
