import { describe, expect, test } from 'vitest'
import { T } from '../../src/index.ts'

// Arrays a program did not make itself: sparse, cyclic, absurdly nested, typed arrays of other kinds, shapes that are not arrays.
describe('T constructors given hostile arrays and shapes', () => {
  test('a hole in a sparse array is an error naming it, not a silent 0', () => {
    expect(() => T.tensor([1, , 3] as T.Nested)).toThrow('tensor: expected a number at [1], got a hole (an empty slot of a sparse array)')
    const rows: number[][] = [[1, 2], new Array<number>(2)]
    expect(() => T.tensor(rows)).toThrow('tensor: expected a number at [1][0], got a hole')
  })

  test('a cyclic or absurdly deep nesting is an error, not an endless loop or a stack overflow', () => {
    const cyclic: T.Nested[] = []
    cyclic.push(cyclic)
    expect(() => T.tensor(cyclic)).toThrow('tensor: the arrays are nested more than 64 deep (a tensor has at most 64 axes)')
    let deep: T.Nested = 1
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(() => T.tensor(deep)).toThrow('nested more than 64 deep')
  })

  test('a typed array inside nested arrays is named, with the function that takes one', () => {
    const t = [new Float64Array([1, 2])] as unknown as T.Nested
    expect(() => T.tensor(t)).toThrow('tensor: expected a number at [0], got a Float64Array (use T.fromData for typed arrays)')
  })

  test('a shape that is not an array names the function and what a shape is', () => {
    const bad = (s: unknown): T.Shape => s as T.Shape
    expect(() => T.zeros(bad(5))).toThrow('zeros: a shape is an array of non-negative integers (e.g. [2, 3]), got number')
    expect(() => T.zeros(bad('23'))).toThrow("zeros: a shape is an array of non-negative integers (e.g. [2, 3]), got the string '23'")
    expect(() => T.fromData(bad(undefined), new Float64Array(2))).toThrow('fromData: a shape is an array')
  })

  test('fromData and fromData32 take only their own typed array, checked by type', () => {
    const wrap = (d: unknown): Float64Array => d as Float64Array
    expect(() => T.fromData([2], wrap(new Int32Array(2)))).toThrow(
      'fromData: data must be a Float64Array, got a Int32Array (copy the values into one: Float64Array.from(values), or T.fromArray(shape, values))',
    )
    expect(() => T.fromData([2], wrap([1, 2]))).toThrow('fromData: data must be a Float64Array, got an array')
    expect(() => T.fromData32([2], new Float64Array(2) as unknown as Float32Array)).toThrow(
      'fromData32: data must be a Float32Array, got a Float64Array',
    )
  })

  test('a length no buffer can hold is a TensorError saying so, before anything is allocated', () => {
    const huge = { length: 1e10 } as ArrayLike<number>
    expect(() => T.fromArray([2], huge)).toThrow('fromArray: shape [2] needs 2 values, got 10000000000')
    expect(() => T.buffer(2e12)).toThrow(T.TensorError)
    expect(() => T.buffer(2e12)).toThrow(
      'cannot allocate 2000000000000 float64 values: a tensor holds an integer number of values in 0..4294967295',
    )
    expect(() => T.buffer32(-1)).toThrow('cannot allocate -1 float32 values')
    expect(() => T.buffer(1.5)).toThrow('cannot allocate 1.5 float64 values')
  })
})
