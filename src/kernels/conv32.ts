/**
 * float32 2-D convolution kernels on NCHW Float32Arrays: the float32 twins of ./conv.ts, same
 * geometry (`ConvWindow`) and same products:
 *
 *   forward       y[n,f,oh,ow]  = b[f] + Σ_(c,i,j)  w[f,c,i,j] · x[n, c, oh·SH − PT + i·DH, ow·SW − PL + j·DW]
 *   input grad    dx[n,c,h,v]   = Σ over the (i, j, oh, ow) whose tap lands on (h, v) of  Σ_f dy[n,f,oh,ow] · w[f,c,i,j]
 *   kernel grad   dw[f,c,i,j]   = Σ_(n,oh,ow)  dy[n,f,oh,ow] · x[n, c, oh·SH − PT + i·DH, ow·SW − PL + j·DW]
 *   bias grad     db[f]         = Σ_(n,oh,ow)  dy[n,f,oh,ow]
 *
 * Rounding, exactly (fl32: round to the nearest float32): every product and every running sum is
 * rounded, and the sums run in the order written, each from +0 (the forward one from b[f]):
 * - forward: over the taps (c, i, j) in that order, a padding pixel counting as +0 (its product is
 *   rounded and added like any other);
 * - input grad: for each pixel, over the taps (c, i, j) and then the output positions (oh, ow)
 *   that read it, in that order, the contribution t = Σ_f fl32(dy·w) (f ascending, from +0);
 * - kernel grad and bias grad: over the samples n, then the output positions (oh, ow), a padding
 *   pixel counting as +0.
 * That is the order of im2col + GEMM (y_n = W·cols_n; dcols_n = Wᵀ·dy_n then col2im; dW = Σ_n
 * dy_n·cols_nᵀ), so the naive loops (`naiveConv32`, the oracle) and the im2col kernels on any
 * float32 GEMM (`fastConv32` on the TypeScript one; `fastConv32Wasm`, all in WebAssembly, on the
 * f32x4 one) give the same bits (test/kernels/conv32.test.ts).
 *
 * The im2col kernels batch samples: one GEMM per group of samples (as many as fit in about 4M
 * float32 of im2col columns), so the WebAssembly GEMM sees one big product, not N small ones.
 * Grouping changes no sum's order.
 */
import { gemm32For, resolveKernels, threads } from './backend.ts'
import { convArgChecks, xSize, wSize, ySize, type ConvWindow } from './conv.ts'
import { gemm32Blocked, view32, type Gemm32 } from './gemm32.ts'
import { reluFast32 } from './relu32.ts'
import { conv32BackwardWasm, conv32ForwardWasm } from './wasm/conv32.ts'
import type { Window2d } from './window.ts'

/** One family of float32 convolution kernels. Every output array is overwritten entirely; inputs are only read. */
export interface Conv32Kernels {
  /** y = conv(x, w) + b (b undefined: no bias), then relu (v > 0 ? v : +0; NaN stays) when `relu` is true. */
  readonly forward: (g: ConvWindow, x: Float32Array, w: Float32Array, b: Float32Array | undefined, y: Float32Array, relu?: boolean) => void
  /** dx = the input gradient of Σ dy·y. */
  readonly inputGrad: (g: ConvWindow, dy: Float32Array, w: Float32Array, dx: Float32Array) => void
  /** dw = the kernel gradient of Σ dy·y, summed over the batch. */
  readonly kernelGrad: (g: ConvWindow, x: Float32Array, dy: Float32Array, dw: Float32Array) => void
  /**
   * A layer's whole backward pass, as ./conv.ts's: dw, dx unless it is undefined (nobody wants it),
   * and db unless it is undefined (no bias). With `yRelu`, the forward pass applied relu and gave
   * this y: the gradient at the conv's output is then dy where y > 0, else +0 (exact).
   */
  readonly backward: (
    g: ConvWindow,
    x: Float32Array,
    dy: Float32Array,
    w: Float32Array,
    dx: Float32Array | undefined,
    dw: Float32Array,
    db?: Float32Array,
    yRelu?: Float32Array,
  ) => void
}

