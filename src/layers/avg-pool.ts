/**
 * avgPool2d: each channel of an [N, C, H, W] input pooled on its own, no params. The map is
 * linear and fixed:
 *
 *   forward   y  = (1/(kh·kw)) · Σ of each window      (padding counts as zeros)
 *   vjp       dx = dy/(kh·kw) added to every input of the window
 *
 *   spec      { kind: 'avgPool2d', size, stride, padding }
 *
 * The window loops are in src/kernels/pool.ts (float32: src/kernels/avgpool32.ts); y and dx have x's dtype.
 */
import * as T from '../tensor/index.ts'
import type { DType, Shape } from '../tensor/tensor.ts'
import { avgPoolBackward, avgPoolForward } from '../kernels/pool.ts'
import { avgPool32For, avgPoolBackward32For } from '../kernels/avgpool32.ts'
import type { Pair } from '../kernels/window.ts'
import { checkDyDType, checkInput, define, none, type Layer, type None } from '../layer.ts'
import { layerKind } from '../io/kind.ts'
import { pooling, poolSpec, type PoolOptions } from './pooling.ts'
import type { Only, Pool } from '../shape-type.ts'

/** What avg-pool keeps for its vjp: only the input's shape and dtype (the map is linear and fixed). */
export interface AvgPoolTape {
  readonly inShape: Shape
  readonly dtype: DType
}

/** The type of `avgPool2d(K, O)`: [C, H, W] to [C, OH, OW]. */
export type AvgPool2d<K = Pair, O extends PoolOptions = PoolOptions> = Layer<None, None, AvgPoolTape, Pool<'avgPool2d', K, O>>

/**
 * Average pooling over size×size (or [kh, kw]) windows; padding counts as zeros (always ÷ kh·kw).
 * @example avgPool2d(2) // [C, 28, 28] → [C, 14, 14]
 */
export function avgPool2d<const K extends Pair, const O extends PoolOptions = {}>(size: K, options?: Only<O, PoolOptions>): AvgPool2d<K, O>
export function avgPool2d(size: Pair, options: PoolOptions = {}): Layer<None, None, AvgPoolTape> {
  const { spec, outShape, geometry } = pooling('avgPool2d', size, options)
  return define({
    name: 'avgPool2d',
    spec,
    outShape,
    forward: (_p, x) => {
      checkInput('avgPool2d', x, [null, null, null])
      const g = geometry(x.shape)
      const outShape = [g.N, g.C, g.OH, g.OW]
      const tape = { inShape: x.shape, dtype: T.dtypeOf(x) }
      const x32 = T.float32Of(x)
      if (x32) {
        const y = T.buffer32(T.sizeOf(outShape))
        avgPool32For()(g, x32.data, y)
        return { y: T.asTensor(T.fromData32(outShape, y)), tape }
      }
      const y = T.buffer(T.sizeOf(outShape))
      avgPoolForward(g, x.data, y)
      return { y: T.fromData(outShape, y), tape }
    },
    vjp: (_p, { inShape, dtype }, dy) => {
      const g = geometry(inShape)
      checkInput('avgPool2d', dy, [g.C, g.OH, g.OW])
      checkDyDType('avgPool2d', dtype, dy)
      const dy32 = T.float32Of(dy)
      if (dy32) {
        const dx = T.buffer32(T.sizeOf(inShape))
        avgPoolBackward32For()(g, dy32.data, dx)
        return { dx: T.asTensor(T.fromData32(inShape, dx)), dp: none }
      }
      const dx = T.buffer(T.sizeOf(inShape))
      avgPoolBackward(g, dy.data, dx)
      return { dx: T.fromData(inShape, dx), dp: none }
    },
  })
}

/** avgPool2d as data: `{ kind: 'avgPool2d', size, stride, padding }` rebuilds `avgPool2d(size, { stride, padding })`. */
export const avgPool2dKind = layerKind(poolSpec('avgPool2d'), (s) => avgPool2d(s.size, { stride: s.stride, padding: s.padding }))
