/**
 * 2-D convolution kernels on NCHW Float64Arrays: the forward product and the two backward ones.
 *
 *   forward       y[n,f,oh,ow]  = b[f] + Σ_c Σ_i Σ_j  w[f,c,i,j] · x[n, c, oh·SH − PT + i·DH, ow·SW − PL + j·DW]
 *   input grad    dx[n,c,h,w]   = Σ over every (f, oh, ow, i, j) whose tap lands on (h, w) of  dy[n,f,oh,ow] · w[f,c,i,j]
 *   kernel grad   dw[f,c,i,j]   = Σ_n Σ_oh Σ_ow  dy[n,f,oh,ow] · x[n, c, oh·SH − PT + i·DH, ow·SW − PL + j·DW]
 *   bias grad     db[f]         = Σ_n Σ_oh Σ_ow  dy[n,f,oh,ow]
 *
 * (Input positions outside the image are zero padding.) Two kinds of kernel implement one contract:
 *
 * - `naiveConv`: the seven nested loops, over every sample, every filter, every output position,
 *   every channel and every kernel tap. The three products are the *same* loop nest; only the
 *   innermost statement changes. Read these to learn what a convolution layer computes. They are
 *   also brutally slow, which is why cuDNN exists.
 * - `fastConv` and `fastConvWasm`: im2col + a blocked GEMM (the plain-TypeScript one, or the
 *   WebAssembly SIMD one: whichever the kernel switch selects; the WebAssembly one on one or two
 *   threads, as `useThreads` selects at the time of the call). For each sample, im2col copies
 *   every receptive field into a column of a (C·KH·KW) × (OH·OW) matrix, and the convolution
 *   becomes one matrix product with the kernels seen as an F × (C·KH·KW) matrix:
 *     y_n  = W · cols_n               (+ b broadcast along each row)
 *     dW  += dy_n · cols_nᵀ           (a transposed operand: free, the GEMM reads through strides)
 *     dx_n = col2im(Wᵀ · dy_n)         (col2im adds each column back onto the pixels it came from)
 *   Property tests (test/kernels/conv-kernels.test.ts) hold it equal to the naive loops.
 *
 * Raw loops on Float64Array only; buffers come from `buffer` (the one allocator), so V8 keeps
 * these hot loops monomorphic.
 */
import { buffer } from '../tensor/tensor.ts'
import { reluInPlace, reluVjpFromOutput } from './relu.ts'
import { gemmFor, resolveKernels, threads } from './backend.ts'
import { gemmBlocked, view, type Gemm } from './gemm.ts'
import { convBackwardWasm, convForwardWasm, convInputGradWasm, convKernelGradWasm } from './wasm/conv.ts'
import { lengthCheck, type Window2d } from './window.ts'

/** A convolution's window plus its number of filters F: input [N, C, H, W], kernels [F, C, KH, KW], output [N, F, OH, OW]. */
export interface ConvWindow extends Window2d {
  readonly F: number
}

/** One family of convolution kernels. Every output array is overwritten entirely; inputs are only read. */
export interface ConvKernels {
  /** y = conv(x, w) + b (b may be undefined: no bias), or relu of it when `relu` is true (see reluInPlace). */
  readonly forward: (g: ConvWindow, x: Float64Array, w: Float64Array, b: Float64Array | undefined, y: Float64Array, relu?: boolean) => void
  /** dx = the input gradient of Σ dy·y. */
  readonly inputGrad: (g: ConvWindow, dy: Float64Array, w: Float64Array, dx: Float64Array) => void
  /** dw = the kernel gradient of Σ dy·y, summed over the batch. */
  readonly kernelGrad: (g: ConvWindow, x: Float64Array, dy: Float64Array, dw: Float64Array) => void
  /**
   * A layer's whole backward pass: dw, dx unless it is undefined (nobody wants it), and db
   * unless it is undefined (no bias). The same results as inputGrad, kernelGrad and
   * convBiasGrad (up to the order of the sums, within 1e-12); the WebAssembly family runs them
   * all as one job. With `yRelu`, the forward pass applied relu and gave this y: the gradient at
   * the conv's output is then dy where y > 0, else +0 (reluVjpFromOutput), as relu's vjp would give.
   */
  readonly backward: (
    g: ConvWindow,
    x: Float64Array,
    dy: Float64Array,
    w: Float64Array,
    dx: Float64Array | undefined,
    dw: Float64Array,
    db?: Float64Array,
    yRelu?: Float64Array,
  ) => void
}

