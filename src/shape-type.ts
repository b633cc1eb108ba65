/**
 * Shapes at compile time. A layer's type carries a rule: a type-level function from the type of
 * its input shape to the type of its output shape. A pipe threads the rules as init threads the
 * shapes, so with literal shapes the compiler knows every shape, and a layer that cannot take its
 * input is a compile error whose message says what it expected and what it got.
 *
 *   rule        an interface extending Rule whose `out` reads `this['in']` (so it can be applied)
 *   Out<R, I>   the output shape R gives for the input shape I, or a message (a string literal)
 *   number      a size the types do not know: rules pass it on, and init checks it at run time
 *
 * The arithmetic counts tuple lengths: exact for literal whole numbers in range (sums and window
 * sizes below 1000, products below 10000), `number` beyond, never a compile failure.
 */
import type { Shape } from './tensor/tensor.ts'

/** The key of a layer type's shape rule. A type only: no layer holds it at run time. */
export declare const shapeRule: unique symbol

/**
 * A shape rule: an interface extending Rule declares `out`, the output shape for the input shape
 * `in`, or a string saying why there is none. The bare Rule declares no `out` (no rule), which also
 * keeps comparing two layer types cheap: only `in` is compared.
 */
export interface Rule {
  readonly in: unknown
}

/** The output shape rule R gives for the input I: a shape, an error message, or Shape when R is the bare Rule (no rule declared). */
export type Out<R extends Rule, I> = R & { readonly in: I } extends { readonly out: infer O } ? (unknown extends O ? Shape : O) : Shape

/** The rule in a layer type (the bare Rule when it declares none). */
export type RuleOf<L> = L extends { [shapeRule]?(r: infer R): void } ? (R extends Rule ? R : Rule) : Rule

// ---------------------------------------------------------------- arithmetic on tuple lengths

type Ten = {
  '0': []
  '1': [0]
  '2': [0, 0]
  '3': [0, 0, 0]
  '4': [0, 0, 0, 0]
  '5': [0, 0, 0, 0, 0]
  '6': [0, 0, 0, 0, 0, 0]
  '7': [0, 0, 0, 0, 0, 0, 0]
  '8': [0, 0, 0, 0, 0, 0, 0, 0]
  '9': [0, 0, 0, 0, 0, 0, 0, 0, 0]
}
type X10<T extends 0[]> = [...T, ...T, ...T, ...T, ...T, ...T, ...T, ...T, ...T, ...T]
/** T repeated C's length times (C at most 9 long). */
type Rep<T extends 0[], C extends 0[]> = C extends [0, ...infer R extends 0[]] ? [...T, ...Rep<T, R>] : []
/** The length of a string. */
type Len<S extends string, C extends 0[] = []> = S extends `${string}${infer R}` ? Len<R, [...C, 0]> : C['length']
/** How many digits N has when it is a literal whole number; 0 when it is not (`number`, negative, fractional). */
type Digits<N> = N extends number
  ? number extends N
    ? 0
    : `${N}` extends `-${string}` | `${string}.${string}` | `${string}e${string}`
      ? 0
      : Len<`${N}`>
  : 0
/** N zeros, read digit by digit: 784 is ((7)·10 + 8)·10 + 4. */
type Tup<N extends number | string, T extends 0[] = []> = `${N}` extends `${infer D extends keyof Ten}${infer R}`
  ? Tup<R, [...X10<T>, ...Ten[D]]>
  : T
/** A·T's length, multiplying digit by digit. */
type Times<T extends 0[], B extends string, P extends 0[] = []> = B extends `${infer D extends keyof Ten}${infer R}`
  ? Times<T, R, [...X10<P>, ...Rep<T, Ten[D]>]>
  : P

/** True when every one of Ns is a literal whole number of at most 3 digits (the range of sums and window sizes). */
type Small<Ns extends readonly unknown[]> = Ns extends readonly [infer N, ...infer R]
  ? Digits<N> extends 1 | 2 | 3
    ? Small<R>
    : false
  : true

