/**
 * globalAvgPool: [N, C, H, W] → [N, C], the mean of each channel (a head for conv stacks).
 *
 *   forward   y[n,c] = (1/(H·W)) Σ_h,w x[n,c,h,w]
 *   vjp       dx[n,c,h,w] = dy[n,c] / (H·W)
 *
 * In float32 every add and the division round to float32 (the sum runs over h, w in order, from +0).
 *
 *   spec      { kind: 'globalAvgPool' }
 */
import * as T from '../tensor/index.ts'
import { checkDyDType, checkInput, define, none, ShapeError, type Layer, type None } from '../layer.ts'
import { layerKind, specOf } from '../io/kind.ts'
import type { AvgPoolTape } from './avg-pool.ts'
import type { GlobalPool } from '../shape-type.ts'

/** The type of `globalAvgPool`: [C, H, W] to [C]. */
export type GlobalAvgPool = Layer<None, None, AvgPoolTape, GlobalPool>

/** Global average pooling: [C, H, W] → [C], the mean of each channel (a head for conv stacks). */
export const globalAvgPool: GlobalAvgPool = define({
  name: 'globalAvgPool',
  outShape: (inShape) => {
    if (inShape.length !== 3 || inShape[1]! * inShape[2]! === 0) {
      throw new ShapeError(
        ['globalAvgPool'],
        `input shape: expected [channels, height, width] with at least one pixel, got ${T.showShape(inShape)}`,
      )
    }
    return [inShape[0]!]
  },
  forward: (_p, x) => {
    checkInput('globalAvgPool', x, [null, null, null])
    const [N, C, H, W] = x.shape as [number, number, number, number]
    const HW = H * W
    const src = x.data
    const tape = { inShape: x.shape, dtype: T.dtypeOf(x) }
    if (T.isFloat32(x)) {
      const y = T.buffer32(N * C)
      for (let nc = 0; nc < N * C; nc++) {
        let sum = 0
        for (let k = nc * HW; k < (nc + 1) * HW; k++) sum = Math.fround(sum + src[k]!)
        y[nc] = sum / HW
      }
      return { y: T.asTensor(T.fromData32([N, C], y)), tape }
    }
    const y = T.buffer(N * C)
    for (let nc = 0; nc < N * C; nc++) {
      let sum = 0
      for (let k = nc * HW; k < (nc + 1) * HW; k++) sum += src[k]!
      y[nc] = sum / HW
    }
    return { y: T.fromData([N, C], y), tape }
  },
  vjp: (_p, { inShape, dtype }, dy) => {
    const [N, C, H, W] = inShape as [number, number, number, number]
    checkInput('globalAvgPool', dy, [C])
    checkDyDType('globalAvgPool', dtype, dy)
    const HW = H * W
    if (T.isFloat32(dy)) {
      const dx = T.buffer32(N * C * HW)
      for (let nc = 0; nc < N * C; nc++) dx.fill(dy.data[nc]! / HW, nc * HW, (nc + 1) * HW)
      return { dx: T.asTensor(T.fromData32(inShape, dx)), dp: none }
    }
    const dx = T.buffer(N * C * HW)
    for (let nc = 0; nc < N * C; nc++) dx.fill(dy.data[nc]! / HW, nc * HW, (nc + 1) * HW)
    return { dx: T.fromData(inShape, dx), dp: none }
  },
})

/** globalAvgPool as data: `{ kind: 'globalAvgPool' }`. */
export const globalAvgPoolKind = layerKind(specOf('globalAvgPool', {}), () => globalAvgPool)
