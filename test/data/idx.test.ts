import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import {
  decodeIdx,
  decodeIdxHeader,
  encodeIdx,
  IDX_TYPES,
  IdxError,
  MAX_RANK,
  type IdxErrorKind,
  type IdxFile,
  type IdxType,
} from '../../src/data/idx.ts'
import { DataError } from '../../src/data/error.ts'

const SEED = Number(process.env.CHAINRULE_SEED ?? 42)

const right = (r: E.Either<IdxError, IdxFile>): IdxFile => {
  if (E.isLeft(r)) throw new Error(`expected Right, got ${r.left.kind}: ${r.left.message}`)
  return r.right
}
const left = (r: E.Either<IdxError, unknown>): IdxError => {
  if (E.isRight(r)) throw new Error('expected Left, got Right')
  expect(r.left).toBeInstanceOf(IdxError)
  return r.left
}

/** A valid ubyte file: 10 items of 2 × 3, values 0..59. */
const sample = (): Uint8Array => encodeIdx({ type: 'ubyte', shape: [10, 2, 3], data: Array.from({ length: 60 }, (_, i) => i) })
const withByte = (bytes: Uint8Array, at: number, v: number): Uint8Array => {
  const out = bytes.slice()
  out[at] = v
  return out
}
const withDim0 = (bytes: Uint8Array, d: number): Uint8Array => {
  const out = bytes.slice()
  new DataView(out.buffer).setUint32(4, d, false)
  return out
}

describe('encodeIdx / decodeIdx round trip', () => {
  it('encodes the bytes the format specifies (big-endian dims and values)', () => {
    expect(Array.from(encodeIdx({ type: 'ubyte', shape: [3], data: [7, 2, 1] }))).toEqual([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, 1])
    expect(Array.from(encodeIdx({ type: 'short', shape: [1, 1], data: [-2] }))).toEqual([0, 0, 0x0b, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xfe])
  })

  const shape = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 })
  const values: { [K in IdxType]: fc.Arbitrary<number> } = {
    ubyte: fc.integer({ min: 0, max: 255 }),
    sbyte: fc.integer({ min: -128, max: 127 }),
    short: fc.integer({ min: -32768, max: 32767 }),
    int: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    float: fc.float(),
    double: fc.double(),
  }
  for (const type of Object.keys(IDX_TYPES) as IdxType[]) {
    it(`round-trips ${type} values bit for bit`, () => {
      const file = shape.chain((s) =>
        fc
          .array(values[type], { minLength: s.reduce((a, b) => a * b, 1), maxLength: s.reduce((a, b) => a * b, 1) })
          .map((data) => ({ type, shape: s, data })),
      )
      fc.assert(
        fc.property(file, (f) => {
          const bytes = encodeIdx(f)
          const d = right(decodeIdx(bytes))
          expect(d.type).toBe(type)
          expect(d.shape).toEqual(f.shape)
          expect(bytes.length).toBe(4 + 4 * f.shape.length + d.data.length * IDX_TYPES[type].size)
          f.data.forEach((v, i) => expect(Object.is(d.data[i], v)).toBe(true))
        }),
        { seed: SEED, numRuns: 50 },
      )
    })
  }

  it('decodes a Uint8Array view that starts part-way into its buffer', () => {
    const bytes = sample()
    const big = new Uint8Array(bytes.length + 7)
    big.set(bytes, 5)
    const d = right(decodeIdx(big.subarray(5, 5 + bytes.length)))
    expect(d.shape).toEqual([10, 2, 3])
    expect(d.data[59]).toBe(59)
    const s = encodeIdx({ type: 'int', shape: [2], data: [-5, 70000] })
    const big2 = new Uint8Array(s.length + 3)
    big2.set(s, 3)
    expect(Array.from(right(decodeIdx(big2.subarray(3))).data)).toEqual([-5, 70000])
  })

  it('leaves the input bytes unchanged', () => {
    const bytes = sample()
    const before = bytes.slice()
    decodeIdx(bytes)
    decodeIdx(bytes, { first: 3 })
    expect(bytes).toEqual(before)
  })

  it('first: decodes just the first items, still checking the whole file', () => {
    const d = right(decodeIdx(sample(), { first: 2 }))
    expect(d.shape).toEqual([2, 2, 3])
    expect(Array.from(d.data)).toEqual(Array.from({ length: 12 }, (_, i) => i))
    expect(right(decodeIdx(sample(), { first: 0 })).shape).toEqual([0, 2, 3])
    expect(left(decodeIdx(sample().subarray(0, 70), { first: 1 })).kind).toBe('truncated-data')
    const e = left(decodeIdx(sample(), { first: 11 }))
    expect(e.kind).toBe('too-few-items')
    expect(e.message).toMatch(/first 11.*holds 10/)
    expect(() => decodeIdx(sample(), { first: -1 })).toThrow(DataError)
    expect(() => decodeIdx(sample(), { first: 1.5 })).toThrow(/first must be a non-negative integer/)
  })

  it('encodeIdx rejects values that do not fit the type and bad shapes', () => {
    expect(() => encodeIdx({ type: 'ubyte', shape: [2], data: [1, 256] })).toThrow(/value 256 at index 1 does not fit type ubyte/)
    expect(() => encodeIdx({ type: 'sbyte', shape: [1], data: [0.5] })).toThrow(DataError)
    expect(() => encodeIdx({ type: 'ubyte', shape: [3], data: [1, 2] })).toThrow(/needs 3 values, got 2/)
    expect(() => encodeIdx({ type: 'ubyte', shape: [], data: [1] })).toThrow(/1 to 16 dimensions/)
  })
})

