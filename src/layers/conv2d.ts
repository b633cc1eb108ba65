/**
 * conv2d: the 2-D convolution layer (strictly, a cross-correlation, as in every DL library).
 *
 *   x: [N, C, H, W]   W: [F, C, KH, KW]   b: [F]   y: [N, F, OH, OW]
 *   forward   y[n,f,oh,ow] = b[f] + Σ_c,i,j W[f,c,i,j] · x[n, c, oh·sh − pt + i·dh, ow·sw − pl + j·dw]
 *   vjp       dx = the same sums run backwards: each y hands dy·W back to the pixels it read
 *             dW[f,c,i,j] = Σ_n,oh,ow dy[n,f,oh,ow] · x[n, c, oh·sh − pt + i·dh, ow·sw − pl + j·dw]
 *             db[f] = Σ_n,oh,ow dy[n,f,oh,ow]
 *
 * The loops live in src/kernels/conv.ts: naive seven-deep nests to read, and im2col + GEMM to
 * run; `Kernels.use('reference')` selects the naive ones. A float32 x and params run the float32
 * twins (src/kernels/conv32.ts), with y, dx and the gradients in float32; a mix of dtypes throws.
 *
 * With `activation: 'relu'` the layer is conv2d followed by relu, in one layer: y = relu(conv),
 * and the vjp first takes dy where y > 0 (relu's vjp), then runs the conv's. The same numbers as
 * pipe(conv2d, relu), bit for bit; the WebAssembly kernels apply relu inside each sample's part
 * (on both threads, while the values are in cache), which saves the relu layer's passes over
 * the whole activation tensor and two copies in and out of WebAssembly memory each way. A pipe
 * does the same by itself where a conv2d is followed by the relu layer (`fuseNext`).
 *
 * Followed in a pipe by maxPool2d(2) (2x2 windows, stride 2, no padding), a relu conv2d runs the
 * pool too, as one layer (`fuseNext` again): in float32 under the WebAssembly kernels each
 * sample's part pools its output while in cache, and only the pooled values and their argmax
 * (−1 where the value is not > 0) leave WebAssembly memory; the vjp starts from dy added onto each
 * argmax (the pool's vjp, then relu's). Otherwise it runs the two layers in turn. The same numbers.
 *
 *   spec      { kind: 'conv2d', filters, kernelSize, stride, padding, dilation, bias, init, activation? }
 */
import type * as Key from '../key.ts'
import * as T from '../tensor/index.ts'
import type { Tensor } from '../tensor/tensor.ts'
import { resolveKernels, threads } from '../kernels/backend.ts'
import { convKernels, type ConvWindow } from '../kernels/conv.ts'
import { conv32Kernels } from '../kernels/conv32.ts'
import { maxPoolBackward32 } from '../kernels/pool32.ts'
import { conv32ReluPoolBackwardWasm, conv32ReluPoolForwardWasm, pooledSize } from '../kernels/wasm/conv32.ts'
import { pair, planWindow, withBatch, type Pair, type Padding } from '../kernels/window.ts'
import {
  checkInput,
  checkLayerDTypes,
  noDx,
  none,
  ShapeError,
  wantsDx,
  type AnyLayer,
  type Ctx,
  type Layer,
  type None,
  type ShapeLeaf,
  type Shapes,
} from '../layer.ts'
import { Bool, oneOf, PaddingCodec, PositiveInt, PositivePair } from '../io/codecs.ts'
import { checkSpec, layerKind, specOf } from '../io/kind.ts'
import { checkOptions } from '../options.ts'
import { relu as reluLayer } from './relu.ts'
import { isMaxPool2x2 } from './max-pool.ts'
import { initWeights, InitializerCodec, type Initializer } from './initializers.ts'
import type { Conv, Only } from '../shape-type.ts'

/** Conv params: the kernels [F, C, KH, KW] and (unless bias: false) one bias per filter [F]. */
export type Conv2dParams = { readonly W: Tensor; readonly b: Tensor } | { readonly W: Tensor }

/** What conv2d's forward keeps for its vjp: the input (dW needs it), and the output when relu was applied (its vjp needs y > 0). */
export interface Conv2dTape {
  readonly x: Tensor
  readonly y?: Tensor
}

