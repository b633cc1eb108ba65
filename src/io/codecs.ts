/**
 * io-ts codecs for the pieces of a spec or checkpoint: JSON values, shapes, keys, and the field
 * codecs layers build their spec codecs from (each layer's file holds its own: see kind.ts).
 * Object codecs are closed: an unexpected field is an error, so a misspelt hyper-parameter
 * (`unit: 10`) never passes silently. `firstError` turns io-ts errors into one readable path and
 * message.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { Json } from '../layer.ts'
import { at, describe, isRecord } from './error.ts'

/** JSON values nested deeper than this are rejected (a guard against stack exhaustion on hostile input). */
export const MAX_JSON_DEPTH = 64

/**
 * The first place a value is not JSON (a non-finite number, a function, '__proto__', a Map or Date, too deep):
 * its keys from the root and why; or undefined.
 */
const notJson = (u: unknown, depth = 0): { readonly keys: readonly (string | number)[]; readonly detail: string } | undefined => {
  const inside = (k: string | number, v: unknown): { readonly keys: readonly (string | number)[]; readonly detail: string } | undefined => {
    const e = notJson(v, depth + 1)
    return e === undefined ? undefined : { keys: [k, ...e.keys], detail: e.detail }
  }
  if (depth > MAX_JSON_DEPTH) return { keys: [], detail: `nested more than ${MAX_JSON_DEPTH} levels deep` }
  if (u === null || typeof u === 'boolean' || typeof u === 'string') return undefined
  if (typeof u === 'number')
    return Number.isFinite(u) ? undefined : { keys: [], detail: `${u} is not a JSON number (only finite numbers are allowed)` }
  if (Array.isArray(u)) {
    for (let i = 0; i < u.length; i++) {
      const e = inside(i, u[i])
      if (e !== undefined) return e
    }
    return undefined
  }
  if (isRecord(u)) {
    // A Map, a Date, a class instance: JSON.stringify would save {} (or a string) and never give it back. A plain object's
    // prototype is a root one (Object.prototype, of any realm) or null.
    const proto: unknown = Object.getPrototypeOf(u)
    if (proto !== null && Object.getPrototypeOf(proto) !== null) {
      const made = typeof u.constructor === 'function' ? u.constructor.name : ''
      const name = made === '' ? 'an object with a prototype' : `a ${made}`
      return {
        keys: [],
        detail:
          `${name} is not a JSON value: only plain objects, arrays, strings, finite numbers, booleans and null are ` +
          '(convert it first: a Date with toISOString(), a Map with Object.fromEntries(map))',
      }
    }
    for (const k of Object.keys(u)) {
      if (k === '__proto__') return { keys: [k], detail: "the key '__proto__' is not allowed" }
      const e = inside(k, u[k])
      if (e !== undefined) return e
    }
    return undefined
  }
  return { keys: [], detail: `${describe(u)} is not a JSON value` }
}

/** A JSON value: null, a boolean, a finite number, a string, or arrays and objects of them. */
export const JsonCodec: t.Type<Json, Json, unknown> = new t.Type<Json, Json, unknown>(
  'JSON',
  (u): u is Json => notJson(u) === undefined,
  (u, c) => {
    const e = notJson(u)
    if (e === undefined) return t.success(u as Json)
    // Extend the context along the keys, so the error's path points at the bad value.
    let ctx: t.Context = c
    let v: unknown = u
    for (const k of e.keys) {
      v = (v as Record<string | number, unknown>)[k]
      ctx = [...ctx, { key: String(k), type: JsonCodec, actual: v }]
    }
    return t.failure(v, ctx, e.detail)
  },
  t.identity,
)

/** A JSON object (string keys, JSON values). */
export type JsonObject = { readonly [key: string]: Json }

/** A JSON object, such as a checkpoint's metadata. */
export const JsonObjectCodec: t.Type<JsonObject, JsonObject, unknown> = new t.Type<JsonObject, JsonObject, unknown>(
  'a JSON object',
  (u): u is JsonObject => isRecord(u) && JsonCodec.is(u),
  (u, c) => (isRecord(u) ? (JsonCodec.validate(u, c) as t.Validation<JsonObject>) : t.failure(u, c)),
  t.identity,
)

