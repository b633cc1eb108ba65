/**
 * Explicit randomness as a value. A `Key` is two uint32 words; every random function takes one
 * and returns fresh numbers without touching it, so the same key always gives the same numbers.
 * Keys are split, never reused: `const [k1, k2] = split2(key)`, one child per consumer.
 *
 * The generator is Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random numbers: as
 * easy as 1, 2, 3", SC 2011; the Random123 reference), the one JAX uses. It is counter-based:
 * block j of a key's stream is `threefry2x32(key, counter)`, a keyed bijection of the counter,
 * computed with 32-bit integer operations only, so the bits are identical on every platform.
 *
 * How every key and word is derived (the counters keep the uses apart):
 * - `bits(key, n)`:       words 2j and 2j+1 are `threefry2x32(key, [j, 0])`, j = 0, 1, ...
 * - `split(key, n)[i]`:   `threefry2x32(key, [i, 1])`, so children never equal a block of `bits`
 * - `foldIn(key, d)`:     `threefry2x32(threefry2x32(key, [0, 2]), [lo32(d), hi32(d)])`
 * - `fromSeed(s)`:        `threefry2x32({ k0: 0, k1: 0 }, [lo32(s), hi32(s)])`
 * where lo32/hi32 are the halves of the 64-bit two's complement integer. Each map is injective
 * in i, d and s: distinct children, folds and seeds give distinct keys, not just likely ones.
 *
 * The samplers all read the key's `bits` stream from its start. `uniform`, `randint`,
 * `bernoulli` and `permutation` turn words into numbers with exact arithmetic, so they are
 * bit-identical everywhere too. `normal` and `truncatedNormal` also call Math.log, Math.cos and
 * Math.sin, which the language does not require to be correctly rounded: their results may
 * differ in the last bit between engines, V8 versions included (docs/training.md).
 */
import { buffer, fromData, sizeOf, type Shape, type Tensor } from './tensor/tensor.ts'

/** A PRNG key: two uint32 words, a plain immutable value that survives JSON.stringify/parse. */
export interface Key {
  readonly k0: number
  readonly k1: number
}

/** Thrown when a key function gets an argument it cannot use; the message names the function. */
export class KeyError extends Error {
  override readonly name = 'KeyError'
}

// ---------------------------------------------------------------------------------------------
// Threefry-2x32-20, the kernel

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r))

/** Skein's key-schedule parity constant. */
const PARITY = 0x1bd11bda

/**
 * Threefry-2x32 with 20 rounds of counter (c0, c1) under key (k0, k1), all uint32; writes the
 * two output words to out[at] and out[at + 1]. Written out round by round, as in Random123:
 * rotation constants 13 15 26 6 / 17 29 16 24, a key injection after every fourth round.
 */
const threefryInto = (k0: number, k1: number, c0: number, c1: number, out: Uint32Array, at: number): void => {
  const k2 = (PARITY ^ k0 ^ k1) >>> 0
  let x0 = (c0 + k0) >>> 0
  let x1 = (c1 + k1) >>> 0
  // rounds 1-4
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 13) ^ x0) >>> 0
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 15) ^ x0) >>> 0
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 26) ^ x0) >>> 0
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 6) ^ x0) >>> 0
  x0 = (x0 + k1) >>> 0
  x1 = (x1 + k2 + 1) >>> 0
  // rounds 5-8
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 17) ^ x0) >>> 0
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 29) ^ x0) >>> 0
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 16) ^ x0) >>> 0
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 24) ^ x0) >>> 0
  x0 = (x0 + k2) >>> 0
  x1 = (x1 + k0 + 2) >>> 0
  // rounds 9-12
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 13) ^ x0) >>> 0
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 15) ^ x0) >>> 0
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 26) ^ x0) >>> 0
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 6) ^ x0) >>> 0
  x0 = (x0 + k0) >>> 0
  x1 = (x1 + k1 + 3) >>> 0
  // rounds 13-16
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 17) ^ x0) >>> 0
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 29) ^ x0) >>> 0
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 16) ^ x0) >>> 0
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 24) ^ x0) >>> 0
  x0 = (x0 + k1) >>> 0
  x1 = (x1 + k2 + 4) >>> 0
  // rounds 17-20
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 13) ^ x0) >>> 0
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 15) ^ x0) >>> 0
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 26) ^ x0) >>> 0
  x0 = (x0 + x1) >>> 0
  x1 = (rotl(x1, 6) ^ x0) >>> 0
  x0 = (x0 + k2) >>> 0
  x1 = (x1 + k0 + 5) >>> 0
  out[at] = x0
  out[at + 1] = x1
}

