/**
 * GEMM benchmark: GFLOP/s of gemmReference, gemmBlocked (plain JS), gemmWasm (WebAssembly
 * SIMD, one thread) and gemmWasm2 (the same kernel on two threads: this one and a worker) on
 * square sizes and on the batch-64 MLP (784-128-64-10) products, forward and backward
 * (transposed operands); and beside them, in the same interleaved rounds, their float32 twins
 * (gemm32Reference, gemm32Blocked, gemm32Wasm and gemm32Wasm2, the f32x4 kernel).
 *
 *   npx tsx bench/gemm.ts                 # the table
 *   npx tsx bench/gemm.ts --rounds=9      # more rounds per shape (default 7)
 *   npx tsx bench/gemm.ts --tune          # also compare a few block sizes for both fast kernels
 *   npx tsx bench/gemm.ts --no-reference  # skip the (slow) reference kernel
 *   npx tsx bench/gemm.ts --only=512,fwd  # only shapes whose label contains one of these
 *   npx tsx bench/gemm.ts --no-threads    # skip the two-thread kernel
 *   npx tsx bench/gemm.ts --no-f32        # float64 only
 *
 * Method: every implementation is warmed up on a shape first, then calibrated so one sample
 * takes ≥ ~150 ms, then the implementations are timed in interleaved rounds (A, B, A, B, …) so
 * a noisy machine slows them alike. Printed: median, min and max GFLOP/s over the rounds.
 * FLOPs are counted as 2·m·n·k (one multiply and one add per term). The wasm figures include
 * copying the operands into WebAssembly memory and the result back out; the float32 "wasm
 * resident" rows run the product as training does (gemm32Resident: A and B already in the float32
 * arena, as a weight the optimizer step left there; only C copied out).
 *
 * After the table: the targets for the wasm kernel (512 on one thread ≥ 18 GFLOP/s,
 * on two ≥ 32; the batch-64 MLP products within 15% of the 512 figure), the two-thread speedup
 * per shape (a ratio within each round, so drift and a competing process largely cancel), the
 * float32 kernels' targets (512: ≥ 40 on one thread, ≥ 70 on two) and their speedup over
 * float64 per shape (a ratio within each round), and the whole MLP step's GEMM time. Products
 * in a two-thread sample run back to back, so the worker is hot (it spins between them); the
 * first call of a sample may find it asleep.
 */
import { loadavg } from 'node:os'
import { gemmBlocked, gemmReference, makeGemmBlocked, view, type Gemm, type MatView } from '../src/kernels/gemm.ts'
import { gemm32Blocked, gemm32Reference, view32, type Gemm32, type MatView32 } from '../src/kernels/gemm32.ts'
import { gemmWasm, makeGemmWasm, wasmSimdAvailable } from '../src/kernels/wasm/gemm.ts'
import { gemm32Resident, gemm32Wasm, gemm32Wasm2 } from '../src/kernels/wasm/gemm32.ts'
import { configureThreads, gemmWasm2, splitCount, startThreads, threadsUnavailable } from '../src/kernels/wasm/threads.ts'

interface Shape {
  readonly label: string
  readonly m: number
  readonly n: number
  readonly k: number
  /** A is stored k×m row-major and read through a transposed view. */
  readonly transA: boolean
  /** B is stored n×k row-major and read through a transposed view. */
  readonly transB: boolean
  /** One of the products of a batch-64 MLP 784-128-64-10 training step. */
  readonly mlp?: boolean
}

type Dtype = 'f64' | 'f32'

interface Impl {
  readonly name: string
  readonly dtype: Dtype
  /** One product of the shape on the operands of this dtype (C overwritten). */
  readonly run: (m: number, n: number, k: number, ops: Operands) => void
}

const f64 = (name: string, gemm: Gemm): Impl => ({ name, dtype: 'f64', run: (m, n, k, o) => gemm(m, n, k, o.a, o.b, o.c, 0, false) })
const f32 = (name: string, gemm: Gemm32): Impl => ({
  name,
  dtype: 'f32',
  run: (m, n, k, o) => gemm(m, n, k, o.a32, o.b32, o.c32, 0, false),
})

const args = new Set(process.argv.slice(2))
const roundsArg = process.argv.find((s) => s.startsWith('--rounds='))
const ROUNDS = roundsArg === undefined ? 7 : Math.max(1, Number(roundsArg.slice('--rounds='.length)))
const SAMPLE_MS = 150
const WARMUP_MS = 300