describe('decodeIdx: each corruption gets its own error, naming the byte offset', () => {
  it('truncated header: fewer than the 4 magic bytes', () => {
    const e = left(decodeIdx(new Uint8Array([0, 0])))
    expect(e.kind).toBe('truncated-header')
    expect(e.message).toMatch(/4-byte magic number.*only 2 bytes/)
    expect(left(decodeIdx(new Uint8Array(0))).kind).toBe('truncated-header')
  })

  it('truncated header: the file ends inside the dims', () => {
    const e = left(decodeIdx(sample().subarray(0, 10)))
    expect(e).toMatchObject({ kind: 'truncated-header', offset: 10, expected: 16, got: 10 })
    expect(e.message).toMatch(/3 dimensions need a 16-byte header \(4 \+ 4 × 3\), but the file has only 10 bytes/)
  })

  it('bad magic: the first two bytes are not zero, with a hint for gzip files', () => {
    const e = left(decodeIdx(withByte(sample(), 1, 0x42)))
    expect(e).toMatchObject({ kind: 'bad-magic', offset: 1 })
    expect(e.message).toMatch(/bad magic number at bytes 0-1.*got 0x00 0x42/)
    const gz = left(decodeIdx(new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0])))
    expect(gz.kind).toBe('bad-magic')
    expect(gz.message).toMatch(/gzip/)
  })

  it('unknown type: byte 2 is not a type code', () => {
    const e = left(decodeIdx(withByte(sample(), 2, 0x07)))
    expect(e).toMatchObject({ kind: 'unknown-type', offset: 2 })
    expect(e.message).toMatch(/unknown element type 0x07 at byte 2.*0x08 \(ubyte\)/)
  })

  it('bad rank: zero dimensions, or more than MAX_RANK', () => {
    expect(left(decodeIdx(withByte(sample(), 3, 0)))).toMatchObject({ kind: 'bad-rank', offset: 3 })
    const e = left(decodeIdx(withByte(sample(), 3, MAX_RANK + 1)))
    expect(e.kind).toBe('bad-rank')
    expect(e.message).toMatch(/bad number of dimensions 17 at byte 3: expected 1 to 16/)
  })

  it('truncated data: the file ends before the dims say, with expected and actual byte counts', () => {
    const bytes = sample() // 16 header + 60 data bytes
    const e = left(decodeIdx(bytes.subarray(0, 70)))
    expect(e).toMatchObject({ kind: 'truncated-data', offset: 70, expected: 76, got: 70 })
    expect(e.message).toMatch(
      /dims \[10, 2, 3\] of ubyte .* need 60 data bytes from byte 16, so the file should be 76 bytes long, but it has only 70, 6 bytes short/,
    )
  })

  it('trailing bytes: more bytes than the dims say, with expected and actual byte counts', () => {
    const bytes = sample()
    const longer = new Uint8Array(bytes.length + 3)
    longer.set(bytes)
    const e = left(decodeIdx(longer))
    expect(e).toMatchObject({ kind: 'trailing-bytes', offset: 76, expected: 76, got: 79 })
    expect(e.message).toMatch(/should be 76 bytes long, but it has 79: 3 bytes too many from byte 76 on/)
  })

  it('mislabelled dims: a dim too big reads as truncated data, too small as trailing bytes', () => {
    const big = left(decodeIdx(withDim0(sample(), 11)))
    expect(big).toMatchObject({ kind: 'truncated-data', expected: 82, got: 76 })
    expect(big.message).toMatch(/dims \[11, 2, 3\].*dims in the header are too big/)
    const small = left(decodeIdx(withDim0(sample(), 9)))
    expect(small).toMatchObject({ kind: 'trailing-bytes', expected: 70, got: 76 })
    expect(small.message).toMatch(/dims \[9, 2, 3\].*dims in the header are too small/)
  })

  it('too large: dims whose product overflows 2^53 (and nothing huge is allocated)', () => {
    const bytes = new Uint8Array([0, 0, 0x0e, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2])
    const e = left(decodeIdx(bytes))
    expect(e.kind).toBe('too-large')
    expect(e.message).toMatch(/overflow 2\^53/)
    // within 2^53 but far beyond the file: reported as truncated before any allocation
    expect(left(decodeIdx(withDim0(sample(), 0xffffffff))).kind).toBe('truncated-data')
  })

  it('a zero dim makes the file empty, wherever it is among huge dims (no too-large)', () => {
    const huge = [0xff, 0xff, 0xff, 0xff]
    const zero = [0, 0, 0, 0]
    for (const dims of [
      [zero, huge, huge, huge],
      [huge, huge, huge, zero],
    ]) {
      const f = right(decodeIdx(new Uint8Array([0, 0, 0x08, 4, ...dims.flat()])))
      expect(f.data.length).toBe(0)
      expect(f.shape.includes(0)).toBe(true)
    }
  })

  it('takes an ArrayBuffer (as fetch gives) as well as a Uint8Array; anything else is a DataError', () => {
    const bytes = sample()
    const buffer = new ArrayBuffer(bytes.byteLength)
    new Uint8Array(buffer).set(bytes)
    expect(right(decodeIdx(buffer))).toEqual(right(decodeIdx(bytes)))
    expect(E.isRight(decodeIdxHeader(buffer))).toBe(true)
    expect(() => decodeIdx('not bytes' as unknown as Uint8Array)).toThrow(DataError)
    expect(() => decodeIdx('not bytes' as unknown as Uint8Array)).toThrow(
      /decodeIdx: expected the file's bytes as a Uint8Array or an ArrayBuffer, got string/,
    )
  })

  it('decodeIdxHeader reads the header and checks the length without decoding', () => {
    const h = decodeIdxHeader(sample())
    expect(E.isRight(h) && h.right).toEqual({ type: 'ubyte', shape: [10, 2, 3], dataOffset: 16, count: 60 })
  })
})

