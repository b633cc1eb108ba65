/**
 * Specs back to layers. A registry is a plain value mapping each layer kind to a builder, so
 * rebuilding a network never consults a global: custom layers join by passing
 * `extend(builtins, { myKind: ... })` to fromSpec. A builder gets the spec and a `build`
 * function for its child specs:
 *
 *   extend(builtins, {
 *     swish: () => swish,                                               // no hyper-parameters
 *     scaled: entry(closed('a scaled spec', { kind: t.literal('scaled'), factor: FiniteNumber }),
 *                   (s) => scaled(s.factor)),                            // checked fields
 *     twice: (s, build) => twice(build(s['body'], 'body')),              // a combinator
 *   })
 *
 * fromSpec checks that every rebuilt layer's spec equals the one it was built from, so a
 * builder that ignores or changes a hyper-parameter is caught, and a Right always holds a
 * network whose spec is exactly the input.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { AnyLayer, Spec } from '../layer.ts'
import { branches } from '../layers/branches.ts'
import { dense } from '../layers/dense.ts'
import { flatten } from '../layers/flatten.ts'
import { identity } from '../layers/identity.ts'
import { leakyRelu, relu, sigmoid, tanh } from '../layers/activations.ts'
import { pipe } from '../layers/pipe.ts'
import { residual } from '../layers/residual.ts'
import { softmax } from '../layers/softmax.ts'
import { conv2d } from '../layers/conv2d.ts'
import { avgPool2d, globalAvgPool, maxPool2d } from '../layers/pool.ts'
import { reshape } from '../layers/reshape.ts'
import { dropout } from '../layers/dropout.ts'
import { batchNorm } from '../layers/batch-norm.ts'
import { decodeWith, JsonCodec, specCodecs } from './codecs.ts'
import { at, describe, IoError } from './error.ts'

/** Builds a child spec into a layer; `keys` say where the child sits in the parent spec (`'children', 2` or `'body'`). */
export type Build = (child: unknown, ...keys: readonly (string | number)[]) => AnyLayer

/** Turns a spec of one kind into its layer, building child specs with `build`. May throw to reject the spec. */
export type Builder = (spec: Spec, build: Build) => AnyLayer

/** Layer kinds and their builders. A value: pass it to fromSpec; extend it with `extend`. */
export type Registry = { readonly [kind: string]: Builder }

/** Specs nested deeper than this are rejected. */
export const MAX_SPEC_DEPTH = 64

/** Unwinds fromSpec from inside a builder with an IoError (internal). */
class SpecFailure {
  constructor(
    readonly error: IoError,
    /** True when error.path is relative to the spec being built (a field error from `entry`). */
    readonly relative = false,
  ) {}
}

/**
 * A builder that first checks the spec's own fields with an io-ts codec, then builds from the
 * typed spec. A field the codec rejects is a 'bad-spec' error at that field's path.
 * @example entry(specCodecs.dense, (s) => L.dense(s.units, { init: s.init, bias: s.bias }))
 */
export const entry =
  <S>(codec: t.Decoder<unknown, S>, make: (spec: S, build: Build) => AnyLayer): Builder =>
  (spec, build) => {
    const r = decodeWith(codec, spec, '')
    if (E.isLeft(r)) throw new SpecFailure(new IoError('bad-spec', r.left.path, r.left.detail), true)
    return make(r.right, build)
  }