const square = (s: number): Shape => ({ label: `${s}x${s}·${s}x${s}`, m: s, n: s, k: s, transA: false, transB: false })

const mlp = (label: string, m: number, n: number, k: number, transA: boolean, transB: boolean): Shape => ({
  label,
  m,
  n,
  k,
  transA,
  transB,
  mlp: true,
})

const allShapes: Shape[] = [
  square(256),
  square(512),
  square(1024),
  mlp('fwd  64x784·784x128', 64, 128, 784, false, false),
  mlp('fwd  64x128·128x64', 64, 64, 128, false, false),
  mlp('fwd  64x64·64x10', 64, 10, 64, false, false),
  mlp('dW1  (64x784)ᵀ·64x128', 784, 128, 64, true, false),
  mlp('dx1  64x128·(784x128)ᵀ', 64, 784, 128, false, true),
  mlp('dW2  (64x128)ᵀ·64x64', 128, 64, 64, true, false),
  mlp('dx2  64x64·(128x64)ᵀ', 64, 128, 64, false, true),
  mlp('dW3  (64x64)ᵀ·64x10', 64, 10, 64, true, false),
  mlp('dx3  64x10·(64x10)ᵀ', 64, 64, 10, false, true),
]
const onlyArg = process.argv.find((s) => s.startsWith('--only='))
const only = onlyArg === undefined ? [] : onlyArg.slice('--only='.length).split(',')
const shapes = only.length === 0 ? allShapes : allShapes.filter((sh) => only.some((o) => sh.label.includes(o)))

const impls: Impl[] = []
const F32 = !args.has('--no-f32')
const THREADS = !args.has('--no-threads') && wasmSimdAvailable() && (await startThreads())
if (!THREADS && !args.has('--no-threads')) console.log(`two threads unavailable: ${threadsUnavailable() ?? 'no SIMD'}`)
if (!args.has('--no-reference')) impls.push(f64('reference', gemmReference))
impls.push(f64('blocked', gemmBlocked))
impls.push(f64(wasmSimdAvailable() ? 'wasm' : 'wasm (no SIMD: blocked)', gemmWasm))
if (THREADS) impls.push(f64('wasm 2T', gemmWasm2))
if (F32 && !args.has('--no-reference')) impls.push(f32('reference', gemm32Reference))
if (F32) impls.push(f32('blocked', gemm32Blocked))
if (F32) impls.push(f32(wasmSimdAvailable() ? 'wasm' : 'wasm (no SIMD: blocked)', gemm32Wasm))
if (F32 && THREADS) impls.push(f32('wasm 2T', gemm32Wasm2))
/**
 * The float32 kernel as training calls it (gemm32Resident): A and B already in the float32 arena,
 * as a weight the optimizer step left there is, so only C is copied out. The same bits as gemm32Wasm.
 */
const resident = (threads: 1 | 2): Impl => ({
  name: threads === 1 ? 'wasm resident' : 'wasm 2T resident',
  dtype: 'f32',
  run: (m, n, k, o) => {
    if (!gemm32Resident(m, n, k, o.a32, o.b32, o.c32, false, threads)) throw new Error('gemm32Resident declined the product')
  },
})
if (F32 && wasmSimdAvailable()) impls.push(resident(1))
// The arena's products split only while a reusing training step runs, unless float32Split says always.
if (F32 && THREADS) configureThreads({ float32Split: true })
if (F32 && THREADS) impls.push(resident(2))
/**
 * Not a GEMM: only the copies gemmWasm makes around its kernel (A and B into a WebAssembly
 * memory, the result out). Timed in the same rounds, it bounds what a kernel no faster than at
 * 512 could reach on a small product (see `copyBound`); it is left out of the table.
 */
const COPIES = 'copies only'
if (wasmSimdAvailable()) impls.push(f64(COPIES, copiesOnly()))
if (args.has('--tune')) {
  for (const [mc, kc, nc] of [
    [64, 256, 2048],
    [128, 128, 2048],
    [128, 384, 2048],
    [256, 256, 2048],
    [128, 256, 1024],
    [96, 512, 1024],
  ] as const) {
    impls.push(f64(`wasm ${mc}/${kc}/${nc}`, makeGemmWasm({ blocks: { mc, kc, nc } })))
  }
  for (const [mc, kc, nc] of [
    [64, 256, 2048],
    [96, 256, 2048],
    [128, 128, 2048],
    [128, 384, 2048],
    [192, 256, 2048],
    [256, 256, 1024],
  ] as const) {
    impls.push(f64(`blocked ${mc}/${kc}/${nc}`, makeGemmBlocked({ mc, kc, nc })))
  }
}