const block = (k0: number, k1: number, c0: number, c1: number): Key => {
  const out = new Uint32Array(2)
  threefryInto(k0, k1, c0, c1, out, 0)
  return Object.freeze({ k0: out[0]!, k1: out[1]! })
}

// ---------------------------------------------------------------------------------------------
// Validation

const MAX_WORD = 0xffffffff
const TWO_32 = 0x100000000

const isWord = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= MAX_WORD

/** A value as an error shows it: numbers as they are, anything else as JSON of at most 60 characters. */
const preview = (x: unknown): string => {
  if (typeof x === 'number' || typeof x === 'bigint' || typeof x === 'boolean' || x == null) return String(x)
  if (typeof x === 'string') return JSON.stringify(x)
  if (typeof x === 'function') return 'a function'
  try {
    const s = JSON.stringify(x)
    return s.length > 60 ? `${s.slice(0, 57)}...` : s
  } catch {
    return Object.prototype.toString.call(x)
  }
}

/** True when `x` is a Key: an object whose k0 and k1 are integers in [0, 2^32). */
export const isKey = (x: unknown): x is Key =>
  typeof x === 'object' && x !== null && isWord((x as { k0?: unknown }).k0) && isWord((x as { k1?: unknown }).k1)

const checkKey = (x: unknown, where: string): Key => {
  if (!isKey(x)) {
    throw new KeyError(`${where}: expected a Key { k0, k1 } of two uint32 words, got ${preview(x)}`)
  }
  return x
}

const checkCount = (n: unknown, max: number, where: string, what: string): number => {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
    throw new KeyError(`${where}: ${what} must be an integer in [0, ${max}], got ${preview(n)}`)
  }
  return n
}

const checkShape = (shape: unknown, where: string): number => {
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    throw new KeyError(`${where}: shape must be an array of non-negative integers, got ${preview(shape)}`)
  }
  return sizeOf(shape)
}

const checkFinite = (x: unknown, where: string, what: string): number => {
  if (typeof x !== 'number' || !Number.isFinite(x)) {
    throw new KeyError(`${where}: ${what} must be a finite number, got ${preview(x)}`)
  }
  return x
}

const checkSafeInteger = (x: unknown, where: string, what: string): number => {
  if (typeof x !== 'number' || !Number.isSafeInteger(x)) {
    throw new KeyError(`${where}: ${what} must be a safe integer (|${what}| < 2^53), got ${preview(x)}`)
  }
  return x
}

/** Low 32 bits of a safe integer in 64-bit two's complement (exact: ToUint32 reduces mod 2^32). */
const lo32 = (x: number): number => x >>> 0
/** High 32 bits of a safe integer in 64-bit two's complement (exact: division by 2^32 is exact). */
const hi32 = (x: number): number => Math.floor(x / TWO_32) >>> 0

// ---------------------------------------------------------------------------------------------
// Keys

/**
 * Threefry-2x32-20 of one counter block under a key: the raw bijection everything else is built on.
 *
 * @example threefry2x32({ k0: 0, k1: 0 }, [0, 0]) // [0x6b200159, 0x99ba4efe], Random123's first test vector
 */
export const threefry2x32 = (key: Key, counter: readonly [number, number]): readonly [number, number] => {
  checkKey(key, 'threefry2x32')
  if (!Array.isArray(counter) || counter.length !== 2 || !isWord(counter[0]) || !isWord(counter[1])) {
    throw new KeyError(`threefry2x32: counter must be [c0, c1], two uint32 words, got ${preview(counter)}`)
  }
  const out = new Uint32Array(2)
  threefryInto(key.k0, key.k1, counter[0], counter[1], out, 0)
  return Object.freeze([out[0]!, out[1]!] as const)
}

/**
 * A key from an integer seed. Any safe integer works, negatives too; both 32-bit halves of the
 * seed are mixed in, and distinct seeds always give distinct keys.
 *
 * @example show(fromSeed(0)) // "Key(0x6b200159, 0x99ba4efe)"
 */
