/**
 * A layer kind as data: the `kind` its specs carry, the io-ts codec of their fields, and how to
 * build the layer from a checked spec. Each layer's file declares its own, next to the layer:
 *
 *   const EluSpec = specOf('elu', { alpha: FiniteNumber })              // { kind: 'elu', alpha }
 *   export const elu = (alpha = 1) => { const spec = checkSpec(EluSpec, { kind: 'elu', alpha }); ... }
 *   export const eluKind = layerKind(EluSpec, (s) => elu(s.alpha))
 *
 * The constructor checks its options with the codec fromSpec decodes with (`checkSpec`), so a
 * hyper-parameter is validated in one place; the built-in registry is the list of the kinds the
 * layers module exports.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { AnyLayer, Spec } from '../layer.ts'
import { closed, closedPartial, decodeWith, firstError } from './codecs.ts'
import { describe, IoError } from './error.ts'

/** Builds a child spec into a layer; `keys` say where the child sits in the parent spec (`'children', 2` or `'body'`). */
export type Build = (child: unknown, ...keys: readonly (string | number)[]) => AnyLayer

/** Turns a spec of one kind into its layer, building child specs with `build`. May throw to reject the spec. */
export type Builder = (spec: Spec, build: Build) => AnyLayer

/** Unwinds fromSpec from inside a builder with an IoError. */
export class SpecFailure {
  constructor(
    readonly error: IoError,
    /** True when error.path is relative to the spec being built (a field error from `entry`). */
    readonly relative = false,
  ) {}
}

/**
 * A builder that first checks the spec's own fields with an io-ts codec, then builds from the
 * typed spec. A field the codec rejects is a 'bad-spec' error at that field's path.
 * @example entry(specOf('leakyRelu', { alpha: FiniteNumber }), (s) => L.leakyRelu(s.alpha))
 */
export const entry =
  <S>(codec: t.Decoder<unknown, S>, make: (spec: S, build: Build) => AnyLayer): Builder =>
  (spec, build) => {
    const r = decodeWith(codec, spec, '')
    if (E.isLeft(r)) throw new SpecFailure(new IoError('bad-spec', r.left.path, r.left.detail), true)
    return make(r.right, build)
  }

/** The codec of one kind's specs: `kind` and the given fields, nothing else. */
export interface SpecCodec<K extends string, S> extends t.Type<S, S, unknown> {
  readonly kind: K
}

/** What the codec of `specOf(kind, fields, { optional })` decodes to. */
export type SpecOf<K extends string, P extends t.Props, Q extends t.Props> = { readonly kind: K } & t.TypeOf<t.TypeC<P>> &
  Partial<t.TypeOf<t.TypeC<Q>>>

/** Options of specOf. */
export interface SpecOfOptions<S, Q extends t.Props> {
  /** Fields that may be absent. */
  readonly optional?: Q
  /** A check across fields: the field to blame and why, or undefined when the spec is fine. */
  readonly check?: (spec: S) => { readonly field: string; readonly detail: string } | undefined
}

/**
 * The codec of a kind's specs: `{ kind, ...fields }` with each field checked by its codec, and
 * no other field allowed (a misspelt hyper-parameter is an error, never ignored).
 * @example specOf('dropout', { dropProb: UnitInterval }) // decodes { kind: 'dropout', dropProb: 0.5 }
 */