/** A family with its backward pass: the relu mask (reluFast32's vjp read from y), inputGrad, kernelGrad, then convBiasGrad32. */
const withBackward = (k: Omit<Conv32Kernels, 'backward'>): Conv32Kernels => ({
  ...k,
  backward: (g, x, dy, w, dx, dw, db, yRelu) => {
    if (db !== undefined) need('db', db, g.F)
    let dz = dy
    if (yRelu !== undefined) {
      need('y', yRelu, ySize(g))
      need('dy', dy, ySize(g))
      dz = new Float32Array(dy.length)
      reluFast32.vjp(yRelu, dy, dz) // y > 0 exactly where the conv's output was > 0
    }
    if (dx !== undefined) k.inputGrad(g, dz, w, dx)
    k.kernelGrad(g, x, dz, dw)
    if (db !== undefined) convBiasGrad32(g, dz, db)
  },
})

const { need, checkForward, checkInputGrad, checkKernelGrad } = convArgChecks('conv32')

/** relu in place (branch-free: the signs of a convolution's outputs are random): v where v > 0, else +0; NaN stays NaN. Exact. */
const reluInPlace32 = (y: Float32Array): void => reluFast32.forward(y, y)

/** db[f] = Σ_(n,oh,ow) dy[n,f,oh,ow], each add rounded to float32, samples then positions in order, from +0. */
export const convBiasGrad32 = (g: ConvWindow, dy: Float32Array, db: Float32Array): void => {
  need('dy', dy, ySize(g))
  need('db', db, g.F)
  const { N, F } = g
  const OHW = g.OH * g.OW
  const round = Math.fround
  for (let f = 0; f < F; f++) {
    let s = 0
    for (let n = 0; n < N; n++) {
      const base = (n * F + f) * OHW
      for (let q = 0; q < OHW; q++) s = round(s + dy[base + q]!)
    }
    db[f] = s
  }
}

// ---------------------------------------------------------------------------------------------
// Naive: the definitions, one rounded multiply and one rounded add at a time
// ---------------------------------------------------------------------------------------------

/** The pixel of x under tap (i, j) of output (oh, ow), or +0 in the padding. */
const pixel = (g: ConvWindow, x: Float32Array, n: number, c: number, oh: number, ow: number, i: number, j: number): number => {
  const h = oh * g.SH - g.PT + i * g.DH
  const v = ow * g.SW - g.PL + j * g.DW
  return h < 0 || h >= g.H || v < 0 || v >= g.W ? 0 : x[((n * g.C + c) * g.H + h) * g.W + v]!
}

const naiveForward = (g: ConvWindow, x: Float32Array, w: Float32Array, b: Float32Array | undefined, y: Float32Array): void => {
  checkForward(g, x, w, b, y)
  const { N, C, F, KH, KW, OH, OW } = g
  const round = Math.fround
  for (let n = 0; n < N; n++) {
    for (let f = 0; f < F; f++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let sum = b === undefined ? 0 : b[f]!
          for (let c = 0; c < C; c++) {
            for (let i = 0; i < KH; i++) {
              for (let j = 0; j < KW; j++) {
                sum = round(sum + round(w[((f * C + c) * KH + i) * KW + j]! * pixel(g, x, n, c, oh, ow, i, j)))
              }
            }
          }
          y[((n * F + f) * OH + oh) * OW + ow] = sum
        }
      }
    }
  }
}

const naiveInputGrad: Conv32Kernels['inputGrad'] = (g, dy, w, dx) => {
  checkInputGrad(g, dy, w, dx)
  const { N, C, H, W, F, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  const round = Math.fround
  dx.fill(0)
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < KH; i++) {
        for (let j = 0; j < KW; j++) {
          for (let oh = 0; oh < OH; oh++) {
            for (let ow = 0; ow < OW; ow++) {
              const h = oh * SH - PT + i * DH
              const v = ow * SW - PL + j * DW
              if (h < 0 || h >= H || v < 0 || v >= W) continue // padding has no gradient to receive
              let t = 0 // what output (oh, ow) hands back through tap (c, i, j), summed over the filters
              for (let f = 0; f < F; f++) t = round(t + round(dy[((n * F + f) * OH + oh) * OW + ow]! * w[((f * C + c) * KH + i) * KW + j]!))
              const at = ((n * C + c) * H + h) * W + v
              dx[at] = round(dx[at]! + t)
            }
          }
        }
      }
    }
  }
}