const KINDS: readonly IdxErrorKind[] = [
  'truncated-header',
  'bad-magic',
  'unknown-type',
  'bad-rank',
  'too-large',
  'truncated-data',
  'trailing-bytes',
]

/** Decoding never throws: it gives a Left of a known kind, or a Right consistent with the bytes. */
const decodesSafely = (bytes: Uint8Array): boolean => {
  const r = decodeIdx(bytes)
  if (E.isLeft(r)) return r.left instanceof IdxError && KINDS.includes(r.left.kind) && r.left.message.length > 0
  const { type, shape, data } = r.right
  const count = shape.reduce((a, b) => a * b, 1)
  return data.length === count && bytes.length === 4 + 4 * shape.length + count * IDX_TYPES[type].size
}

describe('decodeIdx fuzz: never throws on any bytes', () => {
  it('law: random bytes give a Left or a consistent Right', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), decodesSafely), { seed: SEED, numRuns: 300 })
  })

  it('law: random bytes behind a plausible header give a Left or a consistent Right', () => {
    const code = fc.constantFrom(0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x00, 0x0a, 0xff)
    const bytes = fc
      .tuple(code, fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }), fc.uint8Array({ maxLength: 80 }))
      .map(([c, dims, rest]) => {
        const head = new Uint8Array(4 + 4 * dims.length)
        head[2] = c
        head[3] = dims.length
        dims.forEach((d, a) => new DataView(head.buffer).setUint32(4 + 4 * a, d, false))
        const out = new Uint8Array(head.length + rest.length)
        out.set(head)
        out.set(rest, head.length)
        return out
      })
    fc.assert(fc.property(bytes, decodesSafely), { seed: SEED, numRuns: 300 })
  })

  it('law: truncations, byte flips and appended bytes of a valid file give a Left or a consistent Right', () => {
    const valid = fc
      .tuple(
        fc.constantFrom(...(Object.keys(IDX_TYPES) as IdxType[])),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
      )
      .map(([type, shape]) => encodeIdx({ type, shape, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i % 100) }))
    type Mutation = { op: 'truncate'; at: number } | { op: 'flip'; at: number; v: number } | { op: 'append'; extra: Uint8Array }
    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('flip' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('append' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    )
    const apply = (bytes: Uint8Array, m: Mutation): Uint8Array => {
      if (m.op === 'truncate') return bytes.slice(0, m.at % (bytes.length + 1))
      if (m.op === 'flip') return bytes.length === 0 ? bytes : withByte(bytes, m.at % bytes.length, m.v)
      const out = new Uint8Array(bytes.length + m.extra.length)
      out.set(bytes)
      out.set(m.extra, bytes.length)
      return out
    }
    fc.assert(
      fc.property(valid, fc.array(mutation, { minLength: 1, maxLength: 3 }), (bytes, ms) => {
        const before = bytes.slice()
        const mutated = ms.reduce(apply, bytes)
        expect(bytes).toEqual(before)
        return decodesSafely(mutated)
      }),
      { seed: SEED, numRuns: 400 },
    )
  })

  it('law: a truncated valid file is always a Left', () => {
    const bytes = sample()
    for (let k = 0; k < bytes.length; k++) {
      const r = decodeIdx(bytes.subarray(0, k))
      expect(E.isLeft(r) && ['truncated-header', 'truncated-data'].includes(r.left.kind)).toBe(true)
    }
  })
})

describe('encodeIdx given hostile settings', () => {
  it('a type named like an Object.prototype member, a shape that is not an array, a size no array holds: each named', () => {
    const type = 'toString' as 'ubyte'
    expect(() => encodeIdx({ type, shape: [1], data: [1] })).toThrow('encodeIdx: unknown element type toString; expected one of ubyte')
    expect(() => encodeIdx({ type: 'ubyte', shape: '12' as unknown as number[], data: [1] })).toThrow(
      'encodeIdx: shape must be an array of dims, got string',
    )
    const huge = { length: 0xffffffff * 2 } as ArrayLike<number>
    expect(() => encodeIdx({ type: 'double', shape: [0xffffffff, 2], data: huge })).toThrow(
      'encodeIdx: shape [4294967295, 2] of double needs 68719476720 bytes, more than one array holds (2^32)',
    )
  })
})