/** A codec of the values that pass `test`, named for error messages ("expected <name>, got ..."). */
export const refine = <A>(name: string, test: (u: unknown) => u is A): t.Type<A, A, unknown> =>
  new t.Type<A, A, unknown>(name, test, (u, c) => (test(u) ? t.success(u) : t.failure(u, c)), t.identity)

/** A finite number. */
export const FiniteNumber = refine('a finite number', (u): u is number => typeof u === 'number' && Number.isFinite(u))
/** An integer >= 1. */
export const PositiveInt = refine('a positive integer', (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 1)
/** An integer >= 0. */
export const NonNegativeInt = refine(
  'a non-negative integer',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0,
)
/** A 32-bit unsigned integer (a key word). */
export const Uint32 = refine(
  'an integer in [0, 2^32)',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= 0 && u <= 0xffffffff,
)
/** true or false. */
export const Bool = refine('true or false', (u): u is boolean => typeof u === 'boolean')
/** A per-example shape: an array of positive integers, at most 32 of them. */
export const ShapeCodec = refine(
  'a shape (an array of at most 32 positive integers)',
  (u): u is readonly number[] =>
    Array.isArray(u) && u.length <= 32 && u.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 1),
)

/** What is wrong with a value ShapeCodec rejected: the value, and its first bad entry (`[-2]: inShape[0] is -2`). */
const badShape = (u: unknown, path: string): string => {
  if (!Array.isArray(u)) return describe(u)
  if (u.length > 32) return `an array of ${u.length}, more than 32 axes`
  const shown = `[${u.map(describe).join(', ')}]`
  const i = u.findIndex((d) => !(typeof d === 'number' && Number.isSafeInteger(d) && d >= 1))
  return i < 0 ? shown : `${shown}: ${path}[${i}] is ${describe(u[i])}`
}

/** One of the given strings. */
export const oneOf = <const Ks extends readonly string[]>(...ks: Ks): t.Type<Ks[number], Ks[number], unknown> =>
  refine(`one of ${ks.map((k) => `'${k}'`).join(', ')}`, (u): u is Ks[number] => typeof u === 'string' && ks.includes(u))

/**
 * An object with exactly these fields (each checked by its codec) and no others.
 * @example closed('a dense spec', { kind: t.literal('dense'), units: PositiveInt })
 */
export const closed = <P extends t.Props>(name: string, props: P): t.Type<t.TypeOf<t.TypeC<P>>, t.OutputOf<t.TypeC<P>>, unknown> => {
  const base = t.type(props)
  const extra = (u: object): string | undefined => Object.keys(u).find((k) => !Object.prototype.hasOwnProperty.call(props, k))
  return new t.Type(
    name,
    (u): u is t.TypeOf<t.TypeC<P>> => base.is(u) && extra(u) === undefined,
    (u, c) => {
      if (!isRecord(u)) return t.failure(u, c)
      const bad = extra(u)
      if (bad !== undefined)
        return t.failure(
          u[bad],
          [...c, { key: bad, type: t.never, actual: u[bad] }],
          `unexpected field (allowed: ${Object.keys(props).join(', ')})`,
        )
      return base.validate(u, c)
    },
    base.encode,
  )
}

/** Like `closed`, with some fields optional (absent or undefined). */
export const closedPartial = <P extends t.Props, Q extends t.Props>(
  name: string,
  required: P,
  optional: Q,
): t.Type<t.TypeOf<t.TypeC<P>> & Partial<t.TypeOf<t.TypeC<Q>>>, t.TypeOf<t.TypeC<P>> & Partial<t.TypeOf<t.TypeC<Q>>>, unknown> => {
  const base = t.intersection([t.type(required), t.partial(optional)])
  const allowed = (k: string): boolean =>
    Object.prototype.hasOwnProperty.call(required, k) || Object.prototype.hasOwnProperty.call(optional, k)
  return new t.Type(
    name,
    (u): u is t.TypeOf<t.TypeC<P>> & Partial<t.TypeOf<t.TypeC<Q>>> => base.is(u) && Object.keys(u).every(allowed),
    (u, c) => {
      if (!isRecord(u)) return t.failure(u, c)
      const bad = Object.keys(u).find((k) => !allowed(k))
      if (bad !== undefined) {
        return t.failure(
          u[bad],
          [...c, { key: bad, type: t.never, actual: u[bad] }],
          `unexpected field (allowed: ${[...Object.keys(required), ...Object.keys(optional)].join(', ')})`,
        )
      }
      return base.validate(u, c) as t.Validation<t.TypeOf<t.TypeC<P>> & Partial<t.TypeOf<t.TypeC<Q>>>>
    },
    t.identity,
  )
}

