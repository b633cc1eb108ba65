/**
 * Law 10 for convolutional networks: random well-shaped stacks of conv / pool / activation /
 * dropout / batch-norm layers (with residual blocks), then a head (flatten or global average
 * pooling) and dense layers, on small NCHW inputs, pass the directional gradient check.
 *
 * fast-check builds the descriptions recursively (fc.letrec); `build` threads the per-example
 * shape [C, H, W] through them and makes every layer fit: a kernel or window larger than its
 * padded input is shrunk, and a residual body keeps its input's shape (stride 1, 'same'
 * padding, and a 1x1 conv back to the input's channels). So every generated network is
 * well-shaped, and nothing is filtered away.
 *
 * Kinks. Gradient checks need inputs away from kinks. Here that means: network inputs with
 * distinct values (`distinctValues`), and params moved off their initial values by a small
 * random amount (`jittered`), so no bias is exactly 0. (A conv whose window sees only zeros,
 * say only padding or only ReLU'd negatives, outputs its bias; a bias of exactly 0 puts the
 * next ReLU on its kink.) Max-pool ties between generic values then have probability ~0.
 */
import fc from 'fast-check'
import { Key, L, T, Tree, type Layer, type Shape, type Tensor } from '../src/index.ts'
import * as A from './arbitraries.ts'
import * as LL from './layer-laws.ts'
import { checkRandomNetworkOptions } from './options.ts'
import { runProperty, type RunOptions } from './run.ts'

type Any = L.AnyLayer

/**
 * Tensors whose values are all distinct, at least ~2/size apart (and at least 1e-3 from 0): a
 * random ranking of the positions placed on an even grid over [-2, 2], each value jittered by up
 * to a quarter of the grid step. So the top two values of any max-pool window differ by far more
 * than a finite-difference step, wherever the max lands. The ranking and jitter come from a
 * random key (the arbitrary is a seed, mapped with `.map`, never filtered), so the values are
 * generic: no exact symmetry for a later sum or average to cancel onto a ReLU kink.
 * @example fc.sample(distinctValues([1, 2, 4, 4]), 1)[0] // 32 distinct values in about [-2, 2]
 */
export const distinctValues = (shape: Shape): fc.Arbitrary<Tensor> => {
  const n = T.sizeOf(shape)
  return fc.integer().map((seed) => {
    const [orderKey, jitterKey] = Key.split2(Key.fromSeed(seed))
    const byRank = Key.permutation(orderKey, n) // byRank[r] = the position holding the r-th smallest value
    const jitter = Key.uniform(jitterKey, [n], -0.25, 0.25).data
    const data = T.buffer(n)
    const step = 4 / n
    for (let rank = 0; rank < n; rank++) {
      const position = byRank[rank]!
      data[position] = A.pushFromZero(1e-3)(-2 + step * (rank + 0.5 + jitter[position]!))
    }
    return T.fromData(shape, data)
  })
}

/** A padding in a description. */
export type PaddingSpec = 'valid' | 'same' | readonly [number, number]

/** A layer on images ([C, H, W] per example), or a block of them. */
export type ImageSpec =
  | {
      readonly kind: 'conv'
      readonly filters: number
      readonly kernel: readonly [number, number]
      readonly stride: readonly [number, number]
      readonly dilation: readonly [number, number]
      readonly padding: PaddingSpec
      readonly bias: boolean
    }
  | {
      readonly kind: 'maxPool' | 'avgPool'
      readonly size: readonly [number, number]
      readonly stride: readonly [number, number]
      readonly padding: PaddingSpec
    }
  | { readonly kind: 'activation'; readonly name: 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' }
  | { readonly kind: 'dropout'; readonly dropProb: number }
  | { readonly kind: 'batchNorm' }
  | { readonly kind: 'pipe'; readonly children: readonly ImageSpec[] }
  | { readonly kind: 'residual'; readonly body: ImageSpec }

/** A layer of the dense head ([F] per example). */
export type HeadSpec =
  { readonly kind: 'dense'; readonly units: number } | { readonly kind: 'activation'; readonly name: 'relu' | 'tanh' | 'softmax' }

/** A whole convolutional network: its input shape, an image stack, how images become vectors, and dense layers. */
export interface ConvNetSpec {
  readonly input: readonly [number, number, number]
  readonly image: ImageSpec
  readonly toVector: 'flatten' | 'globalAvgPool'
  readonly head: readonly HeadSpec[]
}

const pairOf = (min: number, max: number): fc.Arbitrary<readonly [number, number]> =>
  fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }))
