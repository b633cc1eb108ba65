/**
 * GEMM benchmark: GFLOP/s of gemmReference and gemmBlocked on square sizes and on the
 * batch-64 MLP (784-128-64-10) products, forward and backward (transposed operands).
 *
 *   npx tsx bench/gemm.ts                 # the table
 *   npx tsx bench/gemm.ts --rounds=9      # more rounds per shape (default 7)
 *   npx tsx bench/gemm.ts --tune          # also compare a few block sizes for gemmBlocked
 *   npx tsx bench/gemm.ts --no-reference  # skip the (slow) reference kernel
 *
 * Method: every implementation is warmed up on a shape first, then calibrated so one sample
 * takes ≥ ~150 ms, then the implementations are timed in interleaved rounds (A, B, A, B, …) so
 * a noisy machine slows them alike. Printed: median, min and max GFLOP/s over the rounds.
 * FLOPs are counted as 2·m·n·k (one multiply and one add per term).
 */
import { gemmBlocked, gemmReference, makeGemmBlocked, view, type Gemm } from '../src/kernels/gemm.ts'

interface Shape {
  readonly label: string
  readonly m: number
  readonly n: number
  readonly k: number
  /** A is stored k×m row-major and read through a transposed view. */
  readonly transA: boolean
  /** B is stored n×k row-major and read through a transposed view. */
  readonly transB: boolean
}

interface Impl {
  readonly name: string
  readonly gemm: Gemm
}

const args = new Set(process.argv.slice(2))
const roundsArg = process.argv.find((s) => s.startsWith('--rounds='))
const ROUNDS = roundsArg === undefined ? 7 : Math.max(1, Number(roundsArg.slice('--rounds='.length)))
const SAMPLE_MS = 150
const WARMUP_MS = 300

const square = (s: number): Shape => ({ label: `${s}x${s}·${s}x${s}`, m: s, n: s, k: s, transA: false, transB: false })

const shapes: Shape[] = [
  square(256),
  square(512),
  square(1024),
  { label: 'fwd  64x784·784x128', m: 64, n: 128, k: 784, transA: false, transB: false },
  { label: 'fwd  64x128·128x64', m: 64, n: 64, k: 128, transA: false, transB: false },
  { label: 'fwd  64x64·64x10', m: 64, n: 10, k: 64, transA: false, transB: false },
  { label: 'dW1  (64x784)ᵀ·64x128', m: 784, n: 128, k: 64, transA: true, transB: false },
  { label: 'dx1  64x128·(784x128)ᵀ', m: 64, n: 784, k: 128, transA: false, transB: true },
  { label: 'dW2  (64x128)ᵀ·64x64', m: 128, n: 64, k: 64, transA: true, transB: false },
  { label: 'dx2  64x64·(128x64)ᵀ', m: 64, n: 128, k: 64, transA: false, transB: true },
  { label: 'dW3  (64x64)ᵀ·64x10', m: 64, n: 10, k: 64, transA: true, transB: false },
  { label: 'dx3  64x10·(64x10)ᵀ', m: 64, n: 64, k: 10, transA: false, transB: true },
]

const impls: Impl[] = []
if (!args.has('--no-reference')) impls.push({ name: 'reference', gemm: gemmReference })
impls.push({ name: 'blocked', gemm: gemmBlocked })
if (args.has('--tune')) {
  for (const [mc, kc, nc] of [
    [64, 256, 2048],
    [96, 256, 2048],
    [128, 128, 2048],
    [128, 384, 2048],
    [192, 256, 2048],
    [256, 256, 1024],
  ] as const) {
    impls.push({ name: `blocked ${mc}/${kc}/${nc}`, gemm: makeGemmBlocked({ mc, kc, nc }) })
  }
}

/** Deterministic fill in [-1, 1) (a 32-bit LCG; the benchmark needs no better). */
function randomArray(length: number, seed: number): Float64Array {
  const out = new Float64Array(length)
  let s = seed >>> 0
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = s / 2 ** 31 - 1
  }
  return out
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Runs `reps` calls and returns the elapsed milliseconds. */
function time(impl: Impl, shape: Shape, reps: number, ops: Operands): number {
  const { m, n, k } = shape
  const t0 = performance.now()
  for (let r = 0; r < reps; r++) impl.gemm(m, n, k, ops.a, ops.b, ops.c, 0, false)
  return performance.now() - t0
}