export const fromSeed = (seed: number): Key => {
  checkSafeInteger(seed, 'fromSeed', 'seed')
  return block(0, 0, lo32(seed), hi32(seed))
}

/** `n` keys: a tuple of n when n is a literal up to 16 (so `const [a, b, c] = split(k, 3)` gives three Keys), else an array. */
export type Keys<N extends number> = number extends N ? readonly Key[] : KeyTuple<N, readonly []>
type KeyTuple<N extends number, Acc extends readonly Key[]> = Acc['length'] extends N
  ? Acc
  : Acc['length'] extends 16
    ? readonly Key[]
    : KeyTuple<N, readonly [...Acc, Key]>

/**
 * `n` independent keys from one (default 2); use each child once and drop the parent.
 * Child i is the same for every n > i.
 *
 * @example
 * const [kInit, kData, kDropout] = split(fromSeed(42), 3)
 */
export function split(key: Key): readonly [Key, Key]
export function split<N extends number>(key: Key, n: N): Keys<N>
export function split(key: Key, n = 2): readonly Key[] {
  checkKey(key, 'split')
  checkCount(n, TWO_32, 'split', 'n')
  const keys: Key[] = []
  for (let i = 0; i < n; i++) keys.push(block(key.k0, key.k1, lo32(i), 1))
  return Object.freeze(keys)
}

/**
 * The key of a layer's forward context, checked: a layer that draws randomness (dropout's mask,
 * a pipe's key per child) takes it through this, so a missing key is reported as missing, with
 * what to call instead, rather than as a bad argument deep inside the PRNG.
 *
 * @example
 * const ctx = { mode: 'train' as const, key: fromSeed(1) }
 * const keep = bernoulli(ctxKey(ctx, 'myDropout'), [2, 3], 0.5)
 */
export const ctxKey = (ctx: { readonly key?: unknown } | undefined, where: string): Key => {
  if (ctx?.key === undefined) {
    throw new KeyError(
      `${where}: ctx.key is missing: forward(params, state, x, ctx) takes ctx = { mode, key } and ${where} draws randomness from ` +
        `the key; to predict, call Train.predict(model, params, state, x), or pass { mode: 'eval', key } (e.g. key = Key.fromSeed(0))`,
    )
  }
  return checkKey(ctx.key, `${where}: ctx.key`)
}

/**
 * Two independent keys from one, typed as a pair: the everyday split.
 *
 * @example
 * const [next, sub] = split2(key)   // carry `next` on, spend `sub` now
 */
export const split2 = (key: Key): readonly [Key, Key] => {
  checkKey(key, 'split2')
  return Object.freeze([block(key.k0, key.k1, 0, 1), block(key.k0, key.k1, 1, 1)] as const)
}

/**
 * A key derived from `key` and an integer such as a step or layer index (any safe integer);
 * distinct integers give distinct keys.
 *
 * @example
 * const stepKey = foldIn(runKey, step)   // a fresh key per step, no key threading needed
 */
export const foldIn = (key: Key, data: number): Key => {
  checkKey(key, 'foldIn')
  checkSafeInteger(data, 'foldIn', 'data')
  const fold = block(key.k0, key.k1, 0, 2)
  return block(fold.k0, fold.k1, lo32(data), hi32(data))
}

const hex8 = (w: number): string => w.toString(16).padStart(8, '0')

/** The key as "Key(0x6b200159, 0x99ba4efe)". */
export const show = (key: Key): string => {
  checkKey(key, 'show')
  return `Key(0x${hex8(key.k0)}, 0x${hex8(key.k1)})`
}

// ---------------------------------------------------------------------------------------------
// Raw words

const fillBits = (key: Key, out: Uint32Array): Uint32Array => {
  const n = out.length
  const pairs = n >>> 1
  for (let j = 0; j < pairs; j++) threefryInto(key.k0, key.k1, j, 0, out, 2 * j)
  if ((n & 1) === 1) {
    const last = new Uint32Array(2)
    threefryInto(key.k0, key.k1, pairs, 0, last, 0)
    out[n - 1] = last[0]!
  }
  return out
}