/** A + B (numbers below 1000), or number. */
export type Add<A, B> = [B] extends [0]
  ? A
  : [A] extends [0]
    ? B
    : Small<[A, B]> extends true
      ? [...Tup<A & number>, ...Tup<B & number>]['length']
      : number
/** A − B (numbers below 1000), never when negative, or number. */
export type Sub<A, B> = [B] extends [0]
  ? A
  : Small<[A, B]> extends true
    ? Tup<A & number> extends [...Tup<B & number>, ...infer R]
      ? R['length']
      : never
    : number
/**
 * A · B when the product is surely below 10000, or number: when the factors' digits add up to at
 * most 4, or to 5 with leading digits a, b such that (a + 1)(b + 1) ≤ 10 (16·196, 128·49).
 */
export type Mul<A, B> = [B] extends [1] ? A : [A] extends [1] ? B : [A] extends [0] ? 0 : [B] extends [0] ? 0 : Mul2<A, B>
type Mul2<A, B> = [Digits<A>, Digits<B>] extends [infer DA extends 1 | 2 | 3 | 4, infer DB extends 1 | 2 | 3 | 4]
  ? [...Tup<DA>, ...Tup<DB>]['length'] extends 2 | 3 | 4
    ? Times<Tup<A & number>, `${B & number}`>['length']
    : [...Tup<DA>, ...Tup<DB>]['length'] extends 5
      ? [`${A & number}`, `${B & number}`] extends [`${infer a extends keyof Ten}${string}`, `${infer b extends keyof Ten}${string}`]
        ? Times<[...Ten[a], 0], `${[...Ten[b], 0]['length'] & number}`>['length'] extends 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10
          ? Times<Tup<A & number>, `${B & number}`>['length']
          : number
        : number
      : number
  : number
/** How many B fit in X (X < 10·B): the count and the rest. */
type Fit<X extends 0[], B extends 0[], Q extends 0[] = []> = X extends [...B, ...infer R extends 0[]] ? Fit<R, B, [...Q, 0]> : [Q, X]
/** Long division of the digits A by B, one digit at a time: [quotient, remainder] as tuples. */
type Long<A extends string, B extends 0[], Q extends 0[] = [], R extends 0[] = []> = A extends `${infer D extends keyof Ten}${infer Rest}`
  ? Fit<[...X10<R>, ...Ten[D]], B> extends [infer q extends 0[], infer r extends 0[]]
    ? Long<Rest, B, [...X10<Q>, ...q], r>
    : never
  : [Q, R]
/** ⌊A / B⌋ (A below 10000, B from 1 to 999), or number. */
export type Div<A, B> = [B] extends [1]
  ? A
  : [Digits<A>, Digits<B>, B] extends [1 | 2 | 3 | 4, 1 | 2 | 3, Exclude<B, 0>]
    ? Long<`${A & number}`, Tup<B & number>>[0]['length']
    : number
/** A mod B (A below 10000, B from 1 to 999), or number. */
type Mod<A, B> = [Digits<A>, Digits<B>, B] extends [1 | 2 | 3 | 4, 1 | 2 | 3, Exclude<B, 0>]
  ? Long<`${A & number}`, Tup<B & number>>[1]['length']
  : number
/** The product of a shape's sizes (1 for []), or number. */
export type Prod<S> = S extends readonly [infer H, ...infer T] ? Mul<H, Prod<T>> : S extends readonly [] ? 1 : number

// ---------------------------------------------------------------- shapes

/** A shape as text for messages: `[1, 28, 28]`, `?` for a size the types do not know. */
export type Show<S> = S extends readonly unknown[] ? (number extends S['length'] ? '[...]' : `[${Join<S>}]`) : '?'
type Join<S, Sep extends string = ''> = S extends readonly [infer H, ...infer T]
  ? `${Sep}${H extends number ? (number extends H ? '?' : H) : '?'}${Join<T, ', '>}`
  : ''
/** True when I's rank is one of R, or unknown (an array, not a tuple); false otherwise. */
type Ranked<I, R extends number> = I extends readonly unknown[]
  ? number extends I['length']
    ? true
    : I['length'] extends R
      ? true
      : false
  : true
