/**
 * chainrule's optimizer steps in WebAssembly: the one-pass SGD, Adam (and AdamW, NAdam, AMSGrad,
 * Adamax), RMSprop and Adagrad loops
 * of src/kernels/optim/sgd.ts, adam.ts and rms.ts, two lanes at a time
 * (src/kernels/wasm/optim.ts runs them). Each lane does the same floating-point operations, in
 * the same order, as the TypeScript loop does for one element. f64 add, multiply, divide and
 * square root are correctly rounded in WebAssembly as in JavaScript, so the results are the
 * same numbers (test/kernels/optim-wasm.test.ts); only a NaN's sign bit may differ, where NaNs of both
 * signs meet.
 *
 *   SGD      d = g (+ λp),  t = d + βt',  u = -lr·(t, or d + βt with Nesterov; d without momentum)
 *   Adam     μ = β₁μ' + (1-β₁)g,  ν = β₂ν' + (1-β₂)g²,  d = μ/c1 / (√(ν/c2) + ε) (+ λp, AdamW),  u = -lr·d
 *            NAdam:   μ/c1 replaced by β₁·(μ/c1') + (1-β₁)·(g/c1), c1' = 1-β₁ᵗ⁺¹
 *            AMSGrad: ν_max = max(ν_max', ν), and √(ν_max/c2) in place of √(ν/c2)
 *            Adamax:  ν∞ = max(β₂ν∞', |g| + ε) in place of ν, and d = μ/c1 / ν∞
 *   RMSprop  ν = ρν' + (1-ρ)g²,  d = g / (√ν + ε),  then (with momentum) t = d + βt', d = t;  u = -lr·d
 *   Adagrad  Σ = Σ' + g²,  d = g / (√Σ + ε),  u = -lr·d
 *   all      out = u, or p + u (the new params) when the step applies its updates
 *
 * One call runs one part: elements [part·chunk, min(n', (part + 1)·chunk)), where n' is n rounded
 * up to even. The caller pads every array to even length, so there is no scalar tail; the
 * padding lanes compute values nobody copies out.
 */

// The job block: i32 fields, then f64 fields from byte 64 (src/kernels/wasm/optim.ts writes the same layout).
const O_N = 0 //      elements, rounded up to even
const O_CHUNK = 1 //  elements per part (even)
const O_FLAGS = 2 //  the FLAG_* bits
const O_G = 3 //      byte addresses: the gradient g,
const O_P = 4 //      the params p,
const O_A = 5 //      the trace t' (SGD, RMSprop) or μ' (Adam), in,
const O_B = 6 //      ν' (Adam, RMSprop) or Σ' (Adagrad), in,
const O_OUT = 7 //    u, or p + u,
const O_A2 = 8 //     the new t or μ,
const O_B2 = 9 //     the new ν or Σ
const O_C = 10 //     AMSGrad's ν_max', in,
const O_C2 = 11 //    and the new ν_max
const F_RATE = 0 //   lr (the step's; the loop multiplies by -lr)
const F_LAMBDA = 1 // λ: SGD's L2 penalty, AdamW's decoupled decay
const F_B1 = 2 //     SGD's and RMSprop's momentum β; Adam's β₁
const F_B2 = 3 //     Adam's β₂; RMSprop's ρ
const F_A1 = 4 //     1 - β₁
const F_A2 = 5 //     1 - β₂; 1 - ρ
const F_C1 = 6 //     1 - β₁ᵗ
const F_C2 = 7 //     1 - β₂ᵗ
const F_EPS = 8 //    ε
const F_C1NEXT = 9 // 1 - β₁ᵗ⁺¹ (NAdam)

const FLAG_APPLY = 1 //    write p + u, not u
const FLAG_DECAY = 2 //    add λp (SGD: to g, first; AdamW: to Adam's direction)
const FLAG_TRACE = 4 //    SGD or RMSprop with momentum (a trace in and out)
const FLAG_NESTEROV = 8 // SGD: step along d + βt; Adam: NAdam's look-ahead
const FLAG_AMSGRAD = 16 // Adam: AMSGrad's running maximum of ν
const FLAG_ADAMAX = 32 //  Adam: Adamax's ν∞

// The steps (asm/index.ts's ops SGD_STEP .. ADAGRAD_STEP, in this order).
export const SGD = 0
export const ADAM = 1
export const RMSPROP = 2
export const ADAGRAD = 3

@inline function field(job: usize, i: i32): i32 {
  return load<i32>(job + (<usize>i << 2))
}

