import * as E from 'fp-ts/Either'
import { describe, expect, it } from 'vitest'
import { IO, Key, L } from '../../src/index.ts'

const model = L.pipe(L.dense(2), L.relu, L.dense(1))
const { params, state } = L.initialize(model, Key.fromSeed(0), [2])
const text = IO.encodeCheckpoint(IO.modelCheckpoint(model, [2], params, state, { note: 'x' }))
const doc = (): Record<string, unknown> & { params: Record<string, unknown>[] } => JSON.parse(text)
const leftOf = <A>(r: E.Either<IO.IoError, A>): IO.IoError => {
  if (E.isRight(r)) throw new Error('expected a Left')
  return r.left
}

describe('hostile checkpoints get short messages and cheap refusals', () => {
  it('a record with twenty thousand extra keys is named in a bounded message: the first keys and how many', () => {
    const d = doc()
    for (let i = 0; i < 20_000; i++) d.params[0]![`k${i}`] = d.params[0]!['b']
    const e = leftOf(IO.decodeCheckpoint(d))
    expect(e.message).toBe(
      'params[0]: a record {W, b, k0, k1, k2, k3, k4, k5, … (20002 keys)} in the checkpoint, but the spec makes a record {W, b} ' +
        '(pipe[0].dense at spec.children[0])',
    )
  })

  it('a key a megabyte long is shortened wherever a message shows it', () => {
    const d = doc()
    d.params[0]!['x'.repeat(1_000_000)] = d.params[0]!['b']
    const e = leftOf(IO.decodeCheckpoint(d))
    expect(e.message.length).toBeLessThan(300)
    expect(e.message).toContain(`{W, b, ${'x'.repeat(40)}…(a key of 1000000 characters)}`)
    const m = { ...doc(), metadata: { ['y'.repeat(100_000)]: Number.NaN } }
    expect(leftOf(IO.decodeCheckpoint(m)).path).toBe(`metadata.${'y'.repeat(40)}…(a key of 100000 characters)`)
  })

  it("an ArrayBuffer (fetch's arrayBuffer()) and a text with a byte-order mark load as the bytes do", () => {
    expect(E.isRight(IO.parseCheckpoint(new TextEncoder().encode(text).buffer))).toBe(true)
    expect(E.isRight(IO.parseCheckpoint(`\uFEFF${text}`))).toBe(true)
  })

  it('bytes starting with a NUL byte are refused as binary before any decoding', () => {
    const e = leftOf(IO.parseCheckpoint(new Uint8Array(1 << 20)))
    expect(e.kind).toBe('not-json')
    expect(e.message).toBe(
      'the bytes are binary, not text: it starts with a NUL byte (0x00); a file of zeros is what a crash during a write that is not ' +
        'atomic can leave',
    )
  })
})

/** The params with the first dense's W replaced by a hand-built value. */
const withW = (W: unknown): typeof params => [{ ...params[0], W }, ...params.slice(1)] as unknown as typeof params

describe('hand-built tensors in what is saved', () => {
  it('a tensor whose data is an Int32Array is named at its path, not by the number inside its shape', () => {
    const bad = withW({ shape: [2, 2], data: new Int32Array(4) })
    expect(() => IO.encodeCheckpoint(IO.modelCheckpoint(model, [2], bad, state))).toThrow(
      "Tree.map: [0].W has a data of class Int32Array: a tensor's data is a Float64Array or a Float32Array",
    )
  })

  it('a tensor whose data is shorter than its shape is named as such, not blamed on a reusing training step', () => {
    const bad = withW({ shape: [2, 2], data: new Float64Array(3) })
    const message = (() => {
      try {
        IO.encodeCheckpoint(IO.modelCheckpoint(model, [2], bad, state))
        return ''
      } catch (e) {
        return e instanceof Error ? e.message : ''
      }
    })()
    expect(message).toContain("params[0].W: holds 3 values where its shape [2, 2] needs 4: a tensor's data holds exactly the values")
    expect(message).not.toContain('reuseBuffers')
  })
})

describe('metadata that JSON.stringify would silently change', () => {
  it('a Map, a Date or a class instance is refused at its path when encoding, not saved as {} or a string', () => {
    const save = (metadata: unknown) => () => IO.encodeCheckpoint(IO.modelCheckpoint(model, [2], params, state, metadata as IO.JsonObject))
    expect(save({ seen: new Map([['a', 1]]) })).toThrow(
      'metadata.seen: a Map is not a JSON value: only plain objects, arrays, strings, finite numbers, booleans and null are ' +
        '(convert it first: a Date with toISOString(), a Map with Object.fromEntries(map))',
    )
    expect(save({ when: [new Date(0)] })).toThrow('metadata.when[0]: a Date is not a JSON value')
    class Run {
      epochs = 3
    }
    expect(save({ run: new Run() })).toThrow('metadata.run: a Run is not a JSON value')
    expect(
      IO.encodeCheckpoint(IO.modelCheckpoint(model, [2], params, state, { plain: Object.assign(Object.create(null), { a: 1 }) })),
    ).toContain('"plain": { "a": 1 }')
  })
})