/** forward as the product then reluInPlace when asked. */
const forwardOf =
  (
    product: (g: ConvWindow, x: Float64Array, w: Float64Array, b: Float64Array | undefined, y: Float64Array) => void,
  ): ConvKernels['forward'] =>
  (g, x, w, b, y, relu) => {
    product(g, x, w, b, y)
    if (relu === true) reluInPlace(y)
  }

/** backward as reluVjpFromOutput (when the output was relu'd), inputGrad (when dx is wanted), kernelGrad, then convBiasGrad (when db is wanted). */
const backwardOf =
  (inputGrad: ConvKernels['inputGrad'], kernelGrad: ConvKernels['kernelGrad']): ConvKernels['backward'] =>
  (g, x, dy, w, dx, dw, db, yRelu) => {
    if (db !== undefined) need('db', db, g.F)
    if (yRelu !== undefined) need('y', yRelu, ySize(g))
    const dz = yRelu === undefined ? dy : reluVjpFromOutput(dy, yRelu)
    if (dx !== undefined) inputGrad(g, dz, w, dx)
    kernelGrad(g, x, dz, dw)
    if (db !== undefined) convBiasGrad(g, dz, db)
  }

// ---------------------------------------------------------------------------------------------
// Argument checks (O(1); shared by both families)
// ---------------------------------------------------------------------------------------------

/** The array sizes a geometry needs: x (N×C×H×W), w (F×C×KH×KW) and y (N×F×OH×OW). */
export const xSize = (g: ConvWindow): number => g.N * g.C * g.H * g.W
export const wSize = (g: ConvWindow): number => g.F * g.C * g.KH * g.KW
export const ySize = (g: ConvWindow): number => g.N * g.F * g.OH * g.OW

type Sized = { readonly length: number }

/** The argument checks of a convolution family, for arrays of either precision; `who` names the family in errors. */
export function convArgChecks(who: string) {
  const need = lengthCheck(who)
  return {
    need,
    checkForward: (g: ConvWindow, x: Sized, w: Sized, b: Sized | undefined, y: Sized): void => {
      need('x', x, xSize(g))
      need('w', w, wSize(g))
      need('y', y, ySize(g))
      if (b !== undefined) need('b', b, g.F)
    },
    checkInputGrad: (g: ConvWindow, dy: Sized, w: Sized, dx: Sized): void => {
      need('dy', dy, ySize(g))
      need('w', w, wSize(g))
      need('dx', dx, xSize(g))
    },
    checkKernelGrad: (g: ConvWindow, x: Sized, dy: Sized, dw: Sized): void => {
      need('x', x, xSize(g))
      need('dy', dy, ySize(g))
      need('dw', dw, wSize(g))
    },
  }
}

const { need, checkForward, checkInputGrad, checkKernelGrad } = convArgChecks('conv')

/**
 * db[f] = Σ_n Σ_oh Σ_ow dy[n,f,oh,ow]: the bias is added at every output position of its filter.
 * Each sample's plane is summed in four interleaved running sums, then added to db[f]: one
 * running sum would make every add wait for the previous one (this runs on the main thread of
 * every conv layer's backward pass).
 */
