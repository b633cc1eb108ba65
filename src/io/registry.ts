/**
 * Specs back to layers. A registry is a plain value mapping each layer kind to a builder, so
 * rebuilding a network never consults a global: custom layers join by passing
 * `extend(builtins, { myKind: ... })` to fromSpec. A builder gets the spec and a `build`
 * function for its child specs:
 *
 *   extend(builtins, {
 *     swish: () => swish,                                               // no hyper-parameters
 *     scaled: entry(specOf('scaled', { factor: FiniteNumber }), (s) => scaled(s.factor)),  // checked fields
 *     twice: (s, build) => twice(build(s['body'], 'body')),              // a combinator
 *   })
 *
 * or, for a layer that declares its kind as the built-ins do, `extend(builtins, registryOf(swishKind))`.
 *
 * fromSpec checks that every rebuilt layer's spec equals the one it was built from, so a
 * builder that ignores or changes a hyper-parameter is caught, and a Right always holds a
 * network whose spec is exactly the input.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { checkChild, type AnyLayer, type Spec } from '../layer.ts'
import * as Layers from '../layers/index.ts'
import { decodeWith, JsonCodec } from './codecs.ts'
import { nearest } from '../options.ts'
import { at, describe, IoError } from './error.ts'
import { LayerKind, SpecFailure, type Builder } from './kind.ts'

export { entry, type Build, type Builder } from './kind.ts'

/** Layer kinds and their builders. A value: pass it to fromSpec; extend it with `extend`. */
export type Registry = { readonly [kind: string]: Builder }

/** Specs nested deeper than this are rejected. */
export const MAX_SPEC_DEPTH = 64

/**
 * A registry of the given kinds (each a layer's `layerKind`).
 * @example fromSpec({ kind: 'elu', alpha: 0.5 }, registryOf(L.eluKind)) // Right(a layer like L.elu(0.5))
 */
export const registryOf = (...kinds: readonly LayerKind[]): Registry => {
  const registry: Record<string, Builder> = {}
  kinds.forEach((k: unknown, i) => {
    if (!(k instanceof LayerKind))
      throw new TypeError(`registryOf: argument ${i + 1} must be a layer kind (IO.layerKind(codec, build)), got ${whatIsIt(k)}`)
    if (Object.prototype.hasOwnProperty.call(registry, k.kind))
      throw new Error(`registryOf: the kind ${JSON.stringify(k.kind)} is given twice`)
    registry[k.kind] = k.builder
  })
  return registry
}

/** A value given where a builder or a layer kind belongs, described with what to do instead. */
const whatIsIt = (u: unknown): string => {
  if (u instanceof LayerKind) return `the layer kind of ${JSON.stringify(u.kind)}`
  if (typeof u === 'string' && u.length <= 40) return `the string '${u}'`
  if (isLayer(u))
    return (
      `a layer ("${u.name}"): a registry rebuilds layers from specs, so give it the layer's kind (IO.layerKind) or a builder, ` +
      '() => layer'
    )
  if (typeof u === 'function')
    return `a function${u.name === '' ? '' : ` (${u.name})`}: a builder belongs in an object, IO.extend(IO.builtins, { kind: builder })`
  return describe(u)
}

/**
 * What is wrong with a registry, said after "got": its first entry that is not a builder (its kind, what it is and the fix);
 * undefined when every entry is a function (or the value is not an object: the caller says so).
 */
export const registryProblem = (registry: object): string | undefined => {
  if ('builtins' in registry && 'fromSpec' in registry) return 'the IO namespace: pass IO.builtins, or IO.extend(IO.builtins, ...)'
  for (const [kind, build] of Object.entries(registry)) {
    if (typeof build === 'function') continue
    const fix =
      build instanceof LayerKind
        ? `the layer kind itself: make the registry with IO.registryOf(${build.kind}Kind), ` +
          `e.g. IO.extend(IO.builtins, IO.registryOf(${build.kind}Kind)), or put its builder there (${build.kind}Kind.builder)`
        : isLayer(build)
          ? 'a layer: wrap it, () => layer, or give its kind (IO.layerKind)'
          : `${describe(build)}; the entries are builders, functions from the spec to the layer, ` +
            'as IO.extend(IO.builtins, IO.registryOf(myKind)) makes'
    return `a registry whose entry for ${JSON.stringify(kind)} is not a builder but ${fix}`
  }
  return undefined
}

