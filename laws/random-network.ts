/**
 * Law 10: random well-shaped networks pass the directional gradient check. fast-check builds
 * network descriptions recursively (fc.letrec): leaves are layers, nodes are pipe, residual and
 * fan-out branches; shapes are threaded through as the network is built, so every network
 * generated is well-shaped.
 */
import fc from 'fast-check'
import { L, T, type Layer, type Tensor } from '../src/index.ts'
import * as A from './arbitraries.ts'
import * as LL from './layer-laws.ts'
import { checkRandomNetworkOptions } from './options.ts'
import { runProperty, type RunOptions } from './run.ts'

type Any = L.AnyLayer

/** A network description: what to build, not yet built (so fast-check can shrink it). */
export type NetSpec =
  | { readonly kind: 'dense'; readonly units: number }
  | { readonly kind: 'activation'; readonly name: 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'softmax' }
  | { readonly kind: 'pipe'; readonly children: readonly NetSpec[] }
  | { readonly kind: 'residual'; readonly body: NetSpec }
  | { readonly kind: 'branches'; readonly merge: L.Merge; readonly children: readonly NetSpec[] }

/** Random network descriptions, at most `maxDepth` levels of nesting. */
export const netSpec = (maxDepth = 3): fc.Arbitrary<NetSpec> => {
  const { net } = fc.letrec<{ net: NetSpec; leaf: NetSpec; node: NetSpec }>((tie) => ({
    net: fc.oneof({ maxDepth, depthIdentifier: 'net' }, tie('leaf'), tie('node')),
    leaf: fc.oneof(
      fc.integer({ min: 1, max: 5 }).map((units): NetSpec => ({ kind: 'dense', units })),
      fc.constantFrom('relu', 'leakyRelu', 'sigmoid', 'tanh', 'softmax').map((name): NetSpec => ({ kind: 'activation', name })),
    ),
    node: fc.oneof(
      fc.array(tie('net'), { minLength: 1, maxLength: 3 }).map((children): NetSpec => ({ kind: 'pipe', children })),
      tie('net').map((body): NetSpec => ({ kind: 'residual', body })),
      fc
        .tuple(fc.constantFrom<L.Merge>('sum', 'concat'), fc.array(tie('net'), { minLength: 1, maxLength: 3 }))
        .map(([merge, children]): NetSpec => ({ kind: 'branches', merge, children })),
    ),
  }))
  return net
}

const activation = { relu: L.relu, leakyRelu: L.leakyRelu(0.1), sigmoid: L.sigmoid, tanh: L.tanh, softmax: L.softmax } as const

/**
 * Builds the layer a description stands for, for inputs of `inDim` features. Where a node needs
 * matching widths (residual, sum), a dense layer projects back to the width required.
 */
export const build = (spec: NetSpec, inDim: number): { readonly layer: Any; readonly outDim: number } => {
  switch (spec.kind) {
    case 'dense':
      return { layer: L.dense(spec.units, { init: 'glorot' }), outDim: spec.units }
    case 'activation':
      return { layer: activation[spec.name], outDim: inDim }
    case 'pipe': {
      let d = inDim
      const layers = spec.children.map((c) => {
        const b = build(c, d)
        d = b.outDim
        return b.layer
      })
      return { layer: L.pipe(...layers), outDim: d }
    }
    case 'residual': {
      const b = build(spec.body, inDim)
      const body = b.outDim === inDim ? b.layer : L.pipe(b.layer, L.dense(inDim, { init: 'glorot' }))
      return { layer: L.residual(body), outDim: inDim }
    }
    case 'branches': {
      const bs = spec.children.map((c) => build(c, inDim))
      if (spec.merge === 'concat')
        return { layer: L.branches('concat', ...bs.map((b) => b.layer)), outDim: bs.reduce((s, b) => s + b.outDim, 0) }
      const w = bs[0]?.outDim ?? inDim
      const same = bs.map((b) => (b.outDim === w ? b.layer : L.pipe(b.layer, L.dense(w, { init: 'glorot' }))))
      return { layer: L.branches('sum', ...same), outDim: w }
    }
  }
}

/** Random networks with their input width: the arbitrary law 10 runs on. */
export const randomNetwork = (maxDepth = 3): fc.Arbitrary<{ readonly spec: NetSpec; readonly inDim: number; readonly layer: Layer }> =>
  fc.tuple(netSpec(maxDepth), fc.integer({ min: 1, max: 4 })).map(([spec, inDim]) => ({ spec, inDim, layer: build(spec, inDim).layer }))

/** Runs law 10: random well-shaped networks pass the directional gradient check. */
export const checkRandomNetworks = (
  options: RunOptions & { readonly maxDepth?: number; readonly settings?: Partial<LL.Settings> } = {},
): void => {
  checkRandomNetworkOptions('checkRandomNetworks', options)
  const settings: LL.Settings = { ...LL.defaultSettings, ...options.settings }
  const sample = fc
    .tuple(randomNetwork(options.maxDepth), fc.integer({ min: 1, max: 3 }))
    .chain(([net, n]) => fc.tuple(fc.constant(net), A.tensor([n, net.inDim]), fc.integer()))
    .map(([net, x, seed]: [{ spec: NetSpec; inDim: number; layer: Layer }, Tensor, number]) => ({
      spec: net.spec,
      sample: LL.makeSample(net.layer, [net.inDim], x, seed, 'train'),
      layer: net.layer,
    }))
  runProperty(
    '10. random networks: vjp = directional derivative',
    'random networks',
    [sample],
    ({ layer, sample: s }) => LL.gradientDirectional(layer, s, settings),
    options,
  )
}

/** For error messages and docs: a one-line rendering of a description. */
export const showSpec = (spec: NetSpec): string => {
  switch (spec.kind) {
    case 'dense':
      return `dense(${spec.units})`
    case 'activation':
      return spec.name
    case 'pipe':
      return `pipe(${spec.children.map(showSpec).join(', ')})`
    case 'residual':
      return `residual(${showSpec(spec.body)})`
    case 'branches':
      return `branches(${spec.merge}, ${spec.children.map(showSpec).join(', ')})`
  }
}
