/** A curried T function given the tensor in its first call (T.reshape(x, [2, 3])) says where the tensor goes. */
import { describe, expect, test } from 'vitest'
import { T } from '../../src/index.ts'

describe('curried T functions given a tensor first', () => {
  const x = T.zeros([2, 3])
  const loose = T as unknown as Record<string, (...args: unknown[]) => unknown> // plain JavaScript's view of T
  for (const [name, usage] of [
    ['reshape', 'T.reshape([2, 3])(x)'],
    ['transpose', 'T.transpose()(x)'],
    ['concat', 'T.concat(0)([a, b])'],
    ['sumAxis', 'T.sumAxis(0)(x)'],
    ['meanAxis', 'T.meanAxis(0)(x)'],
  ] as const) {
    test(`T.${name}(x, …) is an error at once, showing ${usage}`, () => {
      expect(() => loose[name]!(x, 0)).toThrow(T.TensorError)
      expect(() => loose[name]!(x, 0)).toThrow(
        new RegExp(
          `^T\\.${name}: its first call takes .*, not a tensor; the tensor goes in a second call: ${usage.replace(/[.()[\]]/g, '\\$&')}$`,
        ),
      )
    })
  }
  test('the usual calls still work', () => {
    expect(T.reshape([3, 2])(x).shape).toEqual([3, 2])
    expect(T.transpose()(x).shape).toEqual([3, 2])
    expect(T.concat(0)([x, x]).shape).toEqual([4, 3])
    expect(T.sumAxis(0)(x).shape).toEqual([3])
    expect(T.meanAxis(1)(x).shape).toEqual([2])
  })
})