/** Throws a TypeError naming `where` unless `registry` is an object whose every entry is a builder. */
export const checkRegistry = (where: string, registry: unknown): void => {
  const problem =
    typeof registry !== 'object' || registry === null || Array.isArray(registry) ? whatIsIt(registry) : registryProblem(registry)
  if (problem !== undefined)
    throw new TypeError(`${where} must be a registry, IO.builtins or IO.extend(IO.builtins, IO.registryOf(kind)), got ${problem}`)
}

/** The kinds of the built-in layers and combinators: every LayerKind the layers module (src/layers/index.ts) exports. */
export const builtinKinds: readonly LayerKind[] = Object.values(Layers).filter((v): v is LayerKind => v instanceof LayerKind)

/** The built-in layers and combinators. */
export const builtins: Registry = registryOf(...builtinKinds)

/**
 * A registry with more kinds (later entries win, so a kind can also be replaced).
 * @example fromSpec(spec, extend(builtins, { swish: () => swish }))
 */
export const extend = (base: Registry, more: Registry): Registry => {
  checkRegistry('extend: its first argument', base)
  for (const [kind, build] of Object.entries(more)) {
    const got: unknown = build // typed a Builder, but a plain-JS caller may put anything here
    if (typeof got !== 'function')
      throw new TypeError(
        `extend: the entry for "${kind}" must be a builder, a function from the spec to the layer such as { ${kind}: () => myLayer }, ` +
          `got ${
            isLayer(got)
              ? 'a layer (wrap it: () => layer)'
              : got instanceof LayerKind
                ? `a layer kind: give IO.registryOf(${kind}Kind) as the second argument, or its .builder`
                : describe(got)
          }`,
      )
  }
  return { ...base, ...more }
}

const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

/** Whether a value has a layer's fields: a name, a spec object, and init, forward and vjp functions. */
export const isLayer = (u: unknown): u is AnyLayer =>
  typeof u === 'object' &&
  u !== null &&
  'name' in u &&
  typeof u.name === 'string' &&
  'spec' in u &&
  typeof u.spec === 'object' &&
  u.spec !== null &&
  'init' in u &&
  typeof u.init === 'function' &&
  'forward' in u &&
  typeof u.forward === 'function' &&
  'vjp' in u &&
  typeof u.vjp === 'function'

