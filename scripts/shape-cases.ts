/**
 * Random networks and input shapes, each with what init does with it at run time (its output
 * shape, or the path of the layer whose ShapeError it throws), written as a type-test file: the
 * compile-time shape rules (src/shape-type.ts) must give the same output shape, or reject the
 * same case naming the same layer. test/types/random.test.ts generates the file from a committed
 * seed and type-checks it with the repository's settings.
 *
 * Run: npx tsx scripts/shape-cases.ts [--seed N] [--count N] [--out cases.ts]
 */
import { writeFileSync } from 'node:fs'
import { Key, L, type Shape } from 'chainrule'

/** A layer as source text and as a value built from the same arguments. */
interface Node {
  readonly src: string
  readonly layer: L.AnyLayer
}

/** One case: a network and an input shape, and what init gave: the output shape, or the error path. */
export interface Case {
  readonly src: string
  readonly inShape: Shape
  readonly outShape?: Shape
  readonly errorAt?: string
}

/** Mulberry32: a small seeded generator of numbers in [0, 1). */
const random = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The cases for a seed: `count` networks, most of them well shaped, the rest with one mistake. */
export const generate = (seed: number, count: number): Case[] => {
  const next = random(seed)
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1))
  const pick = <A>(xs: readonly A[]): A => xs[Math.floor(next() * xs.length)]!
  const show = (v: unknown): string => JSON.stringify(v).replace(/,/g, ', ').replace(/"/g, "'")
  const node = (src: string, layer: L.AnyLayer): Node => ({ src: `L.${src}`, layer })
  const pair = (lo: number, hi: number): number | readonly [number, number] => (next() < 0.7 ? int(lo, hi) : [int(lo, hi), int(lo, hi)])
  /** What init gives for a shape, or undefined when it throws. */
  const outOf = (layer: L.AnyLayer, shape: Shape): Shape | undefined => {
    try {
      return layer.init(Key.fromSeed(0), shape).outShape
    } catch {
      return undefined
    }
  }

  const activation = (): Node =>
    pick([
      () => node('relu', L.relu),
      () => node('tanh', L.tanh),
      () => node('sigmoid', L.sigmoid),
      () => node('softmax', L.softmax),
      () => node('identity', L.identity),
      () => node('elu()', L.elu()),
      () => node('leakyRelu(0.1)', L.leakyRelu(0.1)),
      () => node('dropout({ dropProb: 0.5 })', L.dropout({ dropProb: 0.5 })),
      () => node('batchNorm()', L.batchNorm()),
    ])()
  const dense = (units = int(1, 32)): Node => node(`dense(${units})`, L.dense(units))
  const conv = (filters = int(1, 8), same = false): Node => {
    const k = pair(1, 5)
    const options: { -readonly [k in 'stride' | 'padding' | 'dilation']?: L.Conv2dOptions[k] } = {}
    if (same) options.padding = 'same'
    else {
      if (next() < 0.4) options.stride = pair(1, 3)
      if (next() < 0.5) options.padding = pick<L.Conv2dOptions['padding']>(['valid', 'same', int(0, 2), [int(0, 2), int(0, 2)]])
      if (next() < 0.2) options.dilation = pair(1, 2)
    }
    const src = Object.keys(options).length === 0 ? `conv2d(${filters}, ${show(k)})` : `conv2d(${filters}, ${show(k)}, ${show(options)})`
    return node(src.replace(/'(\w+)':/g, '$1:'), L.conv2d(filters, k, options))
  }
  const pool = (): Node => {
    const size = int(1, 3)
    const options: { stride?: number; padding?: 'valid' | 'same' | number } = {}
    if (next() < 0.4) options.stride = int(1, 3)
    if (next() < 0.4) options.padding = pick<'valid' | 'same' | number>(['valid', 'same', int(0, size - 1)])
    const kind = pick(['maxPool2d', 'avgPool2d'] as const)
    const args = Object.keys(options).length === 0 ? `${size}` : `${size}, ${show(options).replace(/'(\w+)':/g, '$1:')}`
    return node(`${kind}(${args})`, kind === 'maxPool2d' ? L.maxPool2d(size, options) : L.avgPool2d(size, options))
  }
  /** A factorisation of n into 1 to 3 factors, sometimes with one of them as -1. */
  const reshapeTo = (n: number): number[] => {
    const dims: number[] = []
    let rest = n
    for (let i = int(0, 2); i > 0; i--) {
      const divisors = [...Array(rest).keys()].map((d) => d + 1).filter((d) => rest % d === 0 && d <= 16)
      const d = pick(divisors)
      dims.push(d)
      rest /= d
    }
    dims.push(rest)
    if (next() < 0.4) dims[int(0, dims.length - 1)] = -1
    return dims
  }
  const reshape = (dims: readonly number[]): Node => node(`reshape(${show(dims)})`, L.reshape(dims))

  /** A layer that takes `shape` (most of the time: `wrong` is the chance of any layer at all). */
  const layerFor = (shape: Shape, depth: number, wrong: number): Node => {
    const size = shape.reduce((a, b) => a * b, 1)
    if (next() < wrong || shape.length === 0) {
      return pick([dense, () => conv(), pool, () => node('flatten', L.flatten), () => node('globalAvgPool', L.globalAvgPool), activation])()
    }
    const r = next()
    if (depth < 2 && r < 0.12) return residualFor(shape, depth)
    if (depth < 2 && r < 0.24) return branchesFor(shape, depth)
    if (depth < 2 && r < 0.3) return chainFor(shape, depth + 1, wrong, int(1, 3))
    if (r < 0.45) return activation()
    if (shape.length === 1) return r < 0.85 ? dense() : reshape(reshapeTo(size))
    if (shape.length === 3) {
      return pick([
        () => conv(),
        () => conv(),
        pool,
        () => node('flatten', L.flatten),
        () => node('globalAvgPool', L.globalAvgPool),
        () => reshape(reshapeTo(size)),
      ])()
    }
    return node('flatten', L.flatten)
  }
  /** A residual block: mostly a body that keeps the shape. */
  const residualFor = (shape: Shape, depth: number): Node => {
    const keeps = next() < 0.8
    const body =
      shape.length === 3
        ? keeps
          ? chain([conv(shape[0]!, true), activation()])
          : conv()
        : keeps
          ? chain([dense(shape[0]), activation()])
          : dense()
    return node(`residual(${body.src})`, L.residual(body.layer))
  }
  /** A fan-out: branches that mostly agree on the shape they give. */
  const branchesFor = (shape: Shape, depth: number): Node => {
    const merge = pick(['sum', 'concat'] as const)
    const width = int(1, 8)
    const n = int(2, 3)
    const agree = next() < 0.8
    const branch = (): Node => {
      const w = merge === 'sum' && agree ? width : int(1, 8)
      if (shape.length === 3) return agree ? conv(w, true) : conv(w)
      return next() < 0.7 ? dense(w) : chain([dense(w), activation()])
    }
    const bs = [...Array(n)].map(branch)
    return node(`branches('${merge}', ${bs.map((b) => b.src).join(', ')})`, L.branches(merge, ...bs.map((b) => b.layer)))
  }
  /** Layers in a pipe: written with pipe, compose (in reverse) or andThen. */
  const chain = (nodes: readonly Node[]): Node => {
    const layers = nodes.map((n) => n.layer)
    const r = next()
    if (r < 0.15 && nodes.length === 2) {
      return node(`andThen(${nodes[1]!.src})(${nodes[0]!.src})`, L.andThen(layers[1]!)(layers[0]!))
    }
    if (r < 0.3)
      return node(
        `compose(${[...nodes]
          .reverse()
          .map((n) => n.src)
          .join(', ')})`,
        L.compose(...[...layers].reverse()),
      )
    return node(`pipe(${nodes.map((n) => n.src).join(', ')})`, L.pipe(...layers))
  }
  /** A pipe of `length` layers threaded from `shape`. */
  const chainFor = (shape: Shape, depth: number, wrong: number, length: number): Node => {
    const nodes: Node[] = []
    let s: Shape | undefined = shape
    for (let i = 0; i < length; i++) {
      const n: Node = layerFor(s ?? shape, depth, s === undefined ? 0 : wrong)
      nodes.push(n)
      s = s === undefined ? undefined : outOf(n.layer, s)
    }
    return chain(nodes)
  }
  const input = (): Shape =>
    pick([
      (): Shape => [int(1, 40)],
      (): Shape => [int(1, 3), int(1, 16), int(1, 16)],
      (): Shape => [int(1, 3), int(3, 16), int(3, 16)],
      (): Shape => [int(1, 6), int(1, 6)],
    ])()

  const cases: Case[] = []
  while (cases.length < count) {
    const inShape = input()
    let net: Node
    try {
      net = chainFor(inShape, 0, next() < 0.3 ? 0.2 : 0, int(1, 5))
    } catch {
      continue // options a layer refuses when built (a RangeError): not a shape case
    }
    try {
      cases.push({ src: net.src, inShape, outShape: net.layer.init(Key.fromSeed(0), inShape).outShape })
    } catch (e) {
      if (!(e instanceof L.ShapeError)) throw e
      cases.push({ src: net.src, inShape, errorAt: e.path.join('.') })
    }
  }
  return cases
}

