/**
 * The fused optimizer steps in WebAssembly (asm/optim.ts), on this thread: the SGD, Adam,
 * RMSprop and Adagrad loops of ../optim/ in f64x2 SIMD. Those loops are memory-bound in
 * principle, yet a TypeScript loop over Float64Arrays passed as arguments pays for V8's checks
 * on every access; the same loop here, plus copying its operands in and out, takes less time
 * for a layer's weights. The operations and their order are the TypeScript loop's, so the
 * results are the same numbers (test/kernels/optim-wasm.test.ts): equal under Object.is, NaN
 * where the loop gives NaN. (A NaN's sign bit may differ when NaNs of both signs meet:
 * WebAssembly does not fix which one an operation passes on.)
 *
 * They never use the worker: the loop is a small part of a training step, and copying into
 * the shared memory is slower than copying into this thread's own.
 *
 * Like ./elementwise.ts, these return false, having written nothing, when the job does not fit
 * in the memory; the caller then runs the TypeScript loop.
 */
import { align, reserve } from './gemm.ts'
import { Op, runnersFor } from './parts.ts'

/** Bytes of the job block at address 0: 12 i32 fields, then 10 f64 fields from byte 64. */
const JOB_BYTES = 192
/** Elements per part (even): about 0.25 MB of each operand. */
const CHUNK = 32768
/** Below this many elements the TypeScript loop is as fast as the copies. */
export const MIN_OPTIM_ELEMENTS = 4096

// asm/optim.ts's flags.
const APPLY = 1
const DECAY = 2
const TRACE = 4
const NESTEROV = 8 // SGD's Nesterov step; Adam: NAdam's look-ahead
const AMSGRAD = 16
const ADAMAX = 32

/** One SGD step's settings: the rate of this step, λ (0: none), β (0: no trace), Nesterov, and whether to write p + u. */
export interface SgdStepSettings {
  readonly rate: number
  readonly lambda: number
  readonly beta: number
  readonly nesterov: boolean
  readonly apply: boolean
}

/**
 * One Adam step's settings: the rate of this step, β₁, β₂, ε, the bias corrections c1, c2,
 * AdamW's λ (undefined for Adam), and whether to write p + u.
 */
export interface AdamStepSettings {
  readonly rate: number
  readonly b1: number
  readonly b2: number
  readonly eps: number
  readonly c1: number
  readonly c2: number
  readonly lambda: number | undefined
  readonly apply: boolean
  /** Next step's correction 1-β₁ᵗ⁺¹, for NAdam's look-ahead. */
  readonly c1Next: number
  /** Which member of Adam's family (../optim/adam.ts); AdamW is 'adam' with a λ. */
  readonly variant: 'adam' | 'nadam' | 'amsgrad' | 'adamax'
}

/** The operands of one step: inputs g, p, a, b, c and outputs out, a2, b2, c2; `undefined` where the step has none. */
interface Operands {
  readonly g: Float64Array
  readonly p: Float64Array
  readonly a: Float64Array | undefined
  readonly b: Float64Array | undefined
  readonly c?: Float64Array | undefined
  readonly out: Float64Array
  readonly a2: Float64Array | undefined
  readonly b2: Float64Array | undefined
  readonly c2?: Float64Array | undefined
}

/** f64 fields of the job block (asm/optim.ts's F_RATE .. F_C1NEXT). */
const F64_FIELDS = 10

/** Places the operands, writes the job block, runs every part; false (nothing written) if no runner can hold the job. */
function runStep(op: number, flags: number, f64s: readonly number[], o: Operands, maxBytes: number): boolean {
  const n = o.g.length
  const stride = align(n) * 8 // each operand padded to a multiple of 8 elements (so to even: no scalar tail)
  // In the order of the job block's address fields (asm/optim.ts's O_G .. O_C2).
  const arrays = [o.g, o.p, o.a, o.b, o.out, o.a2, o.b2, o.c, o.c2]
  const inputs = [0, 1, 2, 3, 7]
  const outputs = [4, 5, 6, 8]
  // Only the operands the step has take room (plain SGD: g, p and out); the others' addresses
  // are 0, and the flags keep the kernel from touching them.
  let end = JOB_BYTES
  const at = arrays.map((x) => {
    if (x === undefined) return 0
    end += stride
    return end - stride
  })
  const even = n + (n & 1)
  const parts = Math.max(1, Math.ceil(even / CHUNK))
  const runner = runnersFor(1, parts, 0).find((r) => reserve(r.memory, end, Math.min(maxBytes, r.maxBytes)))
  if (runner === undefined) return false
  new Int32Array(runner.memory.buffer, 0, 3 + arrays.length).set([even, CHUNK, flags, ...at])
  const fields = new Float64Array(runner.memory.buffer, 64, F64_FIELDS)
  fields.fill(0) // the fields a step has no use for are still read: keep them defined
  fields.set(f64s)
  const heap = new Float64Array(runner.memory.buffer)
  for (const k of inputs) {
    const x = arrays[k]
    if (x !== undefined) heap.set(x, at[k]! / 8)
  }
  runner.run(op, 0, parts, 0, 0, n)
  for (const k of outputs) {
    const x = arrays[k]
    if (x !== undefined) x.set(heap.subarray(at[k]! / 8, at[k]! / 8 + n))
  }
  return true
}