/** The first path where two JSON values differ (object key order ignored), or undefined when equal. */
export const jsonDiff = (
  a: unknown,
  b: unknown,
  path: string,
): { readonly path: string; readonly a: unknown; readonly b: unknown } | undefined => {
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

/** What fromSpec says of a layer, a layer factory or a spec's JSON text given where the spec goes; undefined for anything else. */
const notASpec = (u: unknown): string | undefined => {
  const expected = 'expected a layer spec { kind, ... }, got'
  if (isLayer(u)) return `${expected} a layer: pass its spec, layer.spec (or IO.toSpec(layer))`
  if (typeof u === 'function') return `${expected} a function${u.name === '' ? '' : `: did you forget to call ${u.name}(…)?`}`
  if (typeof u === 'string' && /^\s*\{/.test(u)) return `${expected} the text of one: parse it first, JSON.parse(text)`
  return undefined
}

/**
 * Rebuilds a network from its spec. Returns Left(IoError) for anything it cannot build: a value
 * that is not a spec ('invalid'), a kind the registry lacks ('unknown-kind'), hyper-parameters
 * the kind rejects or a builder whose layer has a different spec ('bad-spec'). The error's path
 * points into the spec (`spec.children[2].units`). Never throws on a spec; a registry with an entry
 * that is not a builder (a layer kind put there as it is) is a TypeError naming the entry.
 *
 * @example
 * const net = L.pipe(L.flatten, L.dense(10))
 * const again = fromSpec(JSON.parse(JSON.stringify(net.spec)))  // Right(a network like net)
 */
export const fromSpec = (spec: unknown, registry: Registry = builtins, root = 'spec'): E.Either<IoError, AnyLayer> => {
  if (registry !== builtins)
    checkRegistry("the registry (fromSpec's second argument; parseCheckpoint's and loadCheckpoint's option)", registry)
  const notSpec = notASpec(spec)
  if (notSpec !== undefined) return E.left(new IoError('invalid', root, notSpec))
  const json = decodeWith(JsonCodec, spec, root)
  if (E.isLeft(json)) return E.left(new IoError('invalid', json.left.path, json.left.detail))
  const go = (u: unknown, path: string, depth: number): AnyLayer => {
    if (depth > MAX_SPEC_DEPTH) throw new SpecFailure(new IoError('bad-spec', path, `specs nested more than ${MAX_SPEC_DEPTH} levels deep`))
    if (typeof u !== 'object' || u === null || Array.isArray(u))
      throw new SpecFailure(new IoError('invalid', path, `expected a layer spec { kind, ... }, got ${describe(u)}`))
    const kind = 'kind' in u ? u.kind : undefined
    if (typeof kind !== 'string')
      throw new SpecFailure(new IoError('invalid', at(path, 'kind'), `expected a layer kind (a string), got ${describe(kind)}`))
    if (!has(registry, kind)) {
      const kinds = Object.keys(registry).sort()
      const near = nearest(kind, kinds)
      throw new SpecFailure(
        new IoError(
          'unknown-kind',
          path,
          `unknown layer kind ${JSON.stringify(kind)}${near === undefined ? '' : ` (did you mean "${near}"?)`}; ` +
            `this registry knows ${kinds.join(', ')}. ` +
            "A checkpoint stores a custom layer's spec, not its code: " +
            'give loadCheckpoint or parseCheckpoint (fromSpec: its second argument) a registry that rebuilds it from the ' +
            "spec's settings, e.g. { registry: IO.extend(IO.builtins, IO.registryOf(myKind)) } with " +
            `myKind = IO.layerKind(IO.specOf(${JSON.stringify(kind)}, { ...codecs of its settings }), (spec) => myLayer(spec...)), ` +
            'as docs/adding-a-layer.md shows',
        ),
      )
    }
    const builder = registry[kind]!
    let layer: unknown
    try {
      layer = builder(u as Spec, (child, ...keys) =>
        go(
          child,
          keys.reduce<string>((p, k) => at(p, k), path),
          depth + 1,
        ),
      )
    } catch (e) {
      if (e instanceof SpecFailure) {
        // A field error from `entry` carries a path relative to this spec; a child's carries its full path.
        if (e.relative)
          throw new SpecFailure(new IoError(e.error.kind, e.error.path === '' ? path : `${path}.${e.error.path}`, e.error.detail))
        throw e
      }
      throw new SpecFailure(
        new IoError(
          'bad-spec',
          path,
          `the ${JSON.stringify(kind)} builder rejected this spec: ${e instanceof Error ? e.message : String(e)}`,
          { cause: e },
        ),
      )
    }
    if (!isLayer(layer))
      throw new SpecFailure(new IoError('bad-spec', path, `the ${JSON.stringify(kind)} builder returned ${describe(layer)}, not a layer`))
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
export const toSpec = (layer: AnyLayer): Spec => {
  checkChild('toSpec: its argument', layer)
  return JSON.parse(JSON.stringify(layer.spec)) as Spec
}