const padding: fc.Arbitrary<PaddingSpec> = fc.oneof(fc.constant<PaddingSpec>('valid'), fc.constant<PaddingSpec>('same'), pairOf(0, 1))

/** Random image stacks, at most `maxDepth` levels of nesting. */
export const imageSpec = (maxDepth = 2): fc.Arbitrary<ImageSpec> => {
  const { net } = fc.letrec<{ net: ImageSpec; leaf: ImageSpec; node: ImageSpec }>((tie) => ({
    net: fc.oneof({ maxDepth, depthIdentifier: 'image' }, tie('leaf'), tie('node')),
    leaf: fc.oneof(
      {
        arbitrary: fc.record({
          kind: fc.constant('conv' as const),
          filters: fc.integer({ min: 1, max: 3 }),
          kernel: pairOf(1, 3),
          stride: pairOf(1, 2),
          dilation: pairOf(1, 2),
          padding,
          bias: fc.boolean(),
        }),
        weight: 4,
      },
      {
        arbitrary: fc.record({
          kind: fc.constantFrom('maxPool' as const, 'avgPool' as const),
          size: pairOf(1, 3),
          stride: pairOf(1, 2),
          padding: fc.constantFrom<PaddingSpec>('valid', 'same'),
        }),
        weight: 2,
      },
      {
        arbitrary: fc.record({
          kind: fc.constant('activation' as const),
          name: fc.constantFrom('relu' as const, 'leakyRelu' as const, 'sigmoid' as const, 'tanh' as const),
        }),
        weight: 3,
      },
      { arbitrary: fc.constant<ImageSpec>({ kind: 'dropout', dropProb: 0.5 }), weight: 1 },
      { arbitrary: fc.constant<ImageSpec>({ kind: 'batchNorm' }), weight: 1 },
    ),
    node: fc.oneof(
      fc.array(tie('net'), { minLength: 1, maxLength: 4 }).map((children): ImageSpec => ({ kind: 'pipe', children })),
      tie('net').map((body): ImageSpec => ({ kind: 'residual', body })),
    ),
  }))
  return net
}

/** Random whole networks on inputs of 1-2 channels and 2-7 pixels a side: a stack of 1-5 image layers or blocks, then the head. */
export const convNetSpec = (maxDepth = 2): fc.Arbitrary<ConvNetSpec> =>
  fc.record({
    input: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 2, max: 7 }), fc.integer({ min: 2, max: 7 })),
    image: fc.array(imageSpec(maxDepth), { minLength: 1, maxLength: 5 }).map((children): ImageSpec => ({ kind: 'pipe', children })),
    toVector: fc.constantFrom('flatten' as const, 'globalAvgPool' as const),
    head: fc.array(
      fc.oneof(
        fc.integer({ min: 1, max: 4 }).map((units): HeadSpec => ({ kind: 'dense', units })),
        fc.constantFrom('relu' as const, 'tanh' as const, 'softmax' as const).map((name): HeadSpec => ({ kind: 'activation', name })),
      ),
      { maxLength: 3 },
    ),
  })

type ImageShape = readonly [number, number, number]

const activation = { relu: L.relu, leakyRelu: L.leakyRelu(0.1), sigmoid: L.sigmoid, tanh: L.tanh, softmax: L.softmax } as const

