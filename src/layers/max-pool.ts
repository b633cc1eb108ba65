/**
 * maxPool2d: each channel of an [N, C, H, W] input pooled on its own, no params.
 *
 *   forward   y  = the max of each window (padding never wins)
 *   vjp       dx = dy sent to each window's argmax (the tape keeps it), 0 elsewhere
 *
 *   spec      { kind: 'maxPool2d', size, stride, padding }
 *
 * The window loops are in src/kernels/pool.ts (float32: src/kernels/pool32.ts); y and dx have x's dtype.
 */
import * as T from '../tensor/index.ts'
import type { DType, Shape } from '../tensor/tensor.ts'
import type { AnyLayer } from '../layer.ts'
import { maxPoolBackward, maxPoolForward } from '../kernels/pool.ts'
import { maxPool32For, maxPoolBackward32For } from '../kernels/pool32.ts'
import type { Pair } from '../kernels/window.ts'
import { checkDyDType, checkInput, define, none, type Layer, type None } from '../layer.ts'
import { layerKind } from '../io/kind.ts'
import { pooling, poolSpec, type PoolOptions } from './pooling.ts'
import type { Only, Pool } from '../shape-type.ts'

/** What max-pool keeps for its vjp: the input's shape and dtype and, per output, the flat index in x of its window's max. */
export interface MaxPoolTape {
  readonly inShape: Shape
  readonly dtype: DType
  readonly argmax: Int32Array
}

/** The type of `maxPool2d(K, O)`: [C, H, W] to [C, OH, OW]. */
export type MaxPool2d<K = Pair, O extends PoolOptions = PoolOptions> = Layer<None, None, MaxPoolTape, Pool<'maxPool2d', K, O>>

/**
 * Max pooling over size×size (or [kh, kw]) windows; padding never wins a max.
 * @example pipe(conv2d(8, 5, { padding: 2 }), relu, maxPool2d(2)) // [1, 28, 28] → [8, 14, 14]
 */
export function maxPool2d<const K extends Pair, const O extends PoolOptions = {}>(size: K, options?: Only<O, PoolOptions>): MaxPool2d<K, O>
export function maxPool2d(size: Pair, options: PoolOptions = {}): Layer<None, None, MaxPoolTape> {
  const { spec, outShape, geometry } = pooling('maxPool2d', size, options)
  const layer = define({
    name: 'maxPool2d',
    spec,
    outShape,
    forward: (_p, x) => {
      checkInput('maxPool2d', x, [null, null, null])
      const g = geometry(x.shape)
      const n = g.N * g.C * g.OH * g.OW
      const outShape = [g.N, g.C, g.OH, g.OW]
      const argmax = T.indexBuffer(n)
      const tape = { inShape: x.shape, dtype: T.dtypeOf(x), argmax }
      const x32 = T.float32Of(x)
      if (x32) {
        const y = T.buffer32(n)
        maxPool32For()(g, x32.data, y, argmax)
        return { y: T.asTensor(T.fromData32(outShape, y)), tape }
      }
      const y = T.buffer(n)
      maxPoolForward(g, x.data, y, argmax)
      return { y: T.fromData(outShape, y), tape }
    },
    vjp: (_p, { inShape, dtype, argmax }, dy) => {
      const g = geometry(inShape)
      checkInput('maxPool2d', dy, [g.C, g.OH, g.OW])
      checkDyDType('maxPool2d', dtype, dy)
      const dy32 = T.float32Of(dy)
      if (dy32) {
        const dx = T.buffer32(T.sizeOf(inShape))
        maxPoolBackward32For()(g, dy32.data, argmax, dx)
        return { dx: T.asTensor(T.fromData32(inShape, dx)), dp: none }
      }
      const dx = T.buffer(T.sizeOf(inShape))
      maxPoolBackward(g, dy.data, argmax, dx)
      return { dx: T.fromData(inShape, dx), dp: none }
    },
  })
  const [kh, kw] = spec.size
  const [sh, sw] = spec.stride
  const unpadded = spec.padding === 'valid' || (spec.padding[0] === 0 && spec.padding[1] === 0)
  if (kh === 2 && kw === 2 && sh === 2 && sw === 2 && unpadded) plain2x2.add(layer)
  return layer
}

/** The maxPool2d layers with 2x2 windows at stride 2 and no padding (a conv2d with relu fuses them: see conv2d.ts). */
const plain2x2 = new WeakSet<AnyLayer>()

/** Whether `layer` is a maxPool2d built here with 2x2 windows at stride 2 and no padding. */
export const isMaxPool2x2 = (layer: AnyLayer): boolean => plain2x2.has(layer)

/** maxPool2d as data: `{ kind: 'maxPool2d', size, stride, padding }` rebuilds `maxPool2d(size, { stride, padding })`. */
export const maxPool2dKind = layerKind(poolSpec('maxPool2d'), (s) => maxPool2d(s.size, { stride: s.stride, padding: s.padding }))