/** True when S is a tuple of literal sizes. */
type Known<S> = S extends readonly [] ? true : S extends readonly [infer H, ...infer T] ? (Digits<H> extends 0 ? false : Known<T>) : false
/** S as a mutable tuple (a const-inferred shape is readonly). */
export type Plain<S> = S extends readonly unknown[] ? [...S] : S
/** True when a and b are known and differ. */
type Differ<A, B> = [Known<A>, Known<B>] extends [true, true]
  ? [Plain<A>] extends [Plain<B>]
    ? [Plain<B>] extends [Plain<A>]
      ? false
      : true
    : true
  : false

// ---------------------------------------------------------------- the rules of the layers

/** Keeps the shape: activations, dropout, identity, softmax. */
export interface Keep extends Rule {
  readonly out: Plain<this['in']>
}

/** dense(U): [features] → [U]. */
export interface Dense<U extends number> extends Rule {
  readonly out: Ranked<this['in'], 1> extends true
    ? [U]
    : `dense: input shape: expected [features] (${DenseHint<this['in']>}), got ${Show<this['in']>}`
}
/** What dense's message suggests: rank 2 is most often [batch, features] where one example's shape was meant. */
type DenseHint<I> = I extends readonly [unknown, unknown]
  ? 'an input shape is per example, without the batch axis: [features], not [N, features]; or flatten first'
  : 'flatten images first'

/** flatten: [d₁, d₂, …] → [d₁·d₂·…]. */
export interface Flatten extends Rule {
  readonly out: this['in'] extends readonly [] ? `flatten: input shape: expected at least one axis per example, got []` : [Prod<this['in']>]
}

/** batchNorm: keeps a [features] or [channels, height, width] shape. */
export interface Norm extends Rule {
  readonly out: Ranked<this['in'], 1 | 3> extends true
    ? Plain<this['in']>
    : `batchNorm: input shape: expected [features] or [channels, height, width], got ${Show<this['in']>}`
}

/** globalAvgPool: [C, H, W] → [C]. */
export interface GlobalPool extends Rule {
  readonly out: Ranked<this['in'], 3> extends false
    ? `globalAvgPool: input shape: expected [channels, height, width], got ${Show<this['in']>}`
    : this['in'] extends readonly [infer C, infer H, infer W]
      ? H | W extends 0
        ? `globalAvgPool: input shape: expected at least one pixel, got ${Show<this['in']>}`
        : [C]
      : [number]
}

/** reshape(T): the same values in the shape T, where one -1 stands for what the others leave. */
export interface Reshape<T> extends Rule {
  readonly out: T extends readonly number[] ? Reshaped<Prod<this['in']>, T, this['in']> : Shape
}
type Reshaped<Size, T extends readonly number[], I> = number extends T['length']
  ? Shape
  : -1 extends T[number]
    ? Inferred<Size, Prod<Without<T>>, T, I>
    : Known<[Size, Prod<T>]> extends false
      ? Plain<T>
      : Size extends Prod<T>
        ? Plain<T>
        : `reshape: cannot reshape an example of ${Size & number} values to ${Show<T>} (input shape ${Show<I>})`
/** T without its -1. */
type Without<T> = T extends readonly [infer H, ...infer R] ? (H extends -1 ? Without<R> : [H, ...Without<R>]) : []
/** T with its -1 replaced by Size / Known (number when either is unknown), or a message when Known does not divide Size. */
type Inferred<Size, Known, T extends readonly number[], I> =
  Mod<Size, Known> extends infer M
    ? number extends M
      ? { -readonly [k in keyof T]: T[k] extends -1 ? number : T[k] }
      : M extends 0
        ? { -readonly [k in keyof T]: T[k] extends -1 ? Div<Size, Known> : T[k] }
        : `reshape: cannot reshape an example of ${Size & number} values to ${Show<T>} (input shape ${Show<I>})`
    : never

/** A pair option as [rows, columns]: a number for both, a pair, or a default when absent; [number, number] when unknown. */
export type Pair2<P, Default extends number> = [P] extends [undefined]
  ? [Default, Default]
  : [P] extends [number]
    ? [P, P]
    : [P] extends [readonly [infer A extends number, infer B extends number]]
      ? [A, B]
      : [number, number]