/** The largest number of taps ≤ k (at dilation ≤ d) that fit `room` inputs: the kernel shrunk to fit. */
const fitTaps = (k: number, d: number, room: number): readonly [number, number] => {
  if ((k - 1) * d + 1 <= room) return [k, d]
  return [Math.max(1, Math.min(k, room)), 1]
}

const paddingOf = (p: PaddingSpec, preserve: boolean): L.Conv2dOptions['padding'] =>
  preserve ? 'same' : p === 'valid' || p === 'same' ? p : [p[0], p[1]]
const padRoom = (p: PaddingSpec, axis: 0 | 1): number => (p === 'valid' ? 0 : p === 'same' ? Infinity : 2 * p[axis])

/**
 * Builds the layer an image description stands for, on [C, H, W] inputs. With `preserve` (inside
 * a residual body) every layer keeps the spatial size: stride 1 and 'same' padding.
 */
export const buildImage = (spec: ImageSpec, shape: ImageShape, preserve = false): { readonly layer: Any; readonly shape: ImageShape } => {
  const [C, H, W] = shape
  const outShape = (layer: Any): ImageShape => {
    try {
      const [c, h, w] = layer.init(Key.fromSeed(0), shape).outShape
      return [c!, h!, w!]
    } catch (e) {
      throw new Error(
        `random-conv-network: built a layer that does not fit ${T.showShape(shape)}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      )
    }
  }
  switch (spec.kind) {
    case 'conv': {
      const pad = preserve ? 'same' : spec.padding
      const [kh, dh] = fitTaps(spec.kernel[0], spec.dilation[0], H + padRoom(pad, 0))
      const [kw, dw] = fitTaps(spec.kernel[1], spec.dilation[1], W + padRoom(pad, 1))
      const layer = L.conv2d(spec.filters, [kh, kw], {
        stride: preserve ? 1 : [spec.stride[0], spec.stride[1]],
        dilation: [dh, dw],
        padding: paddingOf(spec.padding, preserve),
        bias: spec.bias,
      })
      return { layer, shape: outShape(layer) }
    }
    case 'maxPool':
    case 'avgPool': {
      const pad = preserve ? 'same' : spec.padding
      const size: [number, number] = [Math.min(spec.size[0], H + padRoom(pad, 0)), Math.min(spec.size[1], W + padRoom(pad, 1))]
      const options = {
        stride: preserve ? 1 : ([spec.stride[0], spec.stride[1]] as const),
        padding: paddingOf(pad, preserve) as 'valid' | 'same',
      }
      const layer = spec.kind === 'maxPool' ? L.maxPool2d(size, options) : L.avgPool2d(size, options)
      return { layer, shape: outShape(layer) }
    }
    case 'activation':
      return { layer: activation[spec.name], shape }
    case 'dropout':
      return { layer: L.dropout({ dropProb: spec.dropProb }), shape }
    case 'batchNorm':
      return { layer: L.batchNorm(), shape }
    case 'pipe': {
      let s = shape
      const layers = spec.children.map((c) => {
        const b = buildImage(c, s, preserve)
        s = b.shape
        return b.layer
      })
      return { layer: L.pipe(...layers), shape: s }
    }
    case 'residual': {
      const b = buildImage(spec.body, shape, true)
      const body = b.shape[0] === C ? b.layer : L.pipe(b.layer, L.conv2d(C, 1))
      return { layer: L.residual(body), shape }
    }
  }
}

/** Builds a whole network: the image stack, flatten or global average pooling, then the head. */
export const build = (spec: ConvNetSpec): Any => {
  const image = buildImage(spec.image, spec.input)
  const toVector = spec.toVector === 'flatten' ? L.flatten : L.globalAvgPool
  const head = spec.head.map((h) => (h.kind === 'dense' ? L.dense(h.units, { init: 'glorot' }) : activation[h.name]))
  return L.pipe(image.layer, toVector, ...head)
}

/**
 * The same layer, but init moves every param by a uniform random amount in [-0.1, 0.1], so no
 * param starts at exactly 0 (see the header: a zero bias can sit a ReLU on its kink).
 */
export const jittered = <P extends Tree.Tree, S extends Tree.Tree, Tape>(layer: Layer<P, S, Tape>): Layer<P, S, Tape> => ({
  ...layer,
  init: (key, inShape) => {
    const [k1, k2] = Key.split2(key)
    const r = layer.init(k1, inShape)
    let i = 0
    return { ...r, params: Tree.map(r.params, (p) => T.add(p, Key.uniform(Key.foldIn(k2, i++), p.shape, -0.1, 0.1))) }
  },
})

/** Random conv networks with the layer built: the arbitrary law 10 runs on. */
export const randomConvNetwork = (maxDepth = 2): fc.Arbitrary<{ readonly spec: ConvNetSpec; readonly layer: Any }> =>
  convNetSpec(maxDepth).map((spec) => ({ spec, layer: jittered(build(spec)) }))

/** Whether a network spec holds a batchNorm, which needs batches of 2 or more in train mode (its image may shrink to 1x1). */
const hasBatchNorm = (spec: ConvNetSpec): boolean => JSON.stringify(spec).includes('"batchNorm"')

/** Runs law 10 on conv stacks: random well-shaped conv networks pass the directional gradient check (train mode). */
export const checkRandomConvNetworks = (
  options: RunOptions & { readonly maxDepth?: number; readonly settings?: Partial<LL.Settings> } = {},
): void => {
  checkRandomNetworkOptions('checkRandomConvNetworks', options)
  const settings: LL.Settings = { ...LL.defaultSettings, ...options.settings }
  const sample = randomConvNetwork(options.maxDepth)
    .chain((net) => fc.tuple(fc.constant(net), fc.integer({ min: hasBatchNorm(net.spec) ? 2 : 1, max: 2 })))
    .chain(([net, n]) => fc.tuple(fc.constant(net), distinctValues([n, ...net.spec.input]), fc.integer()))
    .map(([net, x, seed]) => ({ spec: net.spec, layer: net.layer, sample: LL.makeSample(net.layer, net.spec.input, x, seed, 'train') }))
  runProperty(
    '10. random conv networks: vjp = directional derivative',
    'random conv networks',
    [sample],
    ({ layer, sample: s }) => LL.gradientDirectional(layer, s, settings),
    options,
  )
}

const showPad = (p: PaddingSpec): string => (typeof p === 'string' ? p : `[${p[0]},${p[1]}]`)

/** A one-line rendering of an image description (for failure messages and docs). */
export const showImage = (spec: ImageSpec): string => {
  switch (spec.kind) {
    case 'conv':
      return `conv(${spec.filters}, ${spec.kernel.join('x')}, s${spec.stride.join(',')}, d${spec.dilation.join(',')}, ${showPad(spec.padding)}${spec.bias ? '' : ', no bias'})`
    case 'maxPool':
    case 'avgPool':
      return `${spec.kind}(${spec.size.join('x')}, s${spec.stride.join(',')}, ${showPad(spec.padding)})`
    case 'activation':
      return spec.name
    case 'dropout':
      return `dropout(${spec.dropProb})`
    case 'batchNorm':
      return 'batchNorm'
    case 'pipe':
      return `pipe(${spec.children.map(showImage).join(', ')})`
    case 'residual':
      return `residual(${showImage(spec.body)})`
  }
}

/** A one-line rendering of a whole network description. */
export const showConvNet = (spec: ConvNetSpec): string =>
  `[${spec.input.join(', ')}] → ${showImage(spec.image)} → ${spec.toVector} → ${spec.head.map((h) => (h.kind === 'dense' ? `dense(${h.units})` : h.name)).join(' → ') || '(no head)'}`
