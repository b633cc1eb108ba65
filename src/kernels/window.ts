/**
 * The geometry of a 2-D sliding window (a convolution kernel or a pooling window) over an NCHW
 * batch, shared by the conv and pool kernels and by the layers that size them at init.
 *
 * Along one axis, output position o reads input positions  o·s − p + t·d  for taps t = 0..k−1,
 * where s is the stride, p the padding before the first input and d the dilation. Positions
 * outside 0..size−1 are padding. The window spans (k−1)·d + 1 inputs, so with p before and q
 * after the input,
 *
 *   out = ⌊(size + p + q − ((k−1)·d + 1)) / s⌋ + 1      (and the window must fit: size + p + q ≥ span)
 */

/**
 * A window over an [N, C, H, W] input: kernel KH×KW, strides SH, SW, dilations DH, DW, padding
 * PT rows above and PL columns left of the input (padding below and right is implied by OH, OW),
 * and an [N, C', OH, OW] output.
 */
export interface Window2d {
  /** Batch size, input channels, input height and width. */
  readonly N: number
  readonly C: number
  readonly H: number
  readonly W: number
  /** Window (kernel) height and width, in taps. */
  readonly KH: number
  readonly KW: number
  /** Strides: how far the window moves per output row / column. */
  readonly SH: number
  readonly SW: number
  /** Dilations: the distance between neighbouring taps (1 = contiguous). */
  readonly DH: number
  readonly DW: number
  /** Padding above the first row and left of the first column. */
  readonly PT: number
  readonly PL: number
  /** Output height and width. */
  readonly OH: number
  readonly OW: number
}

/** A length check for the kernels named `who`: need(what, a, n) throws a RangeError unless a holds n values. */
export const lengthCheck =
  (who: string) =>
  (what: string, a: { readonly length: number }, n: number): void => {
    if (a.length !== n) throw new RangeError(`${who}: ${what} has ${a.length} values, the geometry needs ${n}`)
  }

/** The number of values of a pooling window's input (N×C×H×W) and output (N×C×OH×OW). */
export const inSize = (g: Window2d): number => g.N * g.C * g.H * g.W
export const outSize = (g: Window2d): number => g.N * g.C * g.OH * g.OW

/** x's flat index of tap (i, j) of output (oh, ow) in plane nc (a sample's channel), or −1 when that tap is padding. */
export const tapIndex = (g: Window2d, nc: number, oh: number, ow: number, i: number, j: number): number => {
  const h = oh * g.SH - g.PT + i * g.DH
  const w = ow * g.SW - g.PL + j * g.DW
  return h < 0 || h >= g.H || w < 0 || w >= g.W ? -1 : (nc * g.H + h) * g.W + w
}

/** Inputs a window of k taps at dilation d spans: (k − 1)·d + 1. */
export const span = (k: number, d: number): number => (k - 1) * d + 1

/** Output positions along one axis (see the header); 0 or less when the window does not fit. */
export const outputSize = (size: number, k: number, s: number, d: number, padBefore: number, padAfter: number): number =>
  Math.floor((size + padBefore + padAfter - span(k, d)) / s) + 1

/**
 * 'same' padding along one axis: enough to give ⌈size / s⌉ outputs, split as evenly as possible
 * with the odd one after (the TensorFlow convention), as [before, after].
 * @example samePadding(28, 5, 1, 1) // [2, 2]
 */
export const samePadding = (size: number, k: number, s: number, d: number): readonly [number, number] => {
  const out = Math.ceil(size / s)
  const total = Math.max((out - 1) * s + span(k, d) - size, 0)
  const before = Math.floor(total / 2)
  return [before, total - before]
}

/** Padding as layers accept it: 'valid' (none), 'same', one number for both axes, or [rows, columns]. */
export type Padding = 'valid' | 'same' | number | readonly [number, number]

/** A number for both axes, or [height, width]. */
export type Pair = number | readonly [number, number]

/** [a, a] for a number, the pair itself otherwise. */
export const pair = (v: Pair): readonly [number, number] => (typeof v === 'number' ? [v, v] : v)

/** Padding of one axis as [before, after] for an input of `size`. */
export const resolvePadding = (padding: Padding, axis: 0 | 1, size: number, k: number, s: number, d: number): readonly [number, number] => {
  if (padding === 'valid') return [0, 0]
  if (padding === 'same') return samePadding(size, k, s, d)
  const p = pair(padding)[axis]
  return [p, p]
}

/** The options of a window, resolved to numbers per axis. */
export interface WindowOptions {
  readonly kernel: readonly [number, number]
  readonly stride: readonly [number, number]
  readonly dilation: readonly [number, number]
  readonly padding: Padding
}

/**
 * Sizes a window over a per-example [C, H, W] input. Returns the window (for batch N) and the
 * padding used, or a message saying why the window does not fit.
 */
export const planWindow = (
  o: WindowOptions,
  C: number,
  H: number,
  W: number,
  N = 1,
): { readonly window: Window2d; readonly pad: readonly [number, number, number, number] } | string => {
  const [KH, KW] = o.kernel
  const [SH, SW] = o.stride
  const [DH, DW] = o.dilation
  const [PT, PB] = resolvePadding(o.padding, 0, H, KH, SH, DH)
  const [PL, PR] = resolvePadding(o.padding, 1, W, KW, SW, DW)
  const OH = outputSize(H, KH, SH, DH, PT, PB)
  const OW = outputSize(W, KW, SW, DW, PL, PR)
  if (H + PT + PB < span(KH, DH) || W + PL + PR < span(KW, DW)) {
    const dilated = DH > 1 || DW > 1 ? ` (dilated to ${span(KH, DH)}x${span(KW, DW)})` : ''
    return `window ${KH}x${KW}${dilated} is larger than the padded input ${H + PT + PB}x${W + PL + PR} (input ${H}x${W}, padding ${PT},${PB} rows and ${PL},${PR} columns)`
  }
  return { window: { N, C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW }, pad: [PT, PB, PL, PR] }
}

/** The same window (or conv window) for a batch of N. */
export const withBatch = <G extends Window2d>(w: G, N: number): G => ({ ...w, N })