export const convBiasGrad = (g: ConvWindow, dy: Float64Array, db: Float64Array): void => {
  need('dy', dy, ySize(g))
  need('db', db, g.F)
  const { N, F } = g
  const OHW = g.OH * g.OW
  db.fill(0)
  for (let n = 0; n < N; n++) {
    for (let f = 0; f < F; f++) {
      const base = (n * F + f) * OHW
      let s0 = 0
      let s1 = 0
      let s2 = 0
      let s3 = 0
      let q = 0
      for (; q + 4 <= OHW; q += 4) {
        s0 += dy[base + q]!
        s1 += dy[base + q + 1]!
        s2 += dy[base + q + 2]!
        s3 += dy[base + q + 3]!
      }
      for (; q < OHW; q++) s0 += dy[base + q]!
      db[f] = db[f]! + (s0 + s1 + (s2 + s3))
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Naive: seven nested loops, one multiply-add at a time
// ---------------------------------------------------------------------------------------------

/**
 * The forward convolution as a textbook writes it. Each output is the bias plus the sum, over
 * every channel and every kernel tap, of tap weight × the input pixel under that tap.
 */
const naiveForward: ConvKernels['forward'] = (g, x, w, b, y) => {
  checkForward(g, x, w, b, y)
  const { N, C, H, W, F, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  for (let n = 0; n < N; n++) {
    //                       every sample
    for (let f = 0; f < F; f++) {
      //                     every filter
      for (let oh = 0; oh < OH; oh++) {
        //               every output position
        for (let ow = 0; ow < OW; ow++) {
          let sum = b === undefined ? 0 : b[f]!
          for (let c = 0; c < C; c++) {
            //               every input channel
            for (let i = 0; i < KH; i++) {
              //            every kernel tap
              for (let j = 0; j < KW; j++) {
                const h = oh * SH - PT + i * DH //       the input pixel under tap (i, j)
                const v = ow * SW - PL + j * DW
                if (h < 0 || h >= H || v < 0 || v >= W) continue // zero padding adds nothing
                sum += w[((f * C + c) * KH + i) * KW + j]! * x[((n * C + c) * H + h) * W + v]!
              }
            }
          }
          y[((n * F + f) * OH + oh) * OW + ow] = sum
        }
      }
    }
  }
}

/**
 * The input gradient: the same loops, run backwards. Each output position hands its gradient
 * dy back to every input pixel it read, weighted by the tap that read it (y = Σ w·x, so ∂y/∂x = w).
 */
const naiveInputGrad: ConvKernels['inputGrad'] = (g, dy, w, dx) => {
  checkInputGrad(g, dy, w, dx)
  const { N, C, H, W, F, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  dx.fill(0)
  for (let n = 0; n < N; n++) {
    for (let f = 0; f < F; f++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const d = dy[((n * F + f) * OH + oh) * OW + ow]!
          for (let c = 0; c < C; c++) {
            for (let i = 0; i < KH; i++) {
              for (let j = 0; j < KW; j++) {
                const h = oh * SH - PT + i * DH
                const v = ow * SW - PL + j * DW
                if (h < 0 || h >= H || v < 0 || v >= W) continue // padding has no gradient to receive
                dx[((n * C + c) * H + h) * W + v]! += d * w[((f * C + c) * KH + i) * KW + j]!
              }
            }
          }
        }
      }
    }
  }
}

/**
 * The kernel gradient: the same loops once more. Each tap weight collects dy × the input pixel it
 * multiplied, over every output position and every sample (∂y/∂w = x).
 */
const naiveKernelGrad: ConvKernels['kernelGrad'] = (g, x, dy, dw) => {
  checkKernelGrad(g, x, dy, dw)
  const { N, C, H, W, F, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  dw.fill(0)
  for (let n = 0; n < N; n++) {
    for (let f = 0; f < F; f++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const d = dy[((n * F + f) * OH + oh) * OW + ow]!
          for (let c = 0; c < C; c++) {
            for (let i = 0; i < KH; i++) {
              for (let j = 0; j < KW; j++) {
                const h = oh * SH - PT + i * DH
                const v = ow * SW - PL + j * DW
                if (h < 0 || h >= H || v < 0 || v >= W) continue
                dw[((f * C + c) * KH + i) * KW + j]! += d * x[((n * C + c) * H + h) * W + v]!
              }
            }
          }
        }
      }
    }
  }
}

/** The whiteboard kernels: read them to learn; slow. Selected by `useKernels('reference')`. */
export const naiveConv: ConvKernels = {
  forward: forwardOf(naiveForward),
  inputGrad: naiveInputGrad,
  kernelGrad: naiveKernelGrad,
  backward: backwardOf(naiveInputGrad, naiveKernelGrad),
}

// ---------------------------------------------------------------------------------------------
// Fast: im2col + blocked GEMM
// ---------------------------------------------------------------------------------------------

/**
 * im2col for sample n: cols[(c·KH + i)·KW + j][oh·OW + ow] = x[n, c, oh·SH − PT + i·DH, ow·SW − PL + j·DW].
 * Only positions inside the image are written: `cols` must hold zeros at the padding positions
 * (a fresh buffer, or one filled by this function for the same geometry: those positions do not
 * depend on n).
 *
 * Tap (i, j) lands inside the image for output rows oh in [ohLo, ohHi) and columns ow in
 * [owLo, owHi), found once per tap, so the inner loop is a plain strided copy.
 *
 * The common case gets a shortcut: at stride 1 with the output as wide as the input ('same'
 * padding), a tap's row of cols is x shifted by a constant offset, so it is one block copy
 * (`set`, a memcpy) followed by clearing the few entries per row that wrapped around from the
 * neighbouring image row (they are padding, so must be 0).
 */
export const im2col = (g: Window2d, x: Float64Array, n: number, cols: Float64Array): void => {
  const { C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  const OHW = OH * OW
  const shifted = SH === 1 && SW === 1 && OW === W
  let row = 0 // (c·KH + i)·KW + j, times OH·OW
  for (let c = 0; c < C; c++) {
    const xc = (n * C + c) * H * W
    for (let i = 0; i < KH; i++) {
      const ti = PT - i * DH // input row h = oh·SH − ti
      const ohLo = Math.max(0, Math.ceil(ti / SH))
      const ohHi = Math.min(OH, Math.floor((H - 1 + ti) / SH) + 1)
      for (let j = 0; j < KW; j++, row += OHW) {
        const tj = PL - j * DW // input column v = ow·SW − tj
        const owLo = Math.max(0, Math.ceil(tj / SW))
        const owHi = Math.min(OW, Math.floor((W - 1 + tj) / SW) + 1)
        if (ohLo >= ohHi || owLo >= owHi) continue // this tap sees only padding
        if (shifted) {
          // cols[row + q] = x[xc − ti·W − tj + q] from the first inside entry to the last one
          const first = ohLo * OW + owLo
          const last = (ohHi - 1) * OW + owHi
          const from = xc + (ohLo - ti) * W + owLo - tj
          cols.set(x.subarray(from, from + last - first), row + first)
          for (let oh = ohLo; oh < ohHi; oh++) {
            const dst = row + oh * OW
            for (let ow = 0; ow < owLo; ow++) cols[dst + ow] = 0
            for (let ow = owHi; ow < OW; ow++) cols[dst + ow] = 0
          }
          continue
        }
        for (let oh = ohLo; oh < ohHi; oh++) {
          const src = xc + (oh * SH - ti) * W - tj // x[n, c, h, v] at ow = 0
          const dst = row + oh * OW
          for (let ow = owLo; ow < owHi; ow++) cols[dst + ow] = x[src + ow * SW]!
        }
      }
    }
  }
}

/** col2im for sample n, the adjoint of im2col: adds every entry of `cols` onto the pixel of dx it was copied from. */
export const col2im = (g: Window2d, cols: Float64Array, n: number, dx: Float64Array): void => {
  const { C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  const OHW = OH * OW
  let row = 0
  for (let c = 0; c < C; c++) {
    const xc = (n * C + c) * H * W
    for (let i = 0; i < KH; i++) {
      const ti = PT - i * DH
      const ohLo = Math.max(0, Math.ceil(ti / SH))
      const ohHi = Math.min(OH, Math.floor((H - 1 + ti) / SH) + 1)
      for (let j = 0; j < KW; j++, row += OHW) {
        const tj = PL - j * DW
        const owLo = Math.max(0, Math.ceil(tj / SW))
        const owHi = Math.min(OW, Math.floor((W - 1 + tj) / SW) + 1)
        for (let oh = ohLo; oh < ohHi; oh++) {
          const dst = xc + (oh * SH - ti) * W - tj
          const src = row + oh * OW
          for (let ow = owLo; ow < owHi; ow++) dx[dst + ow * SW]! += cols[src + ow]!
        }
      }
    }
  }
}

/**
 * The im2col + GEMM family on a given GEMM (any implementation of the `Gemm` contract of
 * ./gemm.ts). `fastConv` is this on `gemmBlocked`.
 */
export const makeFastConv = (gemm: Gemm): ConvKernels => fastConvOn(() => gemm)

/**
 * The im2col + GEMM family on the GEMM `gemmOf()` returns, asked once at the start of each
 * kernel call (so a family whose GEMM depends on a setting, like the thread count, follows it
 * call by call; the per-sample loops then call a plain local).
 */
const fastConvOn = (gemmOf: () => Gemm): ConvKernels => {
  const k = im2colKernels(gemmOf)
  return { ...k, forward: forwardOf(k.forward), backward: backwardOf(k.inputGrad, k.kernelGrad) }
}

const im2colKernels = (
  gemmOf: () => Gemm,
): Omit<ConvKernels, 'backward'> & {
  forward: (g: ConvWindow, x: Float64Array, w: Float64Array, b: Float64Array | undefined, y: Float64Array) => void
} => ({
  /** y_n (F × OH·OW) = W (F × C·KH·KW) · cols_n (C·KH·KW × OH·OW), starting each row from its bias. */
  forward: (g, x, w, b, y) => {
    const gemm = gemmOf()
    checkForward(g, x, w, b, y)
    const { N, C, F, KH, KW } = g
    const K = C * KH * KW
    const OHW = g.OH * g.OW
    const cols = buffer(K * OHW)
    const W = view(w, F, K)
    const colsView = view(cols, K, OHW)
    for (let n = 0; n < N; n++) {
      im2col(g, x, n, cols)
      const yn = n * F * OHW
      if (b !== undefined) for (let f = 0; f < F; f++) y.fill(b[f]!, yn + f * OHW, yn + (f + 1) * OHW)
      gemm(F, OHW, K, W, colsView, y, yn, b !== undefined)
    }
  },

  /** dx_n = col2im(Wᵀ (C·KH·KW × F) · dy_n (F × OH·OW)): Wᵀ is W's view with the strides swapped. */
  inputGrad: (g, dy, w, dx) => {
    const gemm = gemmOf()
    checkInputGrad(g, dy, w, dx)
    const { N, C, F, KH, KW } = g
    const K = C * KH * KW
    const OHW = g.OH * g.OW
    const dcols = buffer(K * OHW)
    const Wt = view(w, F, K, true)
    dx.fill(0)
    for (let n = 0; n < N; n++) {
      gemm(K, OHW, F, Wt, view(dy, F, OHW, false, n * F * OHW), dcols, 0, false)
      col2im(g, dcols, n, dx)
    }
  },

  /** dW (F × C·KH·KW) = Σ_n dy_n (F × OH·OW) · cols_nᵀ (OH·OW × C·KH·KW), accumulated sample by sample. */
  kernelGrad: (g, x, dy, dw) => {
    const gemm = gemmOf()
    checkKernelGrad(g, x, dy, dw)
    const { N, C, F, KH, KW } = g
    const K = C * KH * KW
    const OHW = g.OH * g.OW
    const cols = buffer(K * OHW)
    const colsT = view(cols, K, OHW, true)
    dw.fill(0)
    for (let n = 0; n < N; n++) {
      im2col(g, x, n, cols)
      gemm(F, K, OHW, view(dy, F, OHW, false, n * F * OHW), colsT, dw, 0, true)
    }
  },
})

/** im2col + the plain-TypeScript blocked GEMM (kernel family 'js'). Agrees with `naiveConv` to rounding (property-tested to 1e-12 relative). */
export const fastConv: ConvKernels = makeFastConv(gemmBlocked)

/** im2col in TypeScript + the WebAssembly GEMM: what fastConvWasm falls back to for products too big for its memory. */
const im2colOnWasmGemm: ConvKernels = fastConvOn(() => gemmFor('wasm'))

/**
 * The WebAssembly kernels (kernel family 'wasm', the default where the engine has SIMD): the
 * same im2col + GEMM + col2im as fastConv, every loop inside WebAssembly (./wasm/conv.ts), on
 * the thread count `useThreads` selects, read at each call. Bit-identical on one thread or two;
 * y and dx round exactly as fastConv's, dW adds up four groups of samples (within 1e-12 of
 * it). Where WebAssembly SIMD is missing they run the plain-TypeScript kernels, with no error.
 */
export const fastConvWasm: ConvKernels = {
  forward: (g, x, w, b, y, relu) => {
    checkForward(g, x, w, b, y)
    if (!convForwardWasm(threads(), g, x, w, b, y, Infinity, relu === true)) im2colOnWasmGemm.forward(g, x, w, b, y, relu)
  },
  inputGrad: (g, dy, w, dx) => {
    checkInputGrad(g, dy, w, dx)
    if (!convInputGradWasm(threads(), g, dy, w, dx)) im2colOnWasmGemm.inputGrad(g, dy, w, dx)
  },
  kernelGrad: (g, x, dy, dw) => {
    checkKernelGrad(g, x, dy, dw)
    if (!convKernelGradWasm(threads(), g, x, dy, dw)) im2colOnWasmGemm.kernelGrad(g, x, dy, dw)
  },
  backward: (g, x, dy, w, dx, dw, db, yRelu) => {
    checkKernelGrad(g, x, dy, dw)
    if (dx !== undefined) checkInputGrad(g, dy, w, dx)
    if (db !== undefined) need('db', db, g.F)
    if (yRelu !== undefined) need('y', yRelu, ySize(g))
    if (!convBackwardWasm(threads(), g, x, dy, w, dx, dw, Infinity, db, yRelu)) im2colOnWasmGemm.backward(g, x, dy, w, dx, dw, db, yRelu)
  },
}

/** The family `useKernels` selects: the naive loops under 'reference', im2col + that family's GEMM otherwise. */
export const convKernels = (): ConvKernels => {
  switch (resolveKernels()) {
    case 'reference':
      return naiveConv
    case 'js':
      return fastConv
    case 'wasm':
      return fastConvWasm
  }
}