const naiveKernelGrad: Conv32Kernels['kernelGrad'] = (g, x, dy, dw) => {
  checkKernelGrad(g, x, dy, dw)
  const { N, C, F, KH, KW, OH, OW } = g
  const round = Math.fround
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < KH; i++) {
        for (let j = 0; j < KW; j++) {
          let sum = 0
          for (let n = 0; n < N; n++) {
            for (let oh = 0; oh < OH; oh++) {
              for (let ow = 0; ow < OW; ow++) {
                sum = round(sum + round(dy[((n * F + f) * OH + oh) * OW + ow]! * pixel(g, x, n, c, oh, ow, i, j)))
              }
            }
          }
          dw[((f * C + c) * KH + i) * KW + j] = sum
        }
      }
    }
  }
}

/** The float32 convolutions as a textbook writes them, with the rounding above: the oracle. Slow. */
export const naiveConv32: Conv32Kernels = withBackward({
  forward: (g, x, w, b, y, relu) => {
    naiveForward(g, x, w, b, y)
    if (relu === true) reluInPlace32(y)
  },
  inputGrad: naiveInputGrad,
  kernelGrad: naiveKernelGrad,
})

// ---------------------------------------------------------------------------------------------
// im2col + a float32 GEMM, a group of samples per product
// ---------------------------------------------------------------------------------------------

/**
 * im2col for sample n into columns [col0, col0 + OH·OW) of `cols`, whose rows are `ld` long:
 * cols[((c·KH + i)·KW + j)·ld + col0 + oh·OW + ow] = x[n, c, oh·SH − PT + i·DH, ow·SW − PL + j·DW].
 * Only positions inside the image are written: `cols` must hold zeros at the padding positions
 * (they do not depend on n). At stride 1 with the output as wide as the input ('same' padding), a
 * tap's columns are x shifted by a constant: one block copy, then the few entries per output row
 * that wrapped around from the neighbouring image row are cleared (they are padding).
 */
