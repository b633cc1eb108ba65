import { describe, expect, test } from 'vitest'
import { T } from 'chainrule'
import { centreCrop } from '../../playground/ui/views.ts'

describe('views: what the page draws of a big tensor', () => {
  test('centreCrop takes the middle rows and columns of the first example’s first channel', () => {
    // [2, 3, 10, 9]: value = its flat index, so each picked value says where it came from
    const t = T.fromArray(
      [2, 3, 10, 9],
      Float64Array.from({ length: 2 * 3 * 10 * 9 }, (_, i) => i),
    )
    const { t: crop, row, col } = centreCrop(t, 4)
    expect(crop.shape).toEqual([4, 4])
    expect([row, col]).toEqual([3, 2])
    expect([...crop.data]).toEqual([3, 4, 5, 6].flatMap((r) => [2, 3, 4, 5].map((c) => r * 9 + c)))
  })

  test('centreCrop of an image smaller than the crop is the whole channel', () => {
    const t = T.fromArray(
      [1, 2, 2, 3],
      Float64Array.from({ length: 12 }, (_, i) => i),
    )
    const { t: crop, row, col } = centreCrop(t, 8)
    expect(crop.shape).toEqual([2, 3])
    expect([row, col]).toEqual([0, 0])
    expect([...crop.data]).toEqual([0, 1, 2, 3, 4, 5])
  })
})