/** A random key as stored: { k0, k1 }, two uint32 words. */
export const KeyCodec = closed('a key { k0, k1 }', { k0: Uint32, k1: Uint32 })

/** Any object with a string `kind`: the shape every spec has (its fields are checked by its registry entry). */
export const SpecShape = new t.Type<
  { readonly kind: string; readonly [key: string]: unknown },
  { readonly kind: string; readonly [key: string]: unknown },
  unknown
>(
  'a layer spec { kind, ... }',
  (u): u is { readonly kind: string } => isRecord(u) && typeof u['kind'] === 'string',
  (u, c) => (isRecord(u) && typeof u['kind'] === 'string' ? t.success(u as { readonly kind: string }) : t.failure(u, c)),
  t.identity,
)

/** A list of child specs. */
export const Children = new t.Type<readonly unknown[], readonly unknown[], unknown>(
  'a list of layer specs',
  (u): u is readonly unknown[] => Array.isArray(u),
  (u, c) => (Array.isArray(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
)

/** A non-empty list of child specs. */
export const NonEmptyChildren = refine('a non-empty list of layer specs', (u): u is readonly unknown[] => Array.isArray(u) && u.length > 0)

/** A pair of positive integers [rows, columns] (kernel sizes, strides, dilations). */
export const PositivePair = refine(
  'a pair of positive integers [rows, columns]',
  (u): u is readonly [number, number] =>
    Array.isArray(u) && u.length === 2 && u.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 1),
)
/** Padding as stored: 'valid', 'same', or a pair of non-negative integers. */
export const PaddingCodec = refine(
  "'valid', 'same' or a pair of non-negative integers",
  (u): u is 'valid' | 'same' | readonly [number, number] =>
    u === 'valid' ||
    u === 'same' ||
    (Array.isArray(u) && u.length === 2 && u.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)),
)
/** A probability in [0, 1). */
export const UnitInterval = refine('a number in [0, 1)', (u): u is number => typeof u === 'number' && u >= 0 && u < 1)
/** A finite number > 0. */
export const PositiveNumber = refine('a finite number > 0', (u): u is number => typeof u === 'number' && Number.isFinite(u) && u > 0)

/**
 * The first of a list of io-ts errors as a path (`root.children[2].units`) and a message
 * ("expected a positive integer, got 0").
 */
export const firstError = (errors: t.Errors, root: string): { readonly path: string; readonly detail: string } => {
  const e = errors[0]
  if (e === undefined) return { path: root, detail: 'invalid' }
  let path = root
  const ctx = e.context
  for (let i = 1; i < ctx.length; i++) {
    const entry = ctx[i]!
    const parent = ctx[i - 1]!.actual
    // Intersections and unions add numbered entries for their members; only real keys extend the path.
    if (Array.isArray(parent) && /^\d+$/.test(entry.key)) path = at(path, Number(entry.key))
    else if (isRecord(parent) && Object.prototype.hasOwnProperty.call(parent, entry.key)) path = at(path, entry.key)
    else if (isRecord(parent) && entry.type !== undefined && !/^\d+$/.test(entry.key)) path = at(path, entry.key)
  }
  const last = ctx[ctx.length - 1]
  const got = last?.type === ShapeCodec ? badShape(e.value, path) : describe(e.value)
  const detail = e.message ?? `expected ${last?.type.name ?? 'a valid value'}, got ${got}`
  return { path, detail }
}

/** Decodes with a codec and reports the first error as { path, detail }. */
export const decodeWith = <A>(
  codec: t.Decoder<unknown, A>,
  u: unknown,
  root: string,
): E.Either<{ readonly path: string; readonly detail: string }, A> =>
  E.mapLeft((errors: t.Errors) => firstError(errors, root))(codec.decode(u))