export const specOf = <K extends string, P extends t.Props, Q extends t.Props = {}>(
  kind: K,
  fields: P,
  options: SpecOfOptions<SpecOf<K, P, Q>, Q> = {},
): SpecCodec<K, SpecOf<K, P, Q>> => {
  const { optional, check } = options
  const names = [...Object.keys(fields), ...Object.keys(optional ?? {}).map((k) => `${k}?`)]
  const name = `a ${kind} spec { ${['kind', ...names].join(', ')} }`
  const required = { kind: t.literal(kind), ...fields }
  // closed's mapped type over { kind, ...fields } is SpecOf<K, P, Q> for every K, P, Q, but tsc cannot prove it for generic ones
  const base = (optional === undefined ? closed(name, required) : closedPartial(name, required, optional)) as t.Type<
    SpecOf<K, P, Q>,
    unknown,
    unknown
  >
  const codec = new t.Type<SpecOf<K, P, Q>, SpecOf<K, P, Q>, unknown>(
    name,
    (u): u is SpecOf<K, P, Q> => base.is(u) && (check === undefined || check(u) === undefined),
    (u, c) => {
      const r = base.validate(u, c)
      if (E.isLeft(r) || check === undefined) return r
      const bad = check(r.right)
      if (bad === undefined) return r
      const actual = (r.right as Record<string, unknown>)[bad.field]
      return t.failure(actual, [...c, { key: bad.field, type: t.never, actual }], bad.detail)
    },
    t.identity,
  )
  return Object.assign(codec, { kind })
}

/** A value as a constructor's error message shows it: numbers as written (NaN too), arrays as [a, b], others as JSON. */
const show = (v: unknown): string => {
  if (typeof v === 'number') return String(v)
  if (v === undefined) return 'nothing'
  if (Array.isArray(v) && v.length <= 8) return `[${v.map(show).join(', ')}]`
  try {
    return JSON.stringify(v) ?? describe(v)
  } catch {
    return describe(v)
  }
}

/** Options of checkSpec. */
export interface CheckSpecOptions {
  /** The options as the caller gave them, where the spec holds them normalised (a kernel size 3 as [3, 3]): shown in the message. */
  readonly given?: { readonly [field: string]: unknown }
  /** What a field means, by field, said after its name when it is rejected: `dropProb (the probability of dropping a value)`. */
  readonly notes?: { readonly [field: string]: string }
}

/**
 * Checks the spec a layer's constructor built from its options, with the codec fromSpec decodes
 * that kind with, and returns it typed; throws a RangeError naming the layer and the field:
 * `dense: units must be a positive integer, got 0`.
 */
export const checkSpec = <K extends string, S>(
  codec: SpecCodec<K, S>,
  spec: { readonly kind: K; readonly [field: string]: unknown },
  options: CheckSpecOptions = {},
): S => {
  const r = codec.decode(spec)
  if (E.isRight(r)) return r.right
  const e = r.left[0]
  const field = firstError(r.left, '').path
  if (e === undefined || field === '') throw new RangeError(`${codec.kind}: expected ${codec.name}, got ${show(spec)}`)
  const note = options.notes?.[field]
  const named = note === undefined ? field : `${field} (${note})`
  if (e.message !== undefined) throw new RangeError(`${codec.kind}: ${e.message}`)
  const given = options.given !== undefined && Object.prototype.hasOwnProperty.call(options.given, field) ? options.given[field] : e.value
  const read = show(given) === show(e.value) ? '' : `, read as ${show(e.value)}`
  const expected = e.context[e.context.length - 1]?.type.name ?? 'valid'
  throw new RangeError(`${codec.kind}: ${named} must be ${expected}, got ${show(given)}${read}`)
}

/** A layer kind: its name, the codec of its specs, and the builder fromSpec calls (the codec's check, then `build`). */
export class LayerKind {
  constructor(
    readonly kind: string,
    readonly codec: t.Decoder<unknown, unknown>,
    readonly builder: Builder,
  ) {}
}

/**
 * Declares a layer kind from its spec codec and a builder of the typed spec (child specs are
 * built with `build`): what a registry needs to rebuild the layer from its spec.
 * @example const dropoutKind = layerKind(specOf('dropout', { dropProb: UnitInterval }), (s) => L.dropout({ dropProb: s.dropProb }))
 */
export const layerKind = <K extends string, S>(codec: SpecCodec<K, S>, build: (spec: S, build: Build) => AnyLayer): LayerKind =>
  new LayerKind(codec.kind, codec, entry(codec, build))
