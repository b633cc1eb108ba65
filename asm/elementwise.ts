/**
 * chainrule's WebAssembly element-wise passes, written in AssemblyScript: ReLU's forward and
 * backward passes, and max-pooling's (src/kernels/wasm/elementwise.ts runs them; the
 * plain-TypeScript loops of src/layers/activations.ts and src/kernels/pool.ts compute the same
 * values one at a time). ReLU, two lanes at a time:
 *
 *   forward    y  = max(x, +0)            f64x2.max: NaN stays NaN, −0 and −∞ give +0
 *   backward   dx = dy where x > 0, else +0   a bitwise AND of dy with the lane mask x > 0
 *
 * All of these are exact (no rounding), so they agree bit for bit with the TypeScript loops.
 *
 * One call runs one *part* of a pass: for ReLU, elements [part·chunk, min(n, (part + 1)·chunk))
 * of the job at `job`, a block of i32 fields (the E_* constants below, written by
 * src/kernels/wasm/elementwise.ts); for max-pooling, a run of whole image planes (the P_*
 * fields). Parts never write the same output, so two threads can share them in any order.
 */

// The job block: i32 fields, in this order (src/kernels/wasm/elementwise.ts writes the same layout).
const E_N = 0 //     elements
const E_CHUNK = 1 // elements per part (even)
const E_X = 2 //     x: byte address
const E_D = 3 //     dy (backward only)
const E_Y = 4 //     y (forward) or dx (backward)

@inline function field(job: usize, i: i32): i32 {
  return load<i32>(job + (<usize>i << 2))
}

/** Part `part` of ReLU's forward pass (backward false) or backward pass (true). */
export function reluPart(job: usize, part: i32, backward: bool): void {
  const n = field(job, E_N)
  const chunk = field(job, E_CHUNK)
  const i0 = part * chunk
  const i1 = min(n, i0 + chunk)
  const x = <usize>field(job, E_X)
  const d = <usize>field(job, E_D)
  const y = <usize>field(job, E_Y)
  const zero = f64x2.splat(0.0)
  let i = i0
  for (; i + 2 <= i1; i += 2) {
    const o = <usize>i << 3
    const v = v128.load(x + o)
    v128.store(y + o, backward ? v128.and(v128.load(d + o), f64x2.gt(v, zero)) : f64x2.max(v, zero))
  }
  if (i < i1) {
    const o = <usize>i << 3
    const v = load<f64>(x + o)
    store<f64>(y + o, backward ? (v > 0 ? load<f64>(d + o) : 0.0) : max(v, 0.0))
  }
}

// Max-pooling's job block: i32 fields (src/kernels/wasm/elementwise.ts writes the same layout).
const P_PLANES = 0 // N·C planes
const P_CHUNK = 1 //  planes per part
const P_H = 2 //      input height and width
const P_W = 3
const P_OH = 4 //     output height and width
const P_OW = 5
const P_X = 6 //      x (forward) or dx (backward): N·C planes of H·W, byte address
const P_Y = 7 //      y (forward) or dy (backward): N·C planes of OH·OW
const P_ARGMAX = 8 // argmax: i32 per output, the flat index in x of the window's max (−1: none)

/**
 * Part `part` of 2x2, stride-2 max-pooling's forward pass, two windows at a time: the same
 * comparisons, in the same order, as the TypeScript loop `maxPool2x2` of src/kernels/pool.ts
 * (tap b beats a if b > a or b is NaN, then c and d each beat the best so far if greater or
 * NaN: ties to the first tap, NaNs to the last), each a lane mask choosing value and index.
 */