/** The built-in layers and combinators. Adding a kind is one entry. */
export const builtins: Registry = {
  dense: entry(specCodecs.dense, (s) => dense(s.units, { init: s.init, bias: s.bias, activation: s.activation }) as AnyLayer),
  leakyRelu: entry(specCodecs.leakyRelu, (s) => leakyRelu(s.alpha) as AnyLayer),
  relu: entry(specCodecs.relu, () => relu as AnyLayer),
  sigmoid: entry(specCodecs.sigmoid, () => sigmoid as AnyLayer),
  tanh: entry(specCodecs.tanh, () => tanh as AnyLayer),
  softmax: entry(specCodecs.softmax, () => softmax as AnyLayer),
  flatten: entry(specCodecs.flatten, () => flatten as AnyLayer),
  identity: entry(specCodecs.identity, () => identity as AnyLayer),
  pipe: entry(specCodecs.pipe, (s, build) => pipe(...s.children.map((c, i) => build(c, 'children', i))) as AnyLayer),
  residual: entry(specCodecs.residual, (s, build) => residual(build(s.body, 'body')) as AnyLayer),
  branches: entry(specCodecs.branches, (s, build) => branches(s.merge, ...s.children.map((c, i) => build(c, 'children', i))) as AnyLayer),
  conv2d: entry(specCodecs.conv2d, (s) => conv2d(s.filters, s.kernelSize, { stride: s.stride, padding: s.padding, dilation: s.dilation, bias: s.bias, init: s.init, activation: s.activation }) as AnyLayer),
  maxPool2d: entry(specCodecs.maxPool2d, (s) => maxPool2d(s.size, { stride: s.stride, padding: s.padding }) as AnyLayer),
  avgPool2d: entry(specCodecs.avgPool2d, (s) => avgPool2d(s.size, { stride: s.stride, padding: s.padding }) as AnyLayer),
  globalAvgPool: entry(specCodecs.globalAvgPool, () => globalAvgPool as AnyLayer),
  reshape: entry(specCodecs.reshape, (s) => reshape(s.shape) as AnyLayer),
  dropout: entry(specCodecs.dropout, (s) => dropout({ dropProb: s.dropProb }) as AnyLayer),
  batchNorm: entry(specCodecs.batchNorm, (s) => batchNorm({ momentum: s.momentum, eps: s.eps }) as AnyLayer),
}

/**
 * A registry with more kinds (later entries win, so a kind can also be replaced).
 * @example fromSpec(spec, extend(builtins, { swish: () => swish }))
 */
export const extend = (base: Registry, more: Registry): Registry => ({ ...base, ...more })

const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

const isLayer = (u: unknown): u is AnyLayer => {
  if (typeof u !== 'object' || u === null) return false
  const l = u as Record<string, unknown>
  return typeof l['name'] === 'string' && typeof l['spec'] === 'object' && l['spec'] !== null && typeof l['init'] === 'function' && typeof l['forward'] === 'function' && typeof l['vjp'] === 'function'
}

/** The first path where two JSON values differ (object key order ignored), or undefined when equal. */
export const jsonDiff = (a: unknown, b: unknown, path: string): { readonly path: string; readonly a: unknown; readonly b: unknown } | undefined => {
  if (Object.is(a, b) || (typeof a === 'number' && a === b)) return undefined
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return { path, a, b }
    for (let i = 0; i < a.length; i++) {
      const d = jsonDiff(a[i], b[i], at(path, i))
      if (d !== undefined) return d
    }
    return undefined
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
    const ra = a as Record<string, unknown>
    const rb = b as Record<string, unknown>
    for (const k of Object.keys(ra)) {
      if (!has(rb, k)) return { path: at(path, k), a: ra[k], b: undefined }
      const d = jsonDiff(ra[k], rb[k], at(path, k))
      if (d !== undefined) return d
    }
    for (const k of Object.keys(rb)) if (!has(ra, k)) return { path: at(path, k), a: undefined, b: rb[k] }
    return undefined
  }
  return { path, a, b }
}

/**
 * Rebuilds a network from its spec. Returns Left(IoError) for anything it cannot build: a value
 * that is not a spec ('invalid'), a kind the registry lacks ('unknown-kind'), hyper-parameters
 * the kind rejects or a builder whose layer has a different spec ('bad-spec'). The error's path
 * points into the spec (`spec.children[2].units`). Never throws.
 *
 * @example
 * const net = L.pipe(L.flatten, L.dense(10))
 * const again = fromSpec(JSON.parse(JSON.stringify(net.spec)))  // Right(a network like net)
 */
