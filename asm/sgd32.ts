/**
 * chainrule's float32 SGD step in WebAssembly, four lanes at a time: the loop of
 * src/kernels/sgd32.ts (sgdStep32), each lane doing the same float32 operations in the same
 * order (f32x4.mul and f32x4.add round as Math.fround of the float64 result does on float32
 * inputs), so the results are the same bits:
 *
 *   d = g (+ λp),  t = d + βt',  u = (−lr)·(t, or d + βt with Nesterov; d without momentum),  out = u, or p + u
 *
 * One call runs one part: elements [part·chunk, min(n', (part + 1)·chunk)), n' = n rounded up to
 * a multiple of 4. The caller pads every array to a multiple of 4; the padding lanes compute
 * values nobody copies out, and stay zero (zeros in, as the caller pads, give zeros out).
 *
 * Each part also writes, at finite + 16·part, the four lane sums of g·0 and out·0: zeros when its
 * g and out hold only finite values (v·0 is ±0 for finite v, NaN for NaN and ±∞, and a NaN stays).
 */

// The job block: asm/step32.ts's fields, then this step's own (src/kernels/wasm/step32.ts writes them).
import { field, FLAG_APPLY, scalar, S_CHUNK, S_FINITE, S_FLAGS, S_G, S_N, S_OUT, S_P } from './step32'
const S_TPREV = 6 //  the trace t', in,
const S_T = 10 //     the new trace t
const F_MINUS_RATE = 0 // −lr, λ and β, as float32
const F_LAMBDA = 1
const F_BETA = 2

const FLAG_DECAY = 2 //    add λp to g first
const FLAG_TRACE = 4 //    momentum: a trace in and out
const FLAG_NESTEROV = 8 // step along d + βt

/** Part `part` of the float32 SGD step of the job at `job`. */
export function sgd32Part(job: usize, part: i32): void {
  const n = field(job, S_N)
  const n4 = (n + 3) & ~3
  const chunk = field(job, S_CHUNK)
  const flags = field(job, S_FLAGS)
  const g = <usize>field(job, S_G), p = <usize>field(job, S_P), tPrev = <usize>field(job, S_TPREV)
  const out = <usize>field(job, S_OUT), tNew = <usize>field(job, S_T)
  const minusRate = scalar(job, F_MINUS_RATE), lambda = scalar(job, F_LAMBDA), beta = scalar(job, F_BETA)
  const apply = (flags & FLAG_APPLY) != 0, decay = (flags & FLAG_DECAY) != 0
  const trace = (flags & FLAG_TRACE) != 0, nesterov = (flags & FLAG_NESTEROV) != 0
  const finite = <usize>field(job, S_FINITE)
  const zero = f32x4.splat(0)
  let sums = zero
  const i1 = min(n4, (part + 1) * chunk)
  for (let i = part * chunk; i < i1; i += 4) {
    const o = <usize>i << 2
    const pi = v128.load(p + o)
    const gi = v128.load(g + o)
    let d = gi
    if (decay) d = f32x4.add(d, f32x4.mul(lambda, pi))
    if (trace) {
      const t = f32x4.add(d, f32x4.mul(beta, v128.load(tPrev + o)))
      v128.store(tNew + o, t)
      d = nesterov ? f32x4.add(d, f32x4.mul(beta, t)) : t
    }
    const u = f32x4.mul(minusRate, d)
    const o1 = apply ? f32x4.add(pi, u) : u
    v128.store(out + o, o1)
    sums = f32x4.add(f32x4.add(sums, f32x4.mul(gi, zero)), f32x4.mul(o1, zero))
  }
  v128.store(finite + (<usize>part << 4), sums)
}
