import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { defaults } from '../../playground/core/config.ts'
import { build, firstBatch, initialState } from '../../playground/core/build.ts'
import { stepThrough, stageTitle } from '../../playground/core/step.ts'
import { readView, stageId, stageIndex, START, VIEW_PARAMS, viewQuery, type View } from '../../playground/core/view.ts'
import { encode, parse } from '../../playground/core/url.ts'

const xor = { ...defaults('xor'), layers: [{ kind: 'dense', units: 4 }, { kind: 'tanh' }, { kind: 'dense', units: 2 }] } as const
const run = build(xor)
const stages = stepThrough(run, initialState(run), firstBatch(run)).stages

describe('view: the mode, step and stage in the address', () => {
  test('every stage of a step has its own id, named as the page numbers layers, and the id finds the stage again', () => {
    const ids = stages.map((s) => stageId(s, xor.layers))
    expect(ids).toEqual([
      'forward:dense1',
      'forward:tanh1',
      'forward:dense2',
      'loss',
      'backward:dense2',
      'backward:tanh1',
      'backward:dense1',
      'update',
    ])
    stages.forEach((s, i) => {
      const v: View = { mode: 'step', step: 0, stage: stageId(s, xor.layers) }
      expect(stageIndex(v, stages, xor.layers)).toEqual({ index: i, missing: false })
      expect(stageTitle(stages[stageIndex(readView(`?${viewQuery(v)}`).view, stages, xor.layers).index]!)).toBe(stageTitle(s))
    })
  })

  test('law 12 (codecs round-trip): readView(viewQuery(v)) is v for every step view, and for build and train', () => {
    const ids = stages.map((s) => stageId(s, xor.layers))
    const view = fc.record({
      mode: fc.constant('step' as const),
      step: fc.integer({ min: 0, max: 999_999 }),
      stage: fc.option(fc.constantFrom(...ids.slice(1)), { nil: undefined }),
    })
    fc.assert(
      fc.property(view, (v) => {
        expect(readView(`?${encode(xor)}&${viewQuery(v)}`)).toEqual({ view: v, problems: [] })
      }),
    )
    for (const mode of ['build', 'train'] as const) expect(readView(`?${viewQuery({ ...START, mode })}`).view).toEqual({ ...START, mode })
  })

  test('the address counts steps from 1, as the page does, and leaves out the first step and stage', () => {
    expect(viewQuery({ mode: 'step', step: 1, stage: 'backward:dense2' })).toBe('mode=step&step=2&stage=backward:dense2')
    expect(viewQuery({ mode: 'step', step: 0, stage: undefined })).toBe('mode=step')
    expect(viewQuery({ mode: 'train', step: 4, stage: 'loss' })).toBe('mode=train')
    expect(readView('?data=xor').view).toEqual(START)
  })

  test('a view parameter it cannot read is named, with what it takes, and the rest of the view is kept', () => {
    const r = readView('?mode=step&step=0&stage=backward:dense%202')
    expect(r.view).toEqual({ mode: 'step', step: 0, stage: undefined })
    expect(r.problems).toEqual([
      "?step: must be a whole number from 1 (the run's first step) to 1000000, got '0'",
      "?stage: must be loss, update, or forward: or backward: and a layer as the page names it (dense1, relu2), got 'backward:dense 2'",
    ])
    expect(readView('?mode=steps').problems).toEqual(["?mode: must be one of build, train, step, got 'steps'"])
    expect(readView('?step=1.5').problems[0]).toContain("got '1.5'")
  })

  test('a stage the network does not have is found missing, and the step starts at its first stage', () => {
    expect(stageIndex({ mode: 'step', step: 0, stage: 'backward:relu3' }, stages, xor.layers)).toEqual({ index: 0, missing: true })
  })

  test('the configuration codec reads past the view parameters, and refuses them when not told to', () => {
    const q = `?${encode(xor)}&mode=step&step=2&stage=loss`
    expect(parse(q, { ignore: VIEW_PARAMS })._tag).toBe('Right')
    expect(parse(q)._tag).toBe('Left')
  })
})
