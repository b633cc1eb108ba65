/**
 * chainrule's float32 Adam step in WebAssembly, four lanes at a time: the loops of
 * src/kernels/adam32.ts (Adam, AdamW) and src/kernels/adam-variants32.ts (NAdam, AMSGrad, Adamax),
 * each lane doing the same float32 operations in the same order (f32x4 add, mul, div and sqrt
 * round as Math.fround of the float64 result does on float32 inputs; max, like Math.max, gives NaN
 * if either is NaN and +0 for max(−0, +0)), so the results are the same bits:
 *
 *   μ = β₁μ' + (1−β₁)g,  ν = β₂ν' + (1−β₂)(g·g),  d = (μ/c1) / (√(ν/c2) + ε)
 *            NAdam:   μ/c1 replaced by β₁·(μ/c1Next) + (1−β₁)·(g/c1)
 *            AMSGrad: ν_max = max(ν_max', ν), and √(ν_max/c2) in place of √(ν/c2)
 *            Adamax:  ν∞ = max(β₂ν∞', |g| + ε) in place of ν, and d = (μ/c1) / ν∞
 *   then d (+ λp, AdamW),  u = (−lr)·d,  out = u, or p + u
 *
 * One call runs one part: elements [part·chunk, min(n', (part + 1)·chunk)), n' = n rounded up to a
 * multiple of 4; the caller pads every array so, and the padding lanes compute values nobody copies out.
 *
 * Each part also writes, at finite + 16·part, the four lane sums of g·0 and out·0 over its elements
 * below n: zeros when those hold only finite values (v·0 is ±0 for finite v, NaN for NaN and ±∞).
 */

// The job block: asm/step32.ts's fields, then this step's own (src/kernels/wasm/step32.ts writes them).
import { field, FLAG_APPLY, scalar, S_CHUNK, S_FINITE, S_FLAGS, S_G, S_N, S_OUT, S_P } from './step32'
const S_MU_PREV = 6 // μ', ν' (Adamax: ν∞') and AMSGrad's ν_max', in,
const S_NU_PREV = 7
const S_MAX_PREV = 8
const S_MU = 10 //    the new μ, ν and ν_max
const S_NU = 11
const S_MAX = 12
const F_MINUS_RATE = 0 // −lr, λ, β₁, β₂, 1 − β₁, 1 − β₂, c1, c2, ε and c1Next, as float32
const F_LAMBDA = 1
const F_B1 = 2
const F_B2 = 3
const F_A1 = 4
const F_A2 = 5
const F_C1 = 6
const F_C2 = 7
const F_EPS = 8
const F_C1_NEXT = 9

const FLAG_DECAY = 2 //   AdamW: add λp to the direction
const FLAG_NADAM = 4 //   NAdam's look-ahead
const FLAG_AMSGRAD = 8 // AMSGrad's running maximum of ν
const FLAG_ADAMAX = 16 // Adamax's ν∞

/** Part `part` of the float32 Adam step of the job at `job`. */
export function adam32Part(job: usize, part: i32): void {
  const n = field(job, S_N)
  const n4 = (n + 3) & ~3
  const chunk = field(job, S_CHUNK)
  const flags = field(job, S_FLAGS)
  const finite = <usize>field(job, S_FINITE)
  const g = <usize>field(job, S_G), p = <usize>field(job, S_P)
  const muPrev = <usize>field(job, S_MU_PREV), nuPrev = <usize>field(job, S_NU_PREV), maxPrev = <usize>field(job, S_MAX_PREV)
  const out = <usize>field(job, S_OUT), mu = <usize>field(job, S_MU), nu = <usize>field(job, S_NU), nuMax = <usize>field(job, S_MAX)
  const minusRate = scalar(job, F_MINUS_RATE), lambda = scalar(job, F_LAMBDA)
  const b1 = scalar(job, F_B1), b2 = scalar(job, F_B2), a1 = scalar(job, F_A1), a2 = scalar(job, F_A2)
  const c1 = scalar(job, F_C1), c2 = scalar(job, F_C2), eps = scalar(job, F_EPS), c1Next = scalar(job, F_C1_NEXT)
  const apply = (flags & FLAG_APPLY) != 0, decay = (flags & FLAG_DECAY) != 0
  const nadam = (flags & FLAG_NADAM) != 0, amsgrad = (flags & FLAG_AMSGRAD) != 0, adamax = (flags & FLAG_ADAMAX) != 0
  const zero = f32x4.splat(0)
  const lanes = i32x4(0, 1, 2, 3)
  const nv = i32x4.splat(n)
  let sums = zero
  const i1 = min(n4, (part + 1) * chunk)
  for (let i = part * chunk; i < i1; i += 4) {
    const o = <usize>i << 2
    const gi = v128.load(g + o)
    const pi = v128.load(p + o)
    const m = f32x4.add(f32x4.mul(b1, v128.load(muPrev + o)), f32x4.mul(a1, gi))
    v128.store(mu + o, m)
    let d: v128
    if (adamax) {
      const vInf = f32x4.max(f32x4.mul(b2, v128.load(nuPrev + o)), f32x4.add(f32x4.abs(gi), eps))
      v128.store(nu + o, vInf)
      d = f32x4.div(f32x4.div(m, c1), vInf)
    } else {
      let v = f32x4.add(f32x4.mul(b2, v128.load(nuPrev + o)), f32x4.mul(a2, f32x4.mul(gi, gi)))
      v128.store(nu + o, v)
      if (amsgrad) {
        v = f32x4.max(v128.load(maxPrev + o), v)
        v128.store(nuMax + o, v)
      }
      const mHat = nadam ? f32x4.add(f32x4.mul(b1, f32x4.div(m, c1Next)), f32x4.mul(a1, f32x4.div(gi, c1))) : f32x4.div(m, c1)
      d = f32x4.div(mHat, f32x4.add(f32x4.sqrt(f32x4.div(v, c2)), eps))
    }
    if (decay) d = f32x4.add(d, f32x4.mul(lambda, pi))
    const u = f32x4.mul(minusRate, d)
    const o1 = apply ? f32x4.add(pi, u) : u
    v128.store(out + o, o1)
    const below = i32x4.lt_s(i32x4.add(i32x4.splat(i), lanes), nv) // the lanes below n
    sums = f32x4.add(sums, v128.and(f32x4.add(f32x4.mul(gi, zero), f32x4.mul(o1, zero)), below))
  }
  v128.store(finite + (<usize>part << 4), sums)
}