export const fromSpec = (spec: unknown, registry: Registry = builtins, root = 'spec'): E.Either<IoError, AnyLayer> => {
  const json = decodeWith(JsonCodec, spec, root)
  if (E.isLeft(json)) return E.left(new IoError('invalid', json.left.path, json.left.detail))
  const go = (u: unknown, path: string, depth: number): AnyLayer => {
    if (depth > MAX_SPEC_DEPTH) throw new SpecFailure(new IoError('bad-spec', path, `specs nested more than ${MAX_SPEC_DEPTH} levels deep`))
    if (typeof u !== 'object' || u === null || Array.isArray(u)) throw new SpecFailure(new IoError('invalid', path, `expected a layer spec { kind, ... }, got ${describe(u)}`))
    const kind = (u as Record<string, unknown>)['kind']
    if (typeof kind !== 'string') throw new SpecFailure(new IoError('invalid', at(path, 'kind'), `expected a layer kind (a string), got ${describe(kind)}`))
    if (!has(registry, kind) || typeof registry[kind] !== 'function') {
      const known = Object.keys(registry).sort().join(', ')
      throw new SpecFailure(
        new IoError('unknown-kind', path, `unknown layer kind ${JSON.stringify(kind)}; this registry knows ${known}. For a custom layer pass a registry with an entry for it, e.g. IO.extend(IO.builtins, { ${JSON.stringify(kind)}: () => myLayer })`),
      )
    }
    const builder = registry[kind] as Builder
    let layer: unknown
    try {
      layer = builder(u as Spec, (child, ...keys) => go(child, keys.reduce<string>((p, k) => at(p, k), path), depth + 1))
    } catch (e) {
      if (e instanceof SpecFailure) {
        // A field error from `entry` carries a path relative to this spec; a child's carries its full path.
        if (e.relative) throw new SpecFailure(new IoError(e.error.kind, e.error.path === '' ? path : `${path}.${e.error.path}`, e.error.detail))
        throw e
      }
      throw new SpecFailure(new IoError('bad-spec', path, `the ${JSON.stringify(kind)} builder rejected this spec: ${e instanceof Error ? e.message : String(e)}`, { cause: e }))
    }
    if (!isLayer(layer)) throw new SpecFailure(new IoError('bad-spec', path, `the ${JSON.stringify(kind)} builder returned ${describe(layer)}, not a layer`))
    const d = jsonDiff(layer.spec, u, path)
    if (d !== undefined) {
      const what =
        d.a === undefined
          ? `unexpected field: the ${JSON.stringify(kind)} layer built from this spec has no such field`
          : `the ${JSON.stringify(kind)} builder made a layer whose spec has ${describe(d.a)} here, but the spec given has ${describe(d.b)}`
      throw new SpecFailure(new IoError('bad-spec', d.path, what))
    }
    return layer
  }
  try {
    return E.right(go(json.right, root, 0))
  } catch (e) {
    if (e instanceof SpecFailure) return E.left(e.error)
    return E.left(new IoError('bad-spec', root, `building the network failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e }))
  }
}

/**
 * An io-ts codec between specs and layers: decoding rebuilds the network through the registry
 * (failing with the IoError's message), encoding gives the layer's spec.
 */
export const layerCodec = (registry: Registry = builtins): t.Type<AnyLayer, Spec, unknown> =>
  new t.Type<AnyLayer, Spec, unknown>(
    'Layer',
    isLayer,
    (u, c) => {
      const r = fromSpec(u, registry)
      return E.isRight(r) ? t.success(r.right) : t.failure(u, c, r.left.message)
    },
    (layer) => layer.spec,
  )

/** An io-ts codec of specs: a value is a spec when the registry rebuilds it. */
export const specCodec = (registry: Registry = builtins): t.Type<Spec, Spec, unknown> =>
  new t.Type<Spec, Spec, unknown>(
    'Spec',
    (u): u is Spec => E.isRight(fromSpec(u, registry)),
    (u, c) => {
      const r = fromSpec(u, registry)
      return E.isRight(r) ? t.success(u as Spec) : t.failure(u, c, r.left.message)
    },
    t.identity,
  )

/** The spec of a layer as plain JSON (a deep copy). */
export const toSpec = (layer: AnyLayer): Spec => JSON.parse(JSON.stringify(layer.spec)) as Spec