/**
 * The first `n` uint32 words of the key's stream; `bits(key, n)` is a prefix of `bits(key, n + 1)`.
 *
 * @example bits(fromSeed(0), 2) // Uint32Array [0xf84e8312, 0x2fef64f3]
 */
export const bits = (key: Key, n: number): Uint32Array => {
  checkKey(key, 'bits')
  checkCount(n, TWO_32, 'bits', 'n')
  return fillBits(key, new Uint32Array(n))
}

/**
 * The key's word stream read one word at a time, for samplers that reject and so cannot know
 * in advance how many words they need. Reads exactly the words `bits` returns, in order.
 */
const wordStream = (key: Key): (() => number) => {
  const pair = new Uint32Array(2)
  let counter = 0
  let pos = 2
  return () => {
    if (pos === 2) {
      threefryInto(key.k0, key.k1, counter, 0, pair, 0)
      counter = (counter + 1) >>> 0
      pos = 0
    }
    return pair[pos++]!
  }
}

/**
 * An unbiased integer in [0, m) for 1 <= m <= 2^32, by rejection: words below 2^32 mod m are
 * redrawn, so the accepted range holds every residue equally often (no modulo bias).
 * Redraws happen with probability below m / 2^32.
 */
const below = (next: () => number, m: number): number => {
  const threshold = TWO_32 % m
  for (;;) {
    const w = next()
    if (w >= threshold) return w % m
  }
}

// ---------------------------------------------------------------------------------------------
// Samplers