/** Padding as 'valid', 'same' or [rows, columns]. */
type Pad2<P> = [P] extends [undefined] ? 'valid' : [P] extends ['valid'] ? 'valid' : [P] extends ['same'] ? 'same' : Pair2<P, 0>

/**
 * Output size along one axis: ⌊(n + 2p − span) / s⌋ + 1 with span = (k − 1)·d + 1, ⌈n / s⌉ for
 * 'same'; never when the window does not fit.
 */
type Axis<N, K, S, D, P> = P extends 'same'
  ? Div<Add<N, Sub<S, 1>>, S>
  : Sub<Add<N, Mul<2, P extends 'valid' ? 0 : P>>, Add<Mul<Sub<K, 1>, D>, 1>> extends infer Room
    ? [Room] extends [never]
      ? never
      : Add<Div<Room, S>, 1>
    : never
type At<P, i extends 0 | 1> = P extends readonly [number, number] ? P[i] : P
/** A window's output [height, width] for a [C, H, W] input, or a message naming the layer. */
type Window<
  Name extends string,
  I,
  K extends [number, number],
  S extends [number, number],
  D extends [number, number],
  P,
> = I extends readonly [unknown, infer H, infer W]
  ? [Axis<H, K[0], S[0], D[0], At<P, 0>>, Axis<W, K[1], S[1], D[1], At<P, 1>>] extends [infer OH, infer OW]
    ? [OH] extends [never]
      ? `${Name}: window ${K[0]}x${K[1]} is larger than the padded input (input shape ${Show<I>})`
      : [OW] extends [never]
        ? `${Name}: window ${K[0]}x${K[1]} is larger than the padded input (input shape ${Show<I>})`
        : [OH, OW]
    : never
  : [number, number]

/** The options of a window layer, as the rules read them. */
interface WindowOptions {
  readonly stride?: unknown
  readonly padding?: unknown
  readonly dilation?: unknown
}
/** Option k of O, undefined when O has no such key. */
type Opt<O, k extends string> = k extends keyof O ? O[k] : undefined

/** conv2d(F, K, O): [C, H, W] → [F, OH, OW]. */
export interface Conv<F extends number, K, O extends WindowOptions> extends Rule {
  readonly out: Ranked<this['in'], 3> extends false
    ? `conv2d: input shape: expected [channels, height, width], got ${Show<this['in']>}`
    : Window<
          'conv2d',
          this['in'],
          Pair2<K, 1>,
          Pair2<Opt<O, 'stride'>, 1>,
          Pair2<Opt<O, 'dilation'>, 1>,
          Pad2<Opt<O, 'padding'>>
        > extends infer G
      ? G extends string
        ? G
        : G extends [infer OH, infer OW]
          ? [F, OH, OW]
          : never
      : never
}

/** maxPool2d / avgPool2d (named N) of window K: [C, H, W] → [C, OH, OW] (the stride defaults to the window). */
export interface Pool<N extends string, K, O extends WindowOptions> extends Rule {
  readonly out: Ranked<this['in'], 3> extends false
    ? `${N}: input shape: expected [channels, height, width], got ${Show<this['in']>}`
    : Window<
          N,
          this['in'],
          Pair2<K, 1>,
          [Opt<O, 'stride'>] extends [undefined] ? Pair2<K, 1> : Pair2<Opt<O, 'stride'>, 1>,
          [1, 1],
          Pad2<Opt<O, 'padding'>>
        > extends infer G
      ? G extends string
        ? G
        : G extends [infer OH, infer OW]
          ? [this['in'] extends readonly [infer C, unknown, unknown] ? C : number, OH, OW]
          : never
      : never
}

// ---------------------------------------------------------------- the rules of the combinators

/** The output of the layers Ls run in turn on I, or the first error, its path starting `pipe[i].` (Shape for an array of layers). */
export type Thread<I, Ls, K extends 0[] = []> = Ls extends readonly [infer H, ...infer T]
  ? Out<RuleOf<H>, I> extends infer O
    ? O extends string
      ? `pipe[${K['length']}].${O}`
      : Thread<O, T, [...K, 0]>
    : never
  : Ls extends readonly []
    ? Plain<I>
    : Shape

