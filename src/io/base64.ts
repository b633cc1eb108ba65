/**
 * Base64 (RFC 4648, the standard alphabet with `=` padding), written out so the core needs no
 * Node `Buffer` and no browser `btoa`. Decoding is strict: only canonical base64 is accepted
 * (length a multiple of 4, padding only at the end, unused bits zero), so every byte string
 * has exactly one encoding and any corruption of a character is caught or changes the bytes.
 */
import * as E from 'fp-ts/lib/Either.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0))
/** Sextet value of each ASCII code, 255 for a character outside the alphabet (a constant table). */
const VALUE: Uint8Array = (() => {
  const v = new Uint8Array(256).fill(255)
  for (let i = 0; i < 64; i++) v[CODES[i]!] = i
  return v
})()
const PAD = 61 // '='

/**
 * Bytes as base64 text.
 * @example encodeBase64(new Uint8Array([1, 2, 3, 4])) // "AQIDBA=="
 */
export const encodeBase64 = (bytes: Uint8Array): string => {
  const n = bytes.length
  const out = new Uint8Array(4 * Math.ceil(n / 3))
  let o = 0
  let i = 0
  for (; i + 2 < n; i += 3) {
    const w = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out[o++] = CODES[w >>> 18]!
    out[o++] = CODES[(w >>> 12) & 63]!
    out[o++] = CODES[(w >>> 6) & 63]!
    out[o++] = CODES[w & 63]!
  }
  if (i < n) {
    const b0 = bytes[i]!
    const b1 = i + 1 < n ? bytes[i + 1]! : 0
    const w = (b0 << 16) | (b1 << 8)
    out[o++] = CODES[w >>> 18]!
    out[o++] = CODES[(w >>> 12) & 63]!
    out[o++] = i + 1 < n ? CODES[(w >>> 6) & 63]! : PAD
    out[o++] = PAD
  }
  return new TextDecoder().decode(out)
}

/**
 * The number of bytes base64 text decodes to, or Left(reason) when its length or padding is not
 * canonical. Reads only the length and the last two characters, so it is cheap on huge strings.
 */
export const decodedLength = (s: string): E.Either<string, number> => {
  const len = s.length
  if (len % 4 !== 0) return E.left(`base64 length ${len} is not a multiple of 4 (the text was truncated or padded wrongly)`)
  if (len === 0) return E.right(0)
  const pad = s.charCodeAt(len - 1) === PAD ? (s.charCodeAt(len - 2) === PAD ? 2 : 1) : 0
  return E.right((len / 4) * 3 - pad)
}

/**
 * Decodes canonical base64 into `out`, which must have exactly decodedLength(s) bytes. Returns
 * Left(reason) naming the first bad character and its position.
 */
export const decodeBase64Into = (s: string, out: Uint8Array): E.Either<string, Uint8Array> => {
  const len = s.length
  const n = decodedLength(s)
  if (E.isLeft(n)) return n
  if (n.right !== out.length) return E.left(`base64 text decodes to ${n.right} bytes, the buffer holds ${out.length}`)
  const pad = (len / 4) * 3 - n.right
  const full = pad === 0 ? len : len - 4 // characters in complete, unpadded groups
  const bad = (k: number): E.Either<string, never> => {
    const c = s.charCodeAt(k)
    const shown = c === PAD ? "'=' (padding before the end)" : c >= 32 && c < 127 ? `'${s[k]}'` : `character code ${c}`
    return E.left(`invalid base64 ${shown} at character ${k}`)
  }
  let o = 0
  for (let k = 0; k < full; k += 4) {
    // a code above 255 indexes past the table: undefined, read as 255 (invalid)
    const a = VALUE[s.charCodeAt(k)] ?? 255
    const b = VALUE[s.charCodeAt(k + 1)] ?? 255
    const c = VALUE[s.charCodeAt(k + 2)] ?? 255
    const d = VALUE[s.charCodeAt(k + 3)] ?? 255
    if ((a | b | c | d) > 63) {
      for (let j = k; j < k + 4; j++) if ((VALUE[s.charCodeAt(j)] ?? 255) > 63) return bad(j)
    }
    const w = (a << 18) | (b << 12) | (c << 6) | d
    out[o++] = w >>> 16
    out[o++] = (w >>> 8) & 255
    out[o++] = w & 255
  }
  if (pad > 0) {
    const k = len - 4
    const last = pad === 2 ? 2 : 3 // data characters in the final group
    const v: number[] = []
    for (let j = k; j < k + last; j++) {
      const x = VALUE[s.charCodeAt(j)] ?? 255
      if (x > 63) return bad(j)
      v.push(x)
    }
    const w = (v[0]! << 18) | (v[1]! << 12) | ((v[2] ?? 0) << 6)
    if (pad === 2 ? (w & 0xffff) !== 0 : (w & 0xff) !== 0)
      return E.left(`non-canonical base64: unused bits before the padding at character ${k + last - 1} are not zero`)
    out[o++] = w >>> 16
    if (pad === 1) out[o++] = (w >>> 8) & 255
  }
  return E.right(out)
}

/**
 * Base64 text as bytes, or Left(reason).
 * @example decodeBase64("AQIDBA==") // Right(Uint8Array [1, 2, 3, 4])
 */
export const decodeBase64 = (s: string): E.Either<string, Uint8Array> => {
  const n = decodedLength(s)
  return E.isLeft(n) ? n : decodeBase64Into(s, new Uint8Array(n.right))
}