interface Operands {
  readonly a: ReturnType<typeof view>
  readonly b: ReturnType<typeof view>
  readonly c: Float64Array
}

function operands(shape: Shape): Operands {
  const { m, n, k, transA, transB } = shape
  const a = transA ? view(randomArray(k * m, 1), k, m, true) : view(randomArray(m * k, 1), m, k)
  const b = transB ? view(randomArray(n * k, 2), n, k, true) : view(randomArray(k * n, 2), k, n)
  return { a, b, c: new Float64Array(m * n) }
}

interface Row {
  readonly shape: string
  readonly impl: string
  readonly med: number
  readonly min: number
  readonly max: number
  readonly msPerCall: number
  readonly reps: number
  readonly rounds: number
}

function benchShape(shape: Shape): Row[] {
  const ops = operands(shape)
  const flops = 2 * shape.m * shape.n * shape.k
  // Warm up (lets TurboFan tier up) and calibrate reps so a sample takes ≥ SAMPLE_MS.
  const reps = impls.map((impl) => {
    let calls = 0
    const t0 = performance.now()
    do {
      impl.gemm(shape.m, shape.n, shape.k, ops.a, ops.b, ops.c, 0, false)
      calls++
    } while (performance.now() - t0 < WARMUP_MS && calls < 1_000_000)
    const perCall = (performance.now() - t0) / calls
    return Math.max(1, Math.ceil(SAMPLE_MS / perCall))
  })
  // Slow samples (the reference at 1024) get fewer rounds so the run stays short.
  const slowest = Math.max(...impls.map((impl, i) => time(impl, shape, 1, ops) * reps[i]!))
  const rounds = slowest > 1000 ? Math.min(ROUNDS, 3) : ROUNDS
  const gflops: number[][] = impls.map(() => [])
  for (let round = 0; round < rounds; round++) {
    // Interleave, and alternate who goes first, so drift hits every implementation alike.
    const order = round % 2 === 0 ? impls.map((_, i) => i) : impls.map((_, i) => impls.length - 1 - i)
    for (const i of order) {
      const ms = time(impls[i]!, shape, reps[i]!, ops)
      gflops[i]!.push((flops * reps[i]!) / (ms * 1e-3) / 1e9)
    }
  }
  return impls.map((impl, i) => {
    const g = gflops[i]!
    const med = median(g)
    return {
      shape: shape.label,
      impl: impl.name,
      med,
      min: Math.min(...g),
      max: Math.max(...g),
      msPerCall: flops / (med * 1e9) * 1e3,
      reps: reps[i]!,
      rounds,
    }
  })
}

function pad(s: string, w: number, right = false): string {
  return right ? s.padStart(w) : s.padEnd(w)
}

const header = ['shape', 'kernel', 'median', 'min', 'max', 'ms/call', 'vs ref']
const widths = [24, 22, 8, 8, 8, 9, 7]
console.log(`GEMM GFLOP/s, median (min/max) over interleaved rounds; Node ${process.version}`)
console.log(header.map((h, i) => pad(h, widths[i]!, i >= 2)).join('  '))
console.log(widths.map((w) => '-'.repeat(w)).join('  '))
for (const shape of shapes) {
  const rows = benchShape(shape)
  const ref = rows.find((r) => r.impl === 'reference')
  for (const r of rows) {
    const cells = [
      r.shape,
      r.impl,
      r.med.toFixed(2),
      r.min.toFixed(2),
      r.max.toFixed(2),
      r.msPerCall < 1 ? r.msPerCall.toFixed(3) : r.msPerCall.toFixed(1),
      ref === undefined ? '' : `${(r.med / ref.med).toFixed(1)}x`,
    ]
    console.log(cells.map((c, i) => pad(c, widths[i]!, i >= 2)).join('  '))
  }
}
console.log(`(${ROUNDS} rounds per shape, 3 where one sample exceeds 1 s; each sample ≥ ${SAMPLE_MS} ms)`)