/**
 * One SGD step over a leaf in WebAssembly: out = u (or p + u with `apply`), tOut = the new trace
 * (with momentum). The loop of ../optim/sgd.ts; false, having written nothing, if it
 * needs more than `maxBytes` of memory.
 */
export function sgdStepWasm(
  g: Float64Array,
  p: Float64Array,
  tPrev: Float64Array | undefined,
  out: Float64Array,
  tOut: Float64Array | undefined,
  s: SgdStepSettings,
  maxBytes = Infinity,
): boolean {
  if ((tPrev === undefined) !== (tOut === undefined)) {
    throw new Error('sgdStepWasm: give both the trace and the array for the new trace, or neither')
  }
  const flags = (s.apply ? APPLY : 0) | (s.lambda > 0 ? DECAY : 0) | (tPrev !== undefined ? TRACE : 0) | (s.nesterov ? NESTEROV : 0)
  const operands = { g, p, a: tPrev, b: undefined, out, a2: tOut, b2: undefined }
  return runStep(Op.sgdStep, flags, [s.rate, s.lambda, s.beta, 0, 0, 0, 0, 0, 0], operands, maxBytes)
}

/**
 * One step of Adam (or AdamW, NAdam, AMSGrad, Adamax) over a leaf in WebAssembly: out = u (or
 * p + u with `apply`), and the new moments: μ, then ν (Adamax: ν∞), then AMSGrad's ν_max (give
 * `nuMax` and `nuMaxOut` for AMSGrad only). The loops of ../optim/adam.ts; false, having
 * written nothing, if it needs more than `maxBytes` of memory.
 */
export function adamStepWasm(
  g: Float64Array,
  p: Float64Array,
  mu: Float64Array,
  nu: Float64Array,
  nuMax: Float64Array | undefined,
  out: Float64Array,
  muOut: Float64Array,
  nuOut: Float64Array,
  nuMaxOut: Float64Array | undefined,
  s: AdamStepSettings,
  maxBytes = Infinity,
): boolean {
  if ((s.variant === 'amsgrad') !== (nuMax !== undefined && nuMaxOut !== undefined)) {
    throw new Error('adamStepWasm: give nuMax and nuMaxOut for AMSGrad, and only for AMSGrad')
  }
  const variant = s.variant === 'nadam' ? NESTEROV : s.variant === 'amsgrad' ? AMSGRAD : s.variant === 'adamax' ? ADAMAX : 0
  const flags = (s.apply ? APPLY : 0) | (s.lambda !== undefined ? DECAY : 0) | variant
  const f64s = [s.rate, s.lambda ?? 0, s.b1, s.b2, 1 - s.b1, 1 - s.b2, s.c1, s.c2, s.eps, s.c1Next]
  return runStep(Op.adamStep, flags, f64s, { g, p, a: mu, b: nu, c: nuMax, out, a2: muOut, b2: nuOut, c2: nuMaxOut }, maxBytes)
}

/**
 * One RMSprop or Adagrad step's settings: the rate of this step, ρ (undefined: Adagrad's plain
 * sum), ε, the momentum β (0: no trace), and whether to write p + u.
 */
export interface RmsStepSettings {
  readonly rate: number
  readonly decay: number | undefined
  readonly eps: number
  readonly beta: number
  readonly apply: boolean
}

/**
 * One RMSprop step (or, with decay undefined, one Adagrad step) over a leaf in WebAssembly:
 * out = u (or p + u with `apply`), accOut = the new ν (or Σ), tOut = the new trace (with
 * momentum). The loop of ../optim/rms.ts; false, having written nothing, if it needs
 * more than `maxBytes` of memory.
 */
export function rmsStepWasm(
  g: Float64Array,
  p: Float64Array,
  acc: Float64Array,
  tPrev: Float64Array | undefined,
  out: Float64Array,
  accOut: Float64Array,
  tOut: Float64Array | undefined,
  s: RmsStepSettings,
  maxBytes = Infinity,
): boolean {
  if ((tPrev === undefined) !== (tOut === undefined)) {
    throw new Error('rmsStepWasm: give both the trace and the array for the new trace, or neither')
  }
  const flags = (s.apply ? APPLY : 0) | (tPrev !== undefined ? TRACE : 0)
  const rho = s.decay ?? 0
  const f64s = [s.rate, 0, s.beta, rho, 0, 1 - rho, 0, 0, s.eps]
  const operands = { g, p, a: tPrev, b: acc, out, a2: tOut, b2: accOut }
  return runStep(s.decay === undefined ? Op.adagradStep : Op.rmspropStep, flags, f64s, operands, maxBytes)
}