/** Options of conv2d. */
export interface Conv2dOptions {
  /** Step of the window, one number or [rows, columns] (default 1). */
  readonly stride?: Pair
  /** 'valid' (none, the default), 'same' (output ⌈input / stride⌉), or zero rows/columns added on each side. */
  readonly padding?: Padding
  /** Distance between kernel taps (default 1: contiguous). */
  readonly dilation?: Pair
  /** Add a learned bias per filter (default true). Biases start at zero. */
  readonly bias?: boolean
  /** Kernel initialiser, with fan-in C·KH·KW and fan-out F·KH·KW (default 'he'). */
  readonly init?: Initializer
  /** 'relu': the layer's output is relu(conv), fused into the kernels (default: none, the plain conv). */
  readonly activation?: 'relu'
}

const Conv2dSpec = specOf(
  'conv2d',
  {
    filters: PositiveInt,
    kernelSize: PositivePair,
    stride: PositivePair,
    padding: PaddingCodec,
    dilation: PositivePair,
    bias: Bool,
    init: InitializerCodec,
  },
  { optional: { activation: oneOf('relu') } },
)

/** The type of `conv2d(F, K, O)`: [C, H, W] to [F, OH, OW]. */
export type Conv2d<F extends number = number, K = Pair, O extends Conv2dOptions = Conv2dOptions> = Layer<
  Conv2dParams,
  None,
  Conv2dTape,
  Conv<F, K, O>
>

/**
 * A 2-D convolution with `filters` output channels on [C, H, W] inputs.
 * @example pipe(conv2d(8, 5, { padding: 2 }), relu, maxPool2d(2), flatten, dense(10))
 */
