/**
 * Pooling layers on [N, C, H, W] inputs; each channel is pooled on its own, no params.
 *
 *   maxPool2d      y = max of each window               dx: dy goes to the window's argmax
 *   avgPool2d      y = (1/(kh·kw)) · Σ of each window    dx: dy/(kh·kw) to every input of the window
 *   globalAvgPool  y[n,c] = mean over h, w of x[n,c,h,w]  dx[n,c,h,w] = dy[n,c] / (H·W)
 *
 * The window loops are in src/kernels/pool.ts.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as T from '../tensor/index.ts'
import type { Shape } from '../tensor/tensor.ts'
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward } from '../kernels/pool.ts'
import { checkPadding, pair, planWindow, positivePair, withBatch, type Padding, type Pair, type Window2d } from '../kernels/window.ts'
import { checkInput, define, none, ShapeError, type Layer, type None } from '../layer.ts'

/** Options of the 2-D pooling layers. */
export interface PoolOptions {
  /** Step of the window, one number or [rows, columns] (default: the window size, so windows tile the input). */
  readonly stride?: Pair
  /** 'valid' (default), 'same', or rows/columns of padding on each side (less than the window size). */
  readonly padding?: Padding
}

/** What max-pool keeps for its vjp: the input's shape and, per output, the flat index in x of its window's max. */
export interface MaxPoolTape {
  readonly inShape: Shape
  readonly argmax: Int32Array
}

/** What avg-pool keeps for its vjp: only the input's shape (the map is linear and fixed). */
export interface AvgPoolTape {
  readonly inShape: Shape
}

/** Resolves the options of a pooling layer: its spec, its init (shape inference) and the window for a batch shape [N, C, H, W]. */
const pooling = (name: string, size: Pair, options: PoolOptions) => {
  const kernel = positivePair(name, 'size', size)
  const stride = positivePair(name, 'stride', options.stride ?? kernel)
  const padding = checkPadding(name, options.padding ?? 'valid')
  if (typeof padding !== 'string' && pair(padding).some((p, a) => p >= (kernel[a] as number))) {
    throw new RangeError(`${name}: padding ${JSON.stringify(padding)} must be smaller than the window ${kernel[0]}x${kernel[1]}, so every window covers an input`)
  }
  const plan = (inShape: Shape): Window2d | string => {
    if (inShape.length !== 3) return `input shape: expected [channels, height, width], got ${T.showShape(inShape)}`
    const [C, H, W] = inShape as [number, number, number]
    const p = planWindow({ kernel, stride, dilation: [1, 1], padding }, C, H, W)
    return typeof p === 'string' ? `${p}; input shape ${T.showShape(inShape)}` : p.window
  }
  /** The window for a batch of `shape` [N, C, H, W]. */
  const geometry = (shape: Shape): Window2d => {
    const g = plan(shape.slice(1))
    if (typeof g === 'string') throw new ShapeError([name], g)
    return withBatch(g, shape[0] as number)
  }
  const spec = { kind: name, size: [...kernel], stride: [...stride], padding: typeof padding === 'string' ? padding : [...pair(padding)] }
  const init = (_key: unknown, inShape: Shape) => {
    const g = plan(inShape)
    return typeof g === 'string' ? E.left(g) : E.right({ outShape: [g.C, g.OH, g.OW], params: none })
  }
  return { spec, init, geometry }
}

/**
 * Max pooling over size×size (or [kh, kw]) windows; padding never wins a max.
 * @example pipe(conv2d(8, 5, { padding: 2 }), relu, maxPool2d(2)) // [1, 28, 28] → [8, 14, 14]
 */
export const maxPool2d = (size: Pair, options: PoolOptions = {}): Layer<None, None, MaxPoolTape> => {
  const { spec, init, geometry } = pooling('maxPool2d', size, options)
  return define({
    name: 'maxPool2d',
    spec,
    init,
    forward: (_p, x) => {
      checkInput('maxPool2d', x, [null, null, null])
      const g = geometry(x.shape)
      const n = g.N * g.C * g.OH * g.OW
      const y = T.buffer(n)
      const argmax = new Int32Array(n)
      maxPoolForward(g, x.data, y, argmax)
      return { y: T.fromData([g.N, g.C, g.OH, g.OW], y), tape: { inShape: x.shape, argmax } }
    },
    vjp: (_p, { inShape, argmax }, dy) => {
      const g = geometry(inShape)
      checkInput('maxPool2d', dy, [g.C, g.OH, g.OW])
      const dx = T.buffer(T.sizeOf(inShape))
      maxPoolBackward(g, dy.data, argmax, dx)
      return { dx: T.fromData(inShape, dx), dp: none }
    },
  })
}

/**
 * Average pooling over size×size (or [kh, kw]) windows; padding counts as zeros (always ÷ kh·kw).
 * @example avgPool2d(2) // [C, 28, 28] → [C, 14, 14]
 */
export const avgPool2d = (size: Pair, options: PoolOptions = {}): Layer<None, None, AvgPoolTape> => {
  const { spec, init, geometry } = pooling('avgPool2d', size, options)
  return define({
    name: 'avgPool2d',
    spec,
    init,
    forward: (_p, x) => {
      checkInput('avgPool2d', x, [null, null, null])
      const g = geometry(x.shape)
      const y = T.buffer(g.N * g.C * g.OH * g.OW)
      avgPoolForward(g, x.data, y)
      return { y: T.fromData([g.N, g.C, g.OH, g.OW], y), tape: { inShape: x.shape } }
    },
    vjp: (_p, { inShape }, dy) => {
      const g = geometry(inShape)
      checkInput('avgPool2d', dy, [g.C, g.OH, g.OW])
      const dx = T.buffer(T.sizeOf(inShape))
      avgPoolBackward(g, dy.data, dx)
      return { dx: T.fromData(inShape, dx), dp: none }
    },
  })
}

/** Global average pooling: [C, H, W] → [C], the mean of each channel (a head for conv stacks). */
export const globalAvgPool: Layer<None, None, AvgPoolTape> = define({
  name: 'globalAvgPool',
  init: (_key, inShape) =>
    inShape.length === 3 && (inShape[1] as number) * (inShape[2] as number) > 0
      ? E.right({ outShape: [inShape[0] as number], params: none })
      : E.left(`input shape: expected [channels, height, width] with at least one pixel, got ${T.showShape(inShape)}`),
  forward: (_p, x) => {
    checkInput('globalAvgPool', x, [null, null, null])
    const [N, C, H, W] = x.shape as [number, number, number, number]
    const HW = H * W
    const src = x.data
    const y = T.buffer(N * C)
    for (let nc = 0; nc < N * C; nc++) {
      let sum = 0
      for (let k = nc * HW; k < (nc + 1) * HW; k++) sum += src[k]!
      y[nc] = sum / HW
    }
    return { y: T.fromData([N, C], y), tape: { inShape: x.shape } }
  },
  vjp: (_p, { inShape }, dy) => {
    const [N, C, H, W] = inShape as [number, number, number, number]
    checkInput('globalAvgPool', dy, [C])
    const HW = H * W
    const dx = T.buffer(N * C * HW)
    for (let nc = 0; nc < N * C; nc++) dx.fill(dy.data[nc]! / HW, nc * HW, (nc + 1) * HW)
    return { dx: T.fromData(inShape, dx), dp: none }
  },
})
