/**
 * T.withAllocationLimit: every tensor allocated inside counts against the limit, which refuses
 * before allocating; limits nest (the inner one is counted against the outer), and lift afterwards.
 */
import { describe, expect, test } from 'vitest'
import { Key, T } from '../../src/index.ts'

describe('T.withAllocationLimit', () => {
  test('allocations within the limit run; the one that would pass it throws AllocationLimitError, naming the sizes', () => {
    expect(T.withAllocationLimit(120, () => T.add(T.zeros([40]), T.ones([40])).shape)).toEqual([40]) // 40 + 40 + 40: exactly the limit
    expect(() => T.withAllocationLimit(100, () => [T.zeros([60]), Key.normal(Key.fromSeed(0), [50])])).toThrow(
      new T.AllocationLimitError('50 values would pass the allocation limit in force (40 values left)'),
    )
  })

  test('limits nest: what the inner one allocated counts against the outer one', () => {
    const r = T.withAllocationLimit(100, () => {
      T.withAllocationLimit(1000, () => T.zeros([70])) // the outer limit (100) still holds inside
      return () => T.zeros([40])
    })
    expect(() => T.withAllocationLimit(100, () => (T.withAllocationLimit(1000, () => T.zeros([70])), T.zeros([40])))).toThrow(
      T.AllocationLimitError,
    )
    expect(r().shape).toEqual([40]) // and the limit is lifted once f returns
  })

  test('an Infinity limit changes nothing, and the limit is lifted after a throw too', () => {
    expect(T.withAllocationLimit(Infinity, () => T.zeros([1000]).shape)).toEqual([1000])
    expect(() => T.withAllocationLimit(10, () => T.zeros([11]))).toThrow(T.AllocationLimitError)
    expect(T.zeros([1_000_000]).data.length).toBe(1_000_000)
  })

  test('a limit that is not a number >= 0 is a RangeError', () => {
    for (const bad of [NaN, -1]) expect(() => T.withAllocationLimit(bad, () => 0)).toThrow(RangeError)
  })
})