/**
 * The data movement of a wasm product with dense operands, and nothing else: A and B copied
 * into a private WebAssembly memory with one \`set\` each, C's m·n values copied back out.
 */
function copiesOnly(): Gemm {
  const memory = new WebAssembly.Memory({ initial: 1 })
  let heap = new Float64Array(memory.buffer)
  return (m, n, k, a, b, c) => {
    const need = (m * k + k * n + m * n) * 8
    if (need > heap.byteLength) {
      memory.grow(Math.ceil((need - heap.byteLength) / 65536))
      heap = new Float64Array(memory.buffer)
    }
    heap.set(a.data, 0)
    heap.set(b.data, m * k)
    c.set(heap.subarray(m * k + k * n, m * k + k * n + m * n))
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
  for (let r = 0; r < reps; r++) impl.run(m, n, k, ops)
  return performance.now() - t0
}

/** A shape's operands in both dtypes (the float32 ones are the float64 values rounded). */
interface Operands {
  readonly a: MatView
  readonly b: MatView
  readonly c: Float64Array
  readonly a32: MatView32
  readonly b32: MatView32
  readonly c32: Float32Array
}

function operands(shape: Shape): Operands {
  const { m, n, k, transA, transB } = shape
  const a = transA ? view(randomArray(k * m, 1), k, m, true) : view(randomArray(m * k, 1), m, k)
  const b = transB ? view(randomArray(n * k, 2), n, k, true) : view(randomArray(k * n, 2), k, n)
  const a32 = transA ? view32(Float32Array.from(a.data), k, m, true) : view32(Float32Array.from(a.data), m, k)
  const b32 = transB ? view32(Float32Array.from(b.data), n, k, true) : view32(Float32Array.from(b.data), k, n)
  return { a, b, c: new Float64Array(m * n), a32, b32, c32: new Float32Array(m * n) }
}

interface Row {
  readonly shape: string
  readonly dtype: Dtype
  readonly impl: string
  readonly med: number
  readonly min: number
  readonly max: number
  readonly msPerCall: number
  readonly reps: number
  readonly rounds: number
}

/** One (shape, kernel) pair: its operands, calls per sample, and the GFLOP/s of each round's sample. */
interface Cell {
  readonly shape: Shape
  readonly impl: Impl
  readonly ops: Operands
  readonly reps: number
  /** A sample takes over a second (the reference at 1024): it gets at most 3 rounds. */
  readonly slow: boolean
  /** GFLOP/s per round; NaN for the rounds a slow cell sits out. */
  readonly gflops: number[]
}

/**
 * Warms up and calibrates every (shape, kernel) pair, then runs the rounds: each round samples
 * every shape with every kernel, alternating the order, so drift on a noisy machine hits every
 * kernel and every shape alike and figures from the same round can be compared as ratios.
 */
function benchAll(): Cell[][] {
  const cells = shapes.map((shape) => {
    const ops = operands(shape)
    return impls.map((impl): Cell => {
      // Warm up (lets TurboFan tier up) and calibrate reps so a sample takes ≥ SAMPLE_MS.
      let calls = 0
      const t0 = performance.now()
      do {
        impl.run(shape.m, shape.n, shape.k, ops)
        calls++
      } while (performance.now() - t0 < WARMUP_MS && calls < 1_000_000)
      const perCall = (performance.now() - t0) / calls
      const reps = Math.max(1, Math.ceil(SAMPLE_MS / perCall))
      return { shape, impl, ops, reps, slow: perCall * reps > 1000, gflops: [] }
    })
  })
  for (let round = 0; round < ROUNDS; round++) {
    const flip = <T>(xs: readonly T[]): readonly T[] => (round % 2 === 0 ? xs : [...xs].reverse())
    for (const row of flip(cells)) {
      for (const cell of flip(row)) {
        if (cell.slow && round >= 3) {
          cell.gflops.push(NaN)
          continue
        }
        const { m, n, k } = cell.shape
        const ms = time(cell.impl, cell.shape, cell.reps, cell.ops)
        cell.gflops.push((2 * m * n * k * cell.reps) / (ms * 1e-3) / 1e9)
      }
    }
    process.stderr.write(`\rround ${round + 1}/${ROUNDS}`)
  }
  process.stderr.write('\n')
  return cells
}

function toRow(cell: Cell): Row {
  const g = cell.gflops.filter((x) => !Number.isNaN(x))
  const med = median(g)
  const { m, n, k } = cell.shape
  return {
    shape: cell.shape.label,
    dtype: cell.impl.dtype,
    impl: cell.impl.name,
    med,
    min: Math.min(...g),
    max: Math.max(...g),
    msPerCall: ((2 * m * n * k) / (med * 1e9)) * 1e3,
    reps: cell.reps,
    rounds: g.length,
  }
}

/** min, median and max of a list, formatted with `digits` decimals. */
function spread(xs: readonly number[], digits: number): string {
  return `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}..${Math.max(...xs).toFixed(digits)})`
}

function pad(s: string, w: number, right = false): string {
  return right ? s.padStart(w) : s.padEnd(w)
}

const header = ['shape', 'dtype', 'kernel', 'median', 'min', 'max', 'ms/call', 'vs js']
const widths = [24, 5, 24, 8, 8, 8, 9, 7]
/** The machine's load averages over 1, 5 and 15 minutes (other processes slow every figure alike). */
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')
const loadBefore = load()
const cells = benchAll()
console.log(`GEMM GFLOP/s, median (min/max) over interleaved rounds; Node ${process.version}`)
console.log(`load average (1, 5, 15 min): ${loadBefore} before, ${load()} after`)
console.log(header.map((h, i) => pad(h, widths[i]!, i >= 3)).join('  '))
console.log(widths.map((w) => '-'.repeat(w)).join('  '))
for (const row of cells) {
  const rows = row.map(toRow)
  for (const r of rows) {
    if (r.impl === COPIES) continue
    const js = rows.find((q) => q.impl === 'blocked' && q.dtype === r.dtype)
    const cells = [
      r.shape,
      r.dtype,
      r.impl,
      r.med.toFixed(2),
      r.min.toFixed(2),
      r.max.toFixed(2),
      r.msPerCall < 1 ? r.msPerCall.toFixed(3) : r.msPerCall.toFixed(1),
      js === undefined ? '' : `${(r.med / js.med).toFixed(1)}x`,
    ]
    console.log(cells.map((c, i) => pad(c, widths[i]!, i >= 3)).join('  '))
  }
}
console.log(`(${ROUNDS} rounds per shape, 3 where one sample exceeds 1 s; each sample ≥ ${SAMPLE_MS} ms)`)

// The targets for the wasm kernel, as ratios within each round (drift cancels), and
// what one MLP training step spends in GEMM, per round.
const column = (impl: string, dtype: Dtype = 'f64'): Cell[] =>
  cells.map((row) => row.find((c) => c.impl.name === impl && c.impl.dtype === dtype)).filter((c) => c !== undefined)
const wasmCells = column('wasm')
const sq512 = wasmCells.find((c) => c.shape.label === square(512).label)
console.log()
if (sq512 !== undefined) {
  const med = median(sq512.gflops)
  console.log(
    `wasm 512: ${spread(sq512.gflops, 1)} GFLOP/s, median (min..max); target ≥ 18 on one thread: ${med >= 18 ? 'met' : 'NOT met'}`,
  )
  console.log('wasm MLP products as a share of the 512 figure of the same round, median (min..max):')
  for (const c of wasmCells) {
    if (c.shape.mlp !== true) continue
    const ratios = c.gflops.map((g, r) => (100 * g) / sq512.gflops[r]!)
    const ok = median(ratios) >= 85
    console.log(`  ${pad(c.shape.label, 24)} ${spread(ratios, 0)}%${ok ? '' : '   more than 15% below'}`)
  }
  copyBound(sq512)
}
/**
 * The share of the 512 figure a product could reach if its kernel ran at the 512 rate and only
 * the copies were added: t / (t + copies), t = 2·m·n·k / (the 512 GFLOP/s of the same round).
 * The copies are what gemmWasm cannot avoid while tensors live outside WebAssembly memory.
 */
function copyBound(sq512: Cell): void {
  const copies = column(COPIES)
  if (copies.length === 0) return
  console.log('Bound from the copies alone: a kernel as fast as at 512, plus the copies, median (min..max):')
  for (const c of copies) {
    if (c.shape.mlp !== true) continue
    const { m, n, k } = c.shape
    const flops = 2 * m * n * k
    const copyUs = c.gflops.map((g) => (flops / g) * 1e-3)
    const bound = c.gflops.map((g, r) => {
      const arith = flops / sq512.gflops[r]!
      return (100 * arith) / (arith + flops / g)
    })
    console.log(`  ${pad(c.shape.label, 24)} copies ${spread(copyUs, 2)} µs   at most ${spread(bound, 0)}% of the 512 figure`)
  }
}

const wasm2Cells = column('wasm 2T')
const sq512two = wasm2Cells.find((c) => c.shape.label === square(512).label)
if (sq512two !== undefined) {
  const med = median(sq512two.gflops)
  console.log(
    `wasm 2T 512: ${spread(sq512two.gflops, 1)} GFLOP/s, median (min..max); target ≥ 32 on two threads: ${med >= 32 ? 'met' : 'NOT met'}`,
  )
  console.log('wasm 2T / wasm (one thread), same round, median (min..max):')
  for (const c of wasm2Cells) {
    const one = wasmCells.find((w) => w.shape.label === c.shape.label)
    if (one === undefined) continue
    const ratios = c.gflops.map((g, r) => g / one.gflops[r]!)
    console.log(`  ${pad(c.shape.label, 24)} ${spread(ratios, 2)}x`)
  }
  console.log('wasm 2T MLP products as a share of its 512 figure of the same round, median (min..max):')
  for (const c of wasm2Cells) {
    if (c.shape.mlp !== true) continue
    const ratios = c.gflops.map((g, r) => (100 * g) / sq512two.gflops[r]!)
    console.log(`  ${pad(c.shape.label, 24)} ${spread(ratios, 0)}%`)
  }
  console.log(`(${splitCount()} products split between the two threads in this run)`)
}
if (F32) float32Summary()

/** The float32 kernels' targets at 512 and their speedup over the float64 kernel of the same family, round by round. */
function float32Summary(): void {
  console.log()
  for (const [name, target] of [
    ['wasm', 40],
    ['wasm 2T', 70],
    ['wasm resident', 40],
    ['wasm 2T resident', 70],
  ] as const) {
    const c = column(name, 'f32').find((x) => x.shape.label === square(512).label)
    if (c === undefined) continue
    const med = median(c.gflops)
    console.log(
      `f32 ${name} 512: ${spread(c.gflops, 1)} GFLOP/s, median (min..max); target ≥ ${target}: ${med >= target ? 'met' : 'NOT met'}`,
    )
  }
  for (const name of ['blocked', 'wasm', 'wasm 2T']) {
    const both = column(name, 'f32')
      .map((c32) => [c32, column(name).find((c64) => c64.shape.label === c32.shape.label)] as const)
      .filter(([, c64]) => c64 !== undefined)
    if (both.length === 0) continue
    console.log(`f32 / f64, ${name}, same round, median (min..max):`)
    for (const [c32, c64] of both) {
      const ratios = c32.gflops.map((g, r) => g / c64!.gflops[r]!).filter((x) => !Number.isNaN(x))
      console.log(`  ${pad(c32.shape.label, 24)} ${spread(ratios, 2)}x`)
    }
  }
}
for (const impl of impls) {
  const mlpCells = column(impl.name, impl.dtype).filter((c) => c.shape.mlp === true)
  if (mlpCells.length !== 9 || impl.name === COPIES) continue
  const flops = mlpCells.reduce((t, c) => t + 2 * c.shape.m * c.shape.n * c.shape.k, 0)
  const stepMs = Array.from({ length: ROUNDS }, (_, r) =>
    mlpCells.reduce((t, c) => t + (2 * c.shape.m * c.shape.n * c.shape.k) / (c.gflops[r]! * 1e6), 0),
  ).filter((x) => !Number.isNaN(x))
  if (stepMs.length === 0) continue
  const who = `${impl.dtype} ${impl.name}`
  console.log(`MLP step GEMMs (9 products, ${(flops / 1e6).toFixed(1)} MFLOP), ${pad(who, 14)}: ${spread(stepMs, 2)} ms per step`)
}
console.log("(A training step runs 8 of the 9: the first layer's input is data, so its dx1 product is skipped.)")