@inline function splatF(job: usize, i: i32): v128 {
  return v128.load64_splat(job + 64 + (<usize>i << 3))
}

/** Part `part` of the step `step` (SGD, ADAM, RMSPROP or ADAGRAD) of the job at `job`. */
export function optimPart(job: usize, part: i32, step: i32): void {
  const n = field(job, O_N)
  const chunk = field(job, O_CHUNK)
  const flags = field(job, O_FLAGS)
  const g = <usize>field(job, O_G), p = <usize>field(job, O_P)
  const a = <usize>field(job, O_A), b = <usize>field(job, O_B)
  const out = <usize>field(job, O_OUT), a2 = <usize>field(job, O_A2), b2 = <usize>field(job, O_B2)
  const nuMax = <usize>field(job, O_C), nuMaxOut = <usize>field(job, O_C2)
  const negRate = f64x2.neg(splatF(job, F_RATE))
  const lambda = splatF(job, F_LAMBDA), b1 = splatF(job, F_B1), b2v = splatF(job, F_B2)
  const a1 = splatF(job, F_A1), a2v = splatF(job, F_A2), c1 = splatF(job, F_C1), c2 = splatF(job, F_C2), eps = splatF(job, F_EPS)
  const c1Next = splatF(job, F_C1NEXT)
  const apply = (flags & FLAG_APPLY) != 0, decay = (flags & FLAG_DECAY) != 0
  const trace = (flags & FLAG_TRACE) != 0, nesterov = (flags & FLAG_NESTEROV) != 0
  const amsgrad = (flags & FLAG_AMSGRAD) != 0, adamax = (flags & FLAG_ADAMAX) != 0
  const i1 = min(n, (part + 1) * chunk)
  for (let i = part * chunk; i < i1; i += 2) {
    const o = <usize>i << 3
    const gi = v128.load(g + o)
    const pi = v128.load(p + o)
    let d: v128
    if (step == ADAM) {
      const m = f64x2.add(f64x2.mul(b1, v128.load(a + o)), f64x2.mul(a1, gi))
      v128.store(a2 + o, m)
      if (adamax) {
        // f64x2.max, like Math.max, gives NaN if either is NaN and +0 for max(-0, +0)
        const vInf = f64x2.max(f64x2.mul(b2v, v128.load(b + o)), f64x2.add(f64x2.abs(gi), eps))
        v128.store(b2 + o, vInf)
        d = f64x2.div(f64x2.div(m, c1), vInf)
      } else {
        const v = f64x2.add(f64x2.mul(b2v, v128.load(b + o)), f64x2.mul(a2v, f64x2.mul(gi, gi)))
        v128.store(b2 + o, v)
        if (amsgrad) {
          const w = f64x2.max(v128.load(nuMax + o), v)
          v128.store(nuMaxOut + o, w)
          d = f64x2.div(f64x2.div(m, c1), f64x2.add(f64x2.sqrt(f64x2.div(w, c2)), eps))
        } else {
          const mHat = nesterov ? f64x2.add(f64x2.mul(b1, f64x2.div(m, c1Next)), f64x2.mul(a1, f64x2.div(gi, c1))) : f64x2.div(m, c1)
          d = f64x2.div(mHat, f64x2.add(f64x2.sqrt(f64x2.div(v, c2)), eps))
        }
      }
      if (decay) d = f64x2.add(d, f64x2.mul(lambda, pi))
    } else if (step == SGD) {
      d = decay ? f64x2.add(gi, f64x2.mul(lambda, pi)) : gi
      if (trace) {
        const t = f64x2.add(d, f64x2.mul(b1, v128.load(a + o)))
        v128.store(a2 + o, t)
        d = nesterov ? f64x2.add(d, f64x2.mul(b1, t)) : t
      }
    } else {
      const g2 = f64x2.mul(gi, gi)
      const prev = v128.load(b + o)
      const v = step == ADAGRAD ? f64x2.add(prev, g2) : f64x2.add(f64x2.mul(b2v, prev), f64x2.mul(a2v, g2))
      v128.store(b2 + o, v)
      d = f64x2.div(gi, f64x2.add(f64x2.sqrt(v), eps))
      if (trace) {
        const t = f64x2.add(d, f64x2.mul(b1, v128.load(a + o)))
        v128.store(a2 + o, t)
        d = t
      }
    }
    const u = f64x2.mul(negRate, d)
    v128.store(out + o, apply ? f64x2.add(pi, u) : u)
  }
}
