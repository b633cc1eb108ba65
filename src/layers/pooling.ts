/**
 * What the 2-D pooling layers share: their options, their spec codec (with the check that the
 * padding is smaller than the window), and the window for a shape.
 */
import * as T from '../tensor/index.ts'
import { dtypeOf, showShape, TensorError, type AnyTensor, type DType, type Shape } from '../tensor/tensor.ts'
import { pair, planWindow, withBatch, type Padding, type Pair, type Window2d } from '../kernels/window.ts'
import { ShapeError } from '../layer.ts'
import { PaddingCodec, PositivePair } from '../io/codecs.ts'
import { checkSpec, specOf } from '../io/kind.ts'
import { checkOptions } from '../options.ts'

/** Options of the 2-D pooling layers. */
export interface PoolOptions {
  /** Step of the window, one number or [rows, columns] (default: the window size, so windows tile the input). */
  readonly stride?: Pair
  /** 'valid' (default), 'same', or rows/columns of padding on each side (less than the window size). */
  readonly padding?: Padding
}

/** The spec codec of a pooling kind: { kind, size, stride, padding }, padding smaller than the window so every window covers an input. */
export const poolSpec = <K extends string>(kind: K) =>
  specOf(
    kind,
    { size: PositivePair, stride: PositivePair, padding: PaddingCodec },
    {
      check: ({ size, padding }) =>
        typeof padding !== 'string' && (padding[0] >= size[0] || padding[1] >= size[1])
          ? {
              field: 'padding',
              detail: `padding [${padding.join(', ')}] must be smaller than the window ${size[0]}x${size[1]}, so every window covers an input`,
            }
          : undefined,
    },
  )

/** A pooling layer's checked spec, its shape rule, and the window for a batch shape [N, C, H, W]. */
export const pooling = <K extends string>(kind: K, size: Pair, options: PoolOptions) => {
  checkOptions(kind, options, ['stride', 'padding'])
  const padding = options.padding ?? 'valid'
  const spec = checkSpec(
    poolSpec(kind),
    { kind, size: pair(size), stride: pair(options.stride ?? size), padding: typeof padding === 'number' ? pair(padding) : padding },
    { given: { size, ...options } },
  )
  const window = { kernel: spec.size, stride: spec.stride, dilation: [1, 1] as const, padding: spec.padding }
  const plan = (inShape: Shape): Window2d => {
    if (inShape.length !== 3) throw new ShapeError([kind], `input shape: expected [channels, height, width], got ${T.showShape(inShape)}`)
    const [C, H, W] = inShape
    const p = planWindow(window, C!, H!, W!)
    if (typeof p === 'string') throw new ShapeError([kind], `${p}; input shape ${T.showShape(inShape)}`)
    return p.window
  }
  /** The output shape for a per-example [C, H, W] input. */
  const outShape = (inShape: Shape): Shape => {
    const g = plan(inShape)
    return [g.C, g.OH, g.OW]
  }
  /** The window for a batch of `shape` [N, C, H, W]. */
  const geometry = (shape: Shape): Window2d => withBatch(plan(shape.slice(1)), shape[0]!)
  return { spec, outShape, geometry }
}