/** A float in [0, 1) on the grid of 2^-53, from 27 bits of `a` and 26 bits of `b` (exact arithmetic). */
const unit53 = (a: number, b: number): number => ((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992

/** The float just below x (x finite, not the smallest negative double), to keep [lo, hi) half-open. */
const nextDown = (x: number): number => {
  if (x === 0) return -Number.MIN_VALUE
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  view.setBigInt64(0, view.getBigInt64(0) + (x > 0 ? -1n : 1n))
  return view.getFloat64(0)
}

/**
 * A tensor of floats drawn uniformly from [lo, hi) (default [0, 1)), each from two words
 * (53 random bits, the full resolution of a double in [0, 1)).
 *
 * @example
 * const W = uniform(key, [784, 128], -0.05, 0.05)
 */
export const uniform = (key: Key, shape: Shape, lo = 0, hi = 1): Tensor => {
  checkKey(key, 'uniform')
  const size = checkShape(shape, 'uniform')
  checkFinite(lo, 'uniform', 'lo')
  checkFinite(hi, 'uniform', 'hi')
  if (!(lo < hi)) throw new KeyError(`uniform: need lo < hi, got lo = ${lo}, hi = ${hi}`)
  const width = hi - lo
  if (!Number.isFinite(width)) throw new KeyError(`uniform: hi - lo overflows to Infinity (lo = ${lo}, hi = ${hi})`)
  const data = buffer(size) // first: an allocation limit in force refuses before the random bits are drawn
  const words = fillBits(key, new Uint32Array(2 * size))
  const top = nextDown(hi)
  for (let i = 0; i < size; i++) {
    const x = lo + width * unit53(words[2 * i]!, words[2 * i + 1]!)
    data[i] = x < hi ? x : top // rounding can land on hi when width is not a power of two
  }
  return fromData(shape, data)
}

const TWO_PI = 2 * Math.PI

/** Box-Muller radius sqrt(-2 ln u) with u = 1 - unit53 in (0, 1], so the log never sees 0. */
const radius = (a: number, b: number): number => Math.sqrt(-2 * Math.log(1 - unit53(a, b)))
const angle = (a: number, b: number): number => TWO_PI * unit53(a, b)

const checkMeanStd = (mean: unknown, std: unknown, where: string): void => {
  checkFinite(mean, where, 'mean')
  checkFinite(std, where, 'std')
  if ((std as number) < 0) throw new KeyError(`${where}: std must be >= 0, got ${std}`)
}

/**
 * A tensor of normal samples, N(mean, std^2) (default N(0, 1)), by the Box-Muller transform:
 * each four words give two independent normals.
 *
 * @example
 * const W = normal(key, [256, 128], 0, Math.sqrt(2 / 256))   // He initialisation
 */
export const normal = (key: Key, shape: Shape, mean = 0, std = 1): Tensor => {
  checkKey(key, 'normal')
  const size = checkShape(shape, 'normal')
  checkMeanStd(mean, std, 'normal')
  const pairs = Math.ceil(size / 2)
  const data = buffer(size) // first: an allocation limit in force refuses before the random bits are drawn
  const w = fillBits(key, new Uint32Array(4 * pairs))
  for (let p = 0; p < pairs; p++) {
    const r = radius(w[4 * p]!, w[4 * p + 1]!)
    const t = angle(w[4 * p + 2]!, w[4 * p + 3]!)
    data[2 * p] = mean + std * (r * Math.cos(t))
    if (2 * p + 1 < size) data[2 * p + 1] = mean + std * (r * Math.sin(t))
  }
  return fromData(shape, data)
}

/**
 * Normal samples N(mean, std^2) cut to [mean - 2 std, mean + 2 std] by redrawing the ones outside
 * (the Keras/TF weight-init convention; the result's standard deviation is about 0.88 std).
 */
export const truncatedNormal = (key: Key, shape: Shape, mean = 0, std = 1): Tensor => {
  checkKey(key, 'truncatedNormal')
  const size = checkShape(shape, 'truncatedNormal')
  checkMeanStd(mean, std, 'truncatedNormal')
  const next = wordStream(key)
  const data = buffer(size)
  let i = 0
  while (i < size) {
    const r = radius(next(), next())
    const t = angle(next(), next())
    const z0 = r * Math.cos(t)
    const z1 = r * Math.sin(t)
    if (Math.abs(z0) <= 2) data[i++] = mean + std * z0
    if (i < size && Math.abs(z1) <= 2) data[i++] = mean + std * z1
  }
  return fromData(shape, data)
}

/**
 * A uniformly random ordering of 0..n-1 (Fisher-Yates, each index drawn without modulo bias).
 *
 * @example
 * const order = permutation(foldIn(key, epoch), 60000)   // shuffle a data set: visit rows in this order
 */
export const permutation = (key: Key, n: number): Int32Array => {
  checkKey(key, 'permutation')
  checkCount(n, 0x7fffffff, 'permutation', 'n')
  const next = wordStream(key)
  const order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = below(next, i + 1)
    const tmp = order[i]!
    order[i] = order[j]!
    order[j] = tmp
  }
  return order
}

/**
 * A tensor of integers drawn uniformly from [lo, hi) (stored as float64), without modulo bias.
 * lo and hi are safe integers with 0 < hi - lo <= 2^32.
 *
 * @example
 * const labels = randint(key, [32], 0, 10)
 */
export const randint = (key: Key, shape: Shape, lo: number, hi: number): Tensor => {
  checkKey(key, 'randint')
  const size = checkShape(shape, 'randint')
  checkSafeInteger(lo, 'randint', 'lo')
  checkSafeInteger(hi, 'randint', 'hi')
  if (!(lo < hi)) throw new KeyError(`randint: need lo < hi, got lo = ${lo}, hi = ${hi}`)
  const m = hi - lo
  if (m > TWO_32) throw new KeyError(`randint: the range hi - lo = ${m} exceeds 2^32`)
  const next = wordStream(key)
  const data = buffer(size)
  for (let i = 0; i < size; i++) data[i] = lo + below(next, m)
  return fromData(shape, data)
}

/**
 * A tensor of 0s and 1s, each 1 with probability p (compared against a 53-bit uniform, so p = 0
 * never gives 1 and p = 1 always does).
 *
 * @example
 * const keep = bernoulli(key, x.shape, 0.9)   // a dropout mask that keeps 90%
 */
export const bernoulli = (key: Key, shape: Shape, p: number): Tensor => {
  checkKey(key, 'bernoulli')
  const size = checkShape(shape, 'bernoulli')
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new KeyError(`bernoulli: p must be a probability in [0, 1], got ${preview(p)}`)
  }
  const data = buffer(size) // first: an allocation limit in force refuses before the random bits are drawn
  const words = fillBits(key, new Uint32Array(2 * size))
  for (let i = 0; i < size; i++) data[i] = unit53(words[2 * i]!, words[2 * i + 1]!) < p ? 1 : 0
  return fromData(shape, data)
}
