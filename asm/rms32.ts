/**
 * chainrule's float32 RMSprop and Adagrad step in WebAssembly, four lanes at a time: the loop of
 * src/kernels/rms32.ts (rmsStep32), each lane doing the same float32 operations in the same order
 * (f32x4 add, mul, div and sqrt round as Math.fround of the float64 result does on float32 inputs),
 * so the results are the same bits:
 *
 *   ν = ρν' + (1−ρ)(g·g)   (Adagrad: Σ = Σ' + g·g),   d = g / (√ν + ε),
 *   with momentum t = d + βt' and d = t,   u = (−lr)·d,   out = u, or p + u
 *
 * Parts, padding and the finiteness sums as asm/adam32.ts's.
 */

// The job block: asm/step32.ts's fields, then this step's own (src/kernels/wasm/step32.ts writes them).
import { field, FLAG_APPLY, scalar, S_CHUNK, S_FINITE, S_FLAGS, S_G, S_N, S_OUT, S_P } from './step32'
const S_ACC_PREV = 6 // ν' (Adagrad: Σ') and the trace t', in,
const S_TRACE_PREV = 7
const S_ACC = 10 //   the new ν (Σ) and t
const S_TRACE = 11
const F_MINUS_RATE = 0 // −lr, ρ, 1 − ρ, ε and β, as float32
const F_RHO = 1
const F_A = 2
const F_EPS = 3
const F_BETA = 4

const FLAG_ADAGRAD = 2 // Σ' + g·g in place of ρν' + (1−ρ)(g·g)
const FLAG_TRACE = 4 //   momentum: a trace in and out

/** Part `part` of the float32 RMSprop or Adagrad step of the job at `job`. */
export function rms32Part(job: usize, part: i32): void {
  const n = field(job, S_N)
  const n4 = (n + 3) & ~3
  const chunk = field(job, S_CHUNK)
  const flags = field(job, S_FLAGS)
  const finite = <usize>field(job, S_FINITE)
  const g = <usize>field(job, S_G), p = <usize>field(job, S_P)
  const accPrev = <usize>field(job, S_ACC_PREV), tracePrev = <usize>field(job, S_TRACE_PREV)
  const out = <usize>field(job, S_OUT), acc = <usize>field(job, S_ACC), trace = <usize>field(job, S_TRACE)
  const minusRate = scalar(job, F_MINUS_RATE), rho = scalar(job, F_RHO), a = scalar(job, F_A)
  const eps = scalar(job, F_EPS), beta = scalar(job, F_BETA)
  const apply = (flags & FLAG_APPLY) != 0, adagrad = (flags & FLAG_ADAGRAD) != 0, momentum = (flags & FLAG_TRACE) != 0
  const zero = f32x4.splat(0)
  const lanes = i32x4(0, 1, 2, 3)
  const nv = i32x4.splat(n)
  let sums = zero
  const i1 = min(n4, (part + 1) * chunk)
  for (let i = part * chunk; i < i1; i += 4) {
    const o = <usize>i << 2
    const gi = v128.load(g + o)
    const g2 = f32x4.mul(gi, gi)
    const prev = v128.load(accPrev + o)
    const v = adagrad ? f32x4.add(prev, g2) : f32x4.add(f32x4.mul(rho, prev), f32x4.mul(a, g2))
    v128.store(acc + o, v)
    let d = f32x4.div(gi, f32x4.add(f32x4.sqrt(v), eps))
    if (momentum) {
      d = f32x4.add(d, f32x4.mul(beta, v128.load(tracePrev + o)))
      v128.store(trace + o, d)
    }
    const u = f32x4.mul(minusRate, d)
    const o1 = apply ? f32x4.add(v128.load(p + o), u) : u
    v128.store(out + o, o1)
    const below = i32x4.lt_s(i32x4.add(i32x4.splat(i), lanes), nv) // the lanes below n
    sums = f32x4.add(sums, v128.and(f32x4.add(f32x4.mul(gi, zero), f32x4.mul(o1, zero)), below))
  }
  v128.store(finite + (<usize>part << 4), sums)
}