export function conv2d<F extends number, const K extends Pair, const O extends Conv2dOptions = {}>(
  filters: F,
  kernelSize: K,
  options?: Only<O, Conv2dOptions>,
): Conv2d<F, K, O>
export function conv2d(filters: number, kernelSize: Pair, options: Conv2dOptions = {}): Layer<Conv2dParams, None, Conv2dTape> {
  const name = 'conv2d'
  checkOptions('conv2d', options, ['stride', 'padding', 'dilation', 'bias', 'init', 'activation'])
  const padding0 = options.padding ?? 'valid'
  const spec = checkSpec(
    Conv2dSpec,
    {
      kind: 'conv2d',
      filters,
      kernelSize: pair(kernelSize),
      stride: pair(options.stride ?? 1),
      padding: typeof padding0 === 'number' ? pair(padding0) : padding0,
      dilation: pair(options.dilation ?? 1),
      bias: options.bias ?? true,
      init: options.init ?? 'he',
      ...(options.activation === undefined ? {} : { activation: options.activation }),
    },
    { given: { filters, kernelSize, ...options } },
  )
  const { kernelSize: kernel, stride, dilation, padding, bias, init } = spec
  const relu = spec.activation === 'relu'
  const [KH, KW] = kernel

  /** The window for a per-example [C, H, W] input, or a ShapeError naming the layer and both shapes. */
  const plan = (inShape: readonly number[]): ConvWindow | ShapeError => {
    if (inShape.length !== 3) return new ShapeError([name], `input shape: expected [channels, height, width], got ${T.showShape(inShape)}`)
    const [C, H, W] = inShape as [number, number, number]
    const p = planWindow({ kernel, stride, dilation, padding }, C, H, W)
    if (typeof p === 'string') return new ShapeError([name], `${p}; input shape ${T.showShape(inShape)}`)
    return { ...p.window, F: filters }
  }
  const geometry = (x: Tensor): ConvWindow => {
    const g = plan(x.shape.slice(1))
    if (g instanceof ShapeError) throw g
    return withBatch(g, x.shape[0]!)
  }

  /** Throws unless W, b and x share one dtype (the error names both). */
  const checkParamDTypes = (p: Conv2dParams, x: Tensor): void => {
    checkLayerDTypes(name, x, p.W)
    if ('b' in p) checkLayerDTypes(name, p.W, p.b)
  }

  const self: Layer<Conv2dParams, None, Conv2dTape> = {
    name,
    spec,
    // followed by the relu layer, a pipe runs this conv with the relu fused in; with relu, followed
    // by a 2x2 max-pool, it runs the pool too (the same numbers)
    fuseNext: (next) => {
      if (!relu && next === reluLayer) return conv2d(filters, kernelSize, { ...options, activation: 'relu' })
      if (relu && isMaxPool2x2(next)) return reluPooled(self, next, geometry, checkParamDTypes, bias)
      return undefined
    },
    shapes: (inShape): Shapes => {
      const g = plan(inShape)
      if (g instanceof ShapeError) throw g
      const W: ShapeLeaf = {
        shape: [filters, g.C, KH, KW],
        why: `filters ${filters}, kernelSize [${KH}, ${KW}] on input ${T.showShape(inShape)}`,
      }
      const b: ShapeLeaf = { shape: [filters], why: `filters ${filters}` }
      return { outShape: [filters, g.OH, g.OW], params: bias ? { W, b } : { W }, state: none }
    },
    init: (key: Key.Key, inShape) => {
      const g = plan(inShape)
      if (g instanceof ShapeError) throw g
      const fanIn = g.C * KH * KW
      const W = initWeights(key, [filters, g.C, KH, KW], fanIn, filters * KH * KW, init)
      const params: Conv2dParams = bias ? { W, b: T.zeros([filters]) } : { W }
      return { outShape: [filters, g.OH, g.OW], params, state: none }
    },
    forward: (p, s, x) => {
      checkInput(name, x, [p.W.shape[1]!, null, null])
      checkParamDTypes(p, x)
      const g = geometry(x)
      const outShape = [g.N, g.F, g.OH, g.OW]
      const [x32, W32] = [T.float32Of(x), T.float32Of(p.W)]
      let y: Tensor
      if (x32 && W32) {
        const data = T.buffer32(T.sizeOf(outShape))
        conv32Kernels().forward(g, x32.data, W32.data, 'b' in p ? T.float32Of(p.b)!.data : undefined, data, relu)
        y = T.asTensor(T.fromData32(outShape, data))
      } else {
        const data = T.buffer(T.sizeOf(outShape))
        convKernels().forward(g, x.data, p.W.data, 'b' in p ? p.b.data : undefined, data, relu)
        y = T.fromData(outShape, data)
      }
      return { y, state: s, tape: relu ? { x, y } : { x } }
    },
    vjp: (p, { x, y }, dy, options) => {
      if (relu && y === undefined)
        throw new ShapeError([name], 'the tape has no output y: the vjp of a relu conv2d needs the tape of its own forward pass')
      const g = geometry(x)
      checkInput(name, dy, [g.F, g.OH, g.OW])
      checkParamDTypes(p, x)
      checkLayerDTypes(name, x, dy)
      const [x32, dy32, W32] = [T.float32Of(x), T.float32Of(dy), T.float32Of(p.W)]
      if (x32 && dy32 && W32) {
        const dx = wantsDx(options) ? T.buffer32(x.data.length) : undefined
        const dW = T.buffer32(p.W.data.length)
        const db = 'b' in p ? T.buffer32(filters) : undefined
        conv32Kernels().backward(g, x32.data, dy32.data, W32.data, dx, dW, db, relu ? T.float32Of(y!)!.data : undefined)
        const W = T.asTensor(T.fromData32(p.W.shape, dW))
        const dxT = dx === undefined ? noDx : T.asTensor(T.fromData32(x.shape, dx))
        return { dx: dxT, dp: db === undefined ? { W } : { W, b: T.asTensor(T.fromData32([filters], db)) } }
      }
      const dx = wantsDx(options) ? T.fromData(x.shape, T.buffer(x.data.length)) : noDx
      const dW = T.buffer(p.W.data.length)
      const db = 'b' in p ? T.buffer(filters) : undefined
      // dx: each y hands dy·W back to the pixels it read; dW: each tap collects dy·x over
      // positions and samples; db: each bias collects dy over positions and samples.
      // (convKernels() runs inputGrad, kernelGrad and convBiasGrad in turn, or one job for all.)
      convKernels().backward(g, x.data, dy.data, p.W.data, dx === noDx ? undefined : dx.data, dW, db, relu ? y?.data : undefined)
      const W = T.fromData(p.W.shape, dW)
      return { dx, dp: db === undefined ? { W } : { W, b: T.fromData([filters], db) } }
    },
  }
  return self
}

/** What the fused conv2d, relu and 2x2 max-pool keep: x and the pool's argmax (−1 where relu passes nothing back), or both tapes. */
export type ReluPooledTape = { readonly x: Tensor; readonly argmax: Int32Array } | { readonly conv: Conv2dTape; readonly pool: unknown }