export const im2col32 = (g: Window2d, x: Float32Array, n: number, cols: Float32Array, ld: number, col0: number): void => {
  const { C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  const shifted = SH === 1 && SW === 1 && OW === W
  let row = col0
  for (let c = 0; c < C; c++) {
    const xc = (n * C + c) * H * W
    for (let i = 0; i < KH; i++) {
      const ti = PT - i * DH // input row h = oh·SH − ti
      const ohLo = Math.max(0, Math.ceil(ti / SH))
      const ohHi = Math.min(OH, Math.floor((H - 1 + ti) / SH) + 1)
      for (let j = 0; j < KW; j++, row += ld) {
        const tj = PL - j * DW // input column v = ow·SW − tj
        const owLo = Math.max(0, Math.ceil(tj / SW))
        const owHi = Math.min(OW, Math.floor((W - 1 + tj) / SW) + 1)
        if (ohLo >= ohHi || owLo >= owHi) continue // this tap sees only padding
        if (shifted) {
          const first = ohLo * OW + owLo
          const from = xc + (ohLo - ti) * W + owLo - tj
          cols.set(x.subarray(from, from + (ohHi - 1) * OW + owHi - first), row + first)
          for (let oh = ohLo; oh < ohHi; oh++) {
            const dst = row + oh * OW
            for (let ow = 0; ow < owLo; ow++) cols[dst + ow] = 0
            for (let ow = owHi; ow < OW; ow++) cols[dst + ow] = 0
          }
          continue
        }
        for (let oh = ohLo; oh < ohHi; oh++) {
          const src = xc + (oh * SH - ti) * W - tj
          const dst = row + oh * OW
          for (let ow = owLo; ow < owHi; ow++) cols[dst + ow] = x[src + ow * SW]!
        }
      }
    }
  }
}

/** col2im for sample n, the adjoint of im2col32: adds (rounded to float32) every entry of its columns onto the pixel of dx it came from. */
export const col2im32 = (g: Window2d, cols: Float32Array, ld: number, col0: number, n: number, dx: Float32Array): void => {
  const { C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  let row = col0
  for (let c = 0; c < C; c++) {
    const xc = (n * C + c) * H * W
    for (let i = 0; i < KH; i++) {
      const ti = PT - i * DH
      const ohLo = Math.max(0, Math.ceil(ti / SH))
      const ohHi = Math.min(OH, Math.floor((H - 1 + ti) / SH) + 1)
      for (let j = 0; j < KW; j++, row += ld) {
        const tj = PL - j * DW
        const owLo = Math.max(0, Math.ceil(tj / SW))
        const owHi = Math.min(OW, Math.floor((W - 1 + tj) / SW) + 1)
        for (let oh = ohLo; oh < ohHi; oh++) {
          const dst = xc + (oh * SH - ti) * W - tj
          const src = row + oh * OW
          // Storing into a Float32Array rounds the float64 sum of two float32s to float32: fl32(dx + col), exactly.
          for (let ow = owLo; ow < owHi; ow++) dx[dst + ow * SW] = dx[dst + ow * SW]! + cols[src + ow]!
        }
      }
    }
  }
}

/** About this many float32 of im2col columns per product (16 MB): the samples of a group. */
const GROUP_ELEMENTS = 1 << 22

/**
 * The im2col + GEMM family on the float32 GEMM `gemmOf()` returns, asked once per call (so a
 * family whose GEMM follows the thread count follows it call by call), with about
 * `groupElements` float32 of im2col columns per product (tests make it small to cross groups).
 */
export const makeFastConv32 = (gemmOf: () => Gemm32, groupElements = GROUP_ELEMENTS): Conv32Kernels => {
  /** Samples per product for this geometry (at least 1, at most N). */
  const groupOf = (g: ConvWindow): number =>
    Math.min(g.N, Math.max(1, Math.floor(groupElements / Math.max(1, g.C * g.KH * g.KW * g.OH * g.OW))))
  return withBackward({
    /** Per group of G samples: out (F × G·P) = W (F × K) · cols (K × G·P), each row from its bias; then into y. */
    forward: (g, x, w, b, y, relu) => {
      checkForward(g, x, w, b, y)
      const gemm = gemmOf()
      const { N, C, F, KH, KW } = g
      const K = C * KH * KW
      const P = g.OH * g.OW
      const G = groupOf(g)
      const cols = new Float32Array(K * G * P)
      const out = new Float32Array(F * G * P)
      for (let n0 = 0; n0 < N; n0 += G) {
        const size = Math.min(G, N - n0)
        const ld = size * P
        if (size < G) cols.fill(0) // a last, smaller group: rows ld long from now on; padding must be 0 again
        for (let s = 0; s < size; s++) im2col32(g, x, n0 + s, cols, ld, s * P)
        if (b !== undefined) for (let f = 0; f < F; f++) out.fill(b[f]!, f * ld, (f + 1) * ld)
        gemm(F, ld, K, view32(w, F, K), view32(cols, K, ld), out, 0, b !== undefined)
        for (let s = 0; s < size; s++) {
          for (let f = 0; f < F; f++) y.set(out.subarray(f * ld + s * P, f * ld + (s + 1) * P), ((n0 + s) * F + f) * P)
        }
      }
      if (relu === true) reluInPlace32(y)
    },

    /** Per group: dcols (K × G·P) = Wᵀ (K × F) · dy (F × G·P, gathered), then col2im sample by sample. */
    inputGrad: (g, dy, w, dx) => {
      checkInputGrad(g, dy, w, dx)
      const gemm = gemmOf()
      const { N, C, F, KH, KW } = g
      const K = C * KH * KW
      const P = g.OH * g.OW
      const G = groupOf(g)
      const dyG = new Float32Array(F * G * P)
      const dcols = new Float32Array(K * G * P)
      dx.fill(0)
      for (let n0 = 0; n0 < N; n0 += G) {
        const size = Math.min(G, N - n0)
        const ld = size * P
        gatherRows(dy, n0, size, F, P, dyG)
        gemm(K, ld, F, view32(w, F, K, true), view32(dyG, F, ld), dcols, 0, false)
        for (let s = 0; s < size; s++) col2im32(g, dcols, ld, s * P, n0 + s, dx)
      }
    },

    /** dW (F × K) = Σ over groups of dy (F × G·P, gathered) · colsᵀ (G·P × K), accumulated group by group. */
    kernelGrad: (g, x, dy, dw) => {
      checkKernelGrad(g, x, dy, dw)
      const gemm = gemmOf()
      const { N, C, F, KH, KW } = g
      const K = C * KH * KW
      const P = g.OH * g.OW
      const G = groupOf(g)
      const cols = new Float32Array(K * G * P)
      const dyG = new Float32Array(F * G * P)
      for (let n0 = 0; n0 < N; n0 += G) {
        const size = Math.min(G, N - n0)
        const ld = size * P
        if (size < G) cols.fill(0)
        for (let s = 0; s < size; s++) im2col32(g, x, n0 + s, cols, ld, s * P)
        gatherRows(dy, n0, size, F, P, dyG)
        gemm(F, K, ld, view32(dyG, F, ld), view32(cols, K, ld, true), dw, 0, n0 > 0)
      }
      if (N === 0) dw.fill(0)
    },
  })
}

/** dyG (F × size·P, row-major) = the planes dy[n0 + s, f] laid side by side: row f holds samples n0 … n0+size−1. */
const gatherRows = (dy: Float32Array, n0: number, size: number, F: number, P: number, dyG: Float32Array): void => {
  const ld = size * P
  for (let s = 0; s < size; s++) {
    for (let f = 0; f < F; f++) dyG.set(dy.subarray(((n0 + s) * F + f) * P, ((n0 + s) * F + f + 1) * P), f * ld + s * P)
  }
}

/** im2col + the plain-TypeScript float32 GEMM (kernel family 'js'): naiveConv32's bits. */
export const fastConv32: Conv32Kernels = makeFastConv32(() => gemm32Blocked)

/** im2col in TypeScript + the WebAssembly f32x4 GEMM: what fastConv32Wasm runs when its products do not fit in memory. */
const im2colOnWasmGemm32 = makeFastConv32(() => gemm32For('wasm'))

/** No array: an operand the WebAssembly backward pass does not read (x without dw, w without dx). */
const unused = new Float32Array(0)

/**
 * im2col, the f32x4 GEMM and col2im all in WebAssembly (./wasm/conv32.ts) on the thread count in
 * use (kernel family 'wasm'): naiveConv32's bits, on one thread or two.
 */
export const fastConv32Wasm: Conv32Kernels = {
  forward: (g, x, w, b, y, relu) => {
    checkForward(g, x, w, b, y)
    if (!conv32ForwardWasm(threads(), g, x, w, b, y, relu === true)) im2colOnWasmGemm32.forward(g, x, w, b, y, relu)
  },
  inputGrad: (g, dy, w, dx) => {
    checkInputGrad(g, dy, w, dx)
    if (!conv32BackwardWasm(threads(), g, unused, dy, w, dx, undefined)) im2colOnWasmGemm32.inputGrad(g, dy, w, dx)
  },
  kernelGrad: (g, x, dy, dw) => {
    checkKernelGrad(g, x, dy, dw)
    if (!conv32BackwardWasm(threads(), g, x, dy, unused, undefined, dw)) im2colOnWasmGemm32.kernelGrad(g, x, dy, dw)
  },
  backward: (g, x, dy, w, dx, dw, db, yRelu) => {
    checkKernelGrad(g, x, dy, dw)
    if (dx !== undefined) checkInputGrad(g, dy, w, dx)
    if (db !== undefined) need('db', db, g.F)
    if (yRelu !== undefined) need('y', yRelu, ySize(g))
    if (!conv32BackwardWasm(threads(), g, x, dy, w, dx, dw, db, yRelu)) im2colOnWasmGemm32.backward(g, x, dy, w, dx, dw, db, yRelu)
  },
}

/** The float32 family `useKernels` selects: the naive loops under 'reference', im2col + that family's GEMM otherwise. */
export const conv32Kernels = (): Conv32Kernels => {
  switch (resolveKernels()) {
    case 'reference':
      return naiveConv32
    case 'js':
      return fastConv32
    case 'wasm':
      return fastConv32Wasm
  }
}