/** The type-test file for the cases: case i is on line `firstLine + i`. */
export const typeTests = (cases: readonly Case[]): { readonly source: string; readonly firstLine: number } => {
  const head = [
    '// Generated by scripts/shape-cases.ts: a case init accepts must have its output shape type; one it rejects must not compile.',
    "import { expectTypeOf } from 'vitest'",
    "import { Key, L } from 'chainrule'",
    'const key = Key.fromSeed(0)',
  ]
  const shape = (s: Shape): string => `[${s.join(', ')}]`
  const lines = cases.map((c) =>
    c.outShape === undefined
      ? `L.initialize(${c.src}, key, ${shape(c.inShape)}) // ${c.errorAt}`
      : `expectTypeOf(L.initialize(${c.src}, key, ${shape(c.inShape)}).outShape).toEqualTypeOf<${shape(c.outShape)}>()`,
  )
  return { source: [...head, ...lines, ''].join('\n'), firstLine: head.length + 1 }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, fallback: string): string => {
    const i = process.argv.indexOf(`--${name}`)
    return i >= 0 ? process.argv[i + 1]! : fallback
  }
  const cases = generate(Number(arg('seed', '1')), Number(arg('count', '300')))
  const out = arg('out', '')
  const { source } = typeTests(cases)
  if (out === '') process.stdout.write(source)
  else writeFileSync(out, source)
}