export function maxPool2x2Part(job: usize, part: i32): void {
  const planes = field(job, P_PLANES), chunk = field(job, P_CHUNK)
  const H = field(job, P_H), W = field(job, P_W), OH = field(job, P_OH), OW = field(job, P_OW)
  const x = <usize>field(job, P_X), y = <usize>field(job, P_Y), argmax = <usize>field(job, P_ARGMAX)
  const rowBytes = <usize>W << 3
  const offB = i64x2.splat(1), offC = i64x2.splat(<i64>W), offD = i64x2.splat(<i64>W + 1)
  const p1 = min(planes, (part + 1) * chunk)
  for (let p = part * chunk; p < p1; p++) {
    for (let oh: i32 = 0; oh < OH; oh++) {
      const top = p * H * W + 2 * oh * W // x[n, c, 2·oh, 0]
      const q0 = (p * OH + oh) * OW
      let ow: i32 = 0
      for (; ow + 2 <= OW; ow += 2) {
        const at = x + (<usize>(top + 2 * ow) << 3)
        const t0 = v128.load(at), t1 = v128.load(at, 16)
        const b0 = v128.load(at + rowBytes), b1 = v128.load(at + rowBytes, 16)
        const a = v128.shuffle<f64>(t0, t1, 0, 2), b = v128.shuffle<f64>(t0, t1, 1, 3)
        const c = v128.shuffle<f64>(b0, b1, 0, 2), d = v128.shuffle<f64>(b0, b1, 1, 3)
        let m = v128.or(f64x2.gt(b, a), f64x2.ne(b, b))
        let best = v128.bitselect(b, a, m)
        let off = v128.and(offB, m)
        m = v128.or(f64x2.gt(c, best), f64x2.ne(c, c))
        best = v128.bitselect(c, best, m)
        off = v128.bitselect(offC, off, m)
        m = v128.or(f64x2.gt(d, best), f64x2.ne(d, d))
        best = v128.bitselect(d, best, m)
        off = v128.bitselect(offD, off, m)
        const q = q0 + ow
        v128.store(y + (<usize>q << 3), best)
        const k = top + 2 * ow
        store<i32>(argmax + (<usize>q << 2), k + <i32>i64x2.extract_lane(off, 0))
        store<i32>(argmax + (<usize>q << 2), k + 2 + <i32>i64x2.extract_lane(off, 1), 4)
      }
      if (ow < OW) { // an odd last window: the same comparisons on one lane
        const k = top + 2 * ow
        const at = x + (<usize>k << 3)
        const a = load<f64>(at), b = load<f64>(at, 8), c = load<f64>(at + rowBytes), d = load<f64>(at + rowBytes, 8)
        const tb = b > a || b != b
        let best = select<f64>(b, a, tb)
        let off = select<i32>(1, 0, tb)
        const tc = c > best || c != c
        off = select<i32>(W, off, tc)
        best = select<f64>(c, best, tc)
        const td = d > best || d != d
        off = select<i32>(W + 1, off, td)
        best = select<f64>(d, best, td)
        store<f64>(y + (<usize>(q0 + ow) << 3), best)
        store<i32>(argmax + (<usize>(q0 + ow) << 2), k + off)
      }
    }
  }
}

/**
 * Part `part` of max-pooling's backward pass (any window): each plane of dx cleared, then every
 * output's dy added onto its argmax, outputs in order (as maxPoolBackward of src/kernels/pool.ts,
 * whose argmax always lies in the output's own plane).
 */
export function maxPoolBackwardPart(job: usize, part: i32): void {
  const planes = field(job, P_PLANES), chunk = field(job, P_CHUNK)
  const HW = field(job, P_H) * field(job, P_W), OHW = field(job, P_OH) * field(job, P_OW)
  const dx = <usize>field(job, P_X), dy = <usize>field(job, P_Y), argmax = <usize>field(job, P_ARGMAX)
  const p0 = part * chunk, p1 = min(planes, p0 + chunk)
  if (p0 >= p1) return
  const zero = f64x2.splat(0.0)
  const from = dx + (<usize>(p0 * HW) << 3), to = dx + (<usize>(p1 * HW) << 3)
  let at = from
  for (; at + 16 <= to; at += 16) v128.store(at, zero)
  if (at < to) store<f64>(at, 0.0)
  // An argmax outside this part's planes (−1: no max; anything else only from a tape that
  // maxPoolForward did not write) is skipped, so a part never writes outside its own planes.
  const k0 = p0 * HW, k1 = p1 * HW
  for (let q = p0 * OHW; q < p1 * OHW; q++) {
    const k = load<i32>(argmax + (<usize>q << 2))
    if (k >= k0 && k < k1) {
      const e = dx + (<usize>k << 3)
      store<f64>(e, load<f64>(e) + load<f64>(dy + (<usize>q << 3)))
    }
  }
}