/** pipe(...Ls): each layer's rule on the output of the one before. */
export interface Seq<Ls> extends Rule {
  readonly out: Thread<this['in'], Ls>
}

/**
 * Ls with the first layer that cannot take its input (seen from an input of unknown shape I)
 * replaced by the message saying why, or never when every layer can: as a parameter type, it
 * puts the error on that argument.
 */
export type Checked<Ls, I = Shape, Acc extends readonly unknown[] = []> = Ls extends readonly [infer H, ...infer T]
  ? Out<RuleOf<H>, I> extends infer O
    ? O extends string
      ? [...Acc, O, ...T]
      : Checked<T, O, [...Acc, H]>
    : never
  : never

/** residual(f): f's rule, and f must keep the shape. */
export interface Skip<R extends Rule> extends Rule {
  readonly out: Out<R, this['in']> extends infer O
    ? O extends string
      ? `residual.${O}`
      : Differ<this['in'], O> extends true
        ? `residual: the body must keep the shape of its input: input ${Show<this['in']>}, body output ${Show<O>}`
        : Known<this['in']> extends true
          ? Plain<this['in']>
          : O
    : never
}

/** The output shapes of branches Ls on the same input I, or the first error, its path starting `branches[i].`. */
type Each<I, Ls, K extends 0[] = [], Acc extends unknown[] = []> = Ls extends readonly [infer H, ...infer T]
  ? Out<RuleOf<H>, I> extends infer O
    ? O extends string
      ? `branches[${K['length']}].${O}`
      : Each<I, T, [...K, 0], [...Acc, O]>
    : never
  : Acc
/** The end of a branches message: what branch 0 and branch k give. */
type Gives<A, B, k extends number> = `branch 0 gives ${Show<A>}, branch ${k} gives ${Show<B>}`
/** Sum of branch outputs: they must agree. */
type Summed<Os extends unknown[], K extends 0[] = [0]> = Os extends [infer A, infer B, ...infer R]
  ? Differ<A, B> extends true
    ? `branches: sum needs equal shapes: ${Gives<A, B, K['length']>}`
    : Summed<[Known<A> extends true ? A : B, ...R], [...K, 0]>
  : Os extends [infer A]
    ? A
    : Shape
/** Concatenation of branch outputs along the first axis: the other axes must agree. */
type Concat<Os extends unknown[], K extends 0[] = [0]> = Os extends [infer A extends readonly unknown[], infer B, ...infer R]
  ? B extends readonly unknown[]
    ? [A, B] extends [readonly [infer a, ...infer As], readonly [infer b, ...infer Bs]]
      ? Differ<As, Bs> extends true
        ? `branches: concat needs shapes that agree except on the first (feature) axis: ${Gives<A, B, K['length']>}`
        : Concat<[[Add<a, b>, ...(Known<As> extends true ? As : Bs)], ...R], [...K, 0]>
      : Shape
    : Shape
  : Os extends [infer A]
    ? A
    : Shape

/** branches(M, ...Ls): every branch on the input, merged by sum or concat. */
export interface Fan<M, Ls> extends Rule {
  readonly out: Ls extends readonly [unknown, ...unknown[]]
    ? Each<this['in'], Ls> extends infer Os
      ? Os extends string
        ? Os
        : Os extends unknown[]
          ? [M] extends ['sum']
            ? Summed<Os>
            : [M] extends ['concat']
              ? Concat<Os>
              : Shape
          : never
      : never
    : Shape
}

/** The output shape of the layer type L for the input shape I (e.g. `OutShape<typeof model, [1, 28, 28]>`), or its error message. */
export type OutShape<L, I> = Out<RuleOf<L>, I>

/** Options O with no key outside Allowed: a misspelt option is a compile error even where O is inferred. */
export type Only<O, Allowed> = O & { readonly [k in Exclude<keyof O, keyof Allowed>]: never }
