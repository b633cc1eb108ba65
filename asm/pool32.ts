/**
 * chainrule's float32 max-pooling in WebAssembly, in AssemblyScript: the float32 twin of
 * ./elementwise.ts's max-pooling passes (src/kernels/wasm/pool32.ts runs them; the TypeScript
 * loops of src/kernels/pool32.ts compute the same values one window at a time). Both are exact
 * (comparisons and copies forward; backward adds onto +0 or onto what is there, one f32 add each,
 * outputs in order), so they agree bit for bit with the TypeScript loops.
 *
 * One call runs one part: a run of whole image planes of the job at `job`, a block of i32 fields
 * laid out as ./elementwise.ts's P_* fields (written by src/kernels/wasm/pool32.ts). Parts never
 * write the same output, so two threads can share them in any order.
 */

const P_PLANES = 0 // N·C planes
const P_CHUNK = 1 //  planes per part
const P_H = 2 //      input height and width
const P_W = 3
const P_OH = 4 //     output height and width
const P_OW = 5
const P_X = 6 //      x (forward) or dx (backward): N·C planes of H·W f32, byte address
const P_Y = 7 //      y (forward) or dy (backward): N·C planes of OH·OW f32
const P_ARGMAX = 8 // argmax: i32 per output, the flat index in x of the window's max (−1: none)

@inline function field(job: usize, i: i32): i32 {
  return load<i32>(job + (<usize>i << 2))
}

/** Part `part` of 2x2, stride-2 max-pooling's forward pass: its run of planes through `pool2x2Planes`. */
export function maxPool2x2Part32(job: usize, part: i32): void {
  const planes = field(job, P_PLANES), chunk = field(job, P_CHUNK)
  const H = field(job, P_H), W = field(job, P_W), OH = field(job, P_OH), OW = field(job, P_OW)
  const p0 = part * chunk
  const p1 = min(planes, p0 + chunk)
  if (p0 >= p1) return
  const x = <usize>field(job, P_X) + (<usize>(p0 * H * W) << 2)
  const q0 = <usize>(p0 * OH * OW) << 2
  pool2x2Planes(x, p0 * H * W, p1 - p0, H, W, OH, OW, <usize>field(job, P_Y) + q0, <usize>field(job, P_ARGMAX) + q0)
}

/**
 * 2x2, stride-2 max-pooling of `planes` planes of H × W f32 at x (whose first value has flat
 * index k0, the index argmax records) into planes of OH × OW at y and argmax, four windows at a
 * time (rows under four windows one at a time): the comparisons of maxPool32 (src/kernels/pool32.ts) in its order (tap b beats a if
 * b > a or b is NaN, then c and d each beat the best so far if greater or NaN: ties to the first
 * tap, NaNs to the last), each a lane mask choosing value and index.
 */
export function pool2x2Planes(x: usize, k0: i32, planes: i32, H: i32, W: i32, OH: i32, OW: i32, y: usize, argmax: usize): void {
  const rowBytes = <usize>W << 2
  const offB = i32x4.splat(1), offC = i32x4.splat(W), offD = i32x4.splat(W + 1)
  const lanes = i32x4(0, 2, 4, 6)
  for (let p: i32 = 0; p < planes; p++) {
    for (let oh: i32 = 0; oh < OH; oh++) {
      const top = p * H * W + 2 * oh * W // the plane's row 2·oh, from x
      const q0 = (p * OH + oh) * OW
      // Four windows at a time; a row whose width is not a multiple of 4 ends with the last four
      // windows, some of them again (the same values written twice: no scalar tail).
      for (let ow: i32 = 0; OW >= 4; ow = min(ow + 4, OW - 4)) {
        const at = x + (<usize>(top + 2 * ow) << 2)
        const t0 = v128.load(at), t1 = v128.load(at, 16)
        const b0 = v128.load(at + rowBytes), b1 = v128.load(at + rowBytes, 16)
        const a = v128.shuffle<f32>(t0, t1, 0, 2, 4, 6), b = v128.shuffle<f32>(t0, t1, 1, 3, 5, 7)
        const c = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6), d = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7)
        let m = v128.or(f32x4.gt(b, a), f32x4.ne(b, b))
        let best = v128.bitselect(b, a, m)
        let off = v128.and(offB, m)
        m = v128.or(f32x4.gt(c, best), f32x4.ne(c, c))
        best = v128.bitselect(c, best, m)
        off = v128.bitselect(offC, off, m)
        m = v128.or(f32x4.gt(d, best), f32x4.ne(d, d))
        best = v128.bitselect(d, best, m)
        off = v128.bitselect(offD, off, m)
        const q = <usize>(q0 + ow) << 2
        v128.store(y + q, best)
        v128.store(argmax + q, i32x4.add(i32x4.add(i32x4.splat(k0 + top + 2 * ow), lanes), off))
        if (ow == OW - 4) break
      }
      for (let ow = OW >= 4 ? OW : 0; ow < OW; ow++) { // rows under 4 windows: the same comparisons, one at a time
        const k = top + 2 * ow
        const at = x + (<usize>k << 2)
        const a = load<f32>(at), b = load<f32>(at, 4), c = load<f32>(at + rowBytes), d = load<f32>(at + rowBytes, 4)
        const tb = b > a || b != b
        let best = select<f32>(b, a, tb)
        let off = select<i32>(1, 0, tb)
        const tc = c > best || c != c
        off = select<i32>(W, off, tc)
        best = select<f32>(c, best, tc)
        const td = d > best || d != d
        off = select<i32>(W + 1, off, td)
        best = select<f32>(d, best, td)
        store<f32>(y + (<usize>(q0 + ow) << 2), best)
        store<i32>(argmax + (<usize>(q0 + ow) << 2), k0 + k + off)
      }
    }
  }
}

/**
 * Part `part` of max-pooling's backward pass (any window): each plane of dx cleared, then every
 * output's dy added onto its argmax (one f32 add), outputs in order, as maxPoolBackward32 of
 * src/kernels/pool32.ts, whose argmax always lies in the output's own plane.
 */
export function maxPoolBackwardPart32(job: usize, part: i32): void {
  const planes = field(job, P_PLANES), chunk = field(job, P_CHUNK)
  const HW = field(job, P_H) * field(job, P_W), OHW = field(job, P_OH) * field(job, P_OW)
  const dx = <usize>field(job, P_X), dy = <usize>field(job, P_Y), argmax = <usize>field(job, P_ARGMAX)
  const p0 = part * chunk, p1 = min(planes, p0 + chunk)
  if (p0 >= p1) return
  memory.fill(dx + (<usize>(p0 * HW) << 2), 0, <usize>((p1 - p0) * HW) << 2)
  // An argmax outside this part's planes (−1: no max; anything else only from a tape that
  // the forward pass did not write) is skipped, so a part never writes outside its own planes.
  const k0 = p0 * HW, k1 = p1 * HW
  for (let q = p0 * OHW; q < p1 * OHW; q++) {
    const k = load<i32>(argmax + (<usize>q << 2))
    if (k >= k0 && k < k1) {
      const e = dx + (<usize>k << 2)
      store<f32>(e, load<f32>(e) + load<f32>(dy + (<usize>q << 2)))
    }
  }
}
