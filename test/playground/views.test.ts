import { describe, expect, test } from 'vitest'
import { T } from 'chainrule'
import { centreCrop, kernelPictures, unitHeatmaps } from '../../playground/ui/views.ts'

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

  test('units and filters are numbered from 0, as the matrices and the check’s coordinates index them (filter 5 is W[5])', () => {
    const titles = (spec: unknown): string[] => [...JSON.stringify(spec).matchAll(/"title":"((?:unit|filter) \d+)"/g)].map((m) => m[1]!)
    const maps = { layer: 1, name: 'relu 1', units: [0, 1, 2].map((unit) => ({ unit, values: new Float64Array(4) })), min: 0, max: 1 }
    expect(titles(unitHeatmaps(maps, 2))).toEqual(['unit 0', 'unit 1', 'unit 2'])
    expect(titles(kernelPictures(T.zeros([3, 1, 2, 2]), 'W'))).toEqual(['filter 0', 'filter 1', 'filter 2'])
  })
})