/**
 * The relu conv2d `conv` followed by the 2x2 max-pool `pool`, as one layer (what a pipe runs in
 * their place): in float32 under the WebAssembly kernels, the fused kernels (the pool's argmax
 * kept, the conv's output never copied out); otherwise conv then pool. A fused tape's vjp under
 * another family runs the pool's vjp on its argmax, then that family's conv. The same numbers.
 */
const reluPooled = (
  conv: Layer<Conv2dParams, None, Conv2dTape>,
  pool: AnyLayer,
  geometry: (x: Tensor) => ConvWindow,
  checkParamDTypes: (p: Conv2dParams, x: Tensor) => void,
  bias: boolean,
): Layer<Conv2dParams, None, ReluPooledTape> => ({
  ...conv,
  fuseNext: undefined,
  forward: (p, s, x, ctx: Ctx) => {
    const [x32, W32] = [T.float32Of(x), T.float32Of(p.W)]
    if (x32 && W32 && resolveKernels() === 'wasm') {
      checkInput(conv.name, x, [p.W.shape[1]!, null, null])
      checkParamDTypes(p, x)
      const g = geometry(x)
      const n = pooledSize(g)
      const pooled = { y: T.buffer32(n), argmax: T.indexBuffer(n) }
      const b32 = 'b' in p ? T.float32Of(p.b)!.data : undefined
      if (conv32ReluPoolForwardWasm(threads(), g, x32.data, W32.data, b32, pooled)) {
        const y = T.asTensor(T.fromData32([g.N, g.F, g.OH >> 1, g.OW >> 1], pooled.y))
        return { y, state: s, tape: { x, argmax: pooled.argmax } }
      }
    }
    const c = conv.forward(p, s, x, ctx)
    const m = pool.forward(none, none, c.y, ctx)
    return { y: m.y, state: s, tape: { conv: c.tape, pool: m.tape } }
  },
  vjp: (p, tape, dy, options) => {
    if ('conv' in tape) return conv.vjp(p, tape.conv, pool.vjp(none, tape.pool, dy).dx, options)
    const { x, argmax } = tape
    const g = geometry(x)
    checkInput(conv.name, dy, [g.F, g.OH >> 1, g.OW >> 1])
    checkParamDTypes(p, x)
    checkLayerDTypes(conv.name, x, dy)
    const [x32, dy32, W32] = [T.float32Of(x)!, T.float32Of(dy)!, T.float32Of(p.W)!]
    const dx = wantsDx(options) ? T.buffer32(x.data.length) : undefined
    const dW = T.buffer32(p.W.data.length)
    const db = bias ? T.buffer32(g.F) : undefined
    const inWasm = resolveKernels() === 'wasm'
    if (!(inWasm && conv32ReluPoolBackwardWasm(threads(), g, x32.data, dy32.data, W32.data, dx, dW, db, argmax))) {
      // The pool's vjp (dy onto each argmax; −1, where relu passes nothing back, is skipped), then the conv's.
      const dz = T.buffer32(g.N * g.F * g.OH * g.OW)
      const { N, F, OH, OW } = g
      const pool2x2 = { N, C: F, H: OH, W: OW, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1, PT: 0, PL: 0, OH: OH >> 1, OW: OW >> 1 }
      maxPoolBackward32(pool2x2, dy32.data, argmax, dz)
      conv32Kernels().backward(g, x32.data, dz, W32.data, dx, dW, db)
    }
    const W = T.asTensor(T.fromData32(p.W.shape, dW))
    const dxT = dx === undefined ? noDx : T.asTensor(T.fromData32(x.shape, dx))
    return { dx: dxT, dp: db === undefined ? { W } : { W, b: T.asTensor(T.fromData32([g.F], db)) } }
  },
})

/** conv2d as data: its spec rebuilds `conv2d(filters, kernelSize, { stride, padding, dilation, bias, init, activation })`. */
export const conv2dKind = layerKind(Conv2dSpec, (s) =>
  conv2d(s.filters, s.kernelSize, {
    stride: s.stride,
    padding: s.padding,
    dilation: s.dilation,
    bias: s.bias,
    init: s.init,
    ...(s.activation === undefined ? {} : { activation: s.activation }),
  }),
)
