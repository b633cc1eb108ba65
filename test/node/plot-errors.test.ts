import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import * as Plot from '../../src/plot/index.ts'
import { svgToPng, toPng, toSvg, toSvgAsync, toVega, writePlot } from '../../src/node/index.ts'
import { MARKS } from '../../src/node/plot-marks.ts'

// A spec vega-lite or vega cannot read (one written by hand) fails inside them with a TypeError
// about their internals: the renderers throw a PlotError naming the function called and what
// failed, and keep the original error as its cause.

const quiet = { onWarning: (): void => {} }
const dir = mkdtempSync(join(tmpdir(), 'chainrule-plot-errors-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const caught = (f: () => unknown): Plot.PlotError => {
  try {
    f()
  } catch (e) {
    if (e instanceof Plot.PlotError) return e
    throw new Error(`expected a PlotError, got ${String(e)}`)
  }
  throw new Error('expected a PlotError, got none')
}

// layers that are not a list: vega-lite calls spec.layer.map
const badLayers = { data: { values: [{ a: 1 }] }, layer: 5 } as unknown as Plot.VegaLiteSpec

describe('a spec vega-lite cannot compile', () => {
  test.each([
    ['writePlot', () => writePlot(badLayers, join(dir, 'bad.png'), quiet)],
    ['writePlot', () => writePlot(badLayers, join(dir, 'bad.svg'), quiet)],
    ['toSvg', () => toSvg(badLayers, quiet)],
    ['toPng', () => toPng(badLayers, quiet)],
    ['toVega', () => toVega(badLayers, quiet)],
  ])('%s: a PlotError naming it, saying vega-lite could not compile the spec, with the TypeError as its cause', (name, f) => {
    const e = caught(f)
    const compile = 'vega-lite could not compile the spec: spec.layer.map is not a function'
    expect(e.message.startsWith(`${name}: ${compile}; is it a valid Vega-Lite spec?`)).toBe(true)
    expect(e.cause).toBeInstanceOf(TypeError)
  })
  test('toSvgAsync rejects with the same PlotError', async () => {
    await expect(toSvgAsync(badLayers, quiet)).rejects.toThrow(/^toSvgAsync: vega-lite could not compile the spec: /)
  })
  test('nothing is written, not even a temp file', () => {
    expect(readdirSync(dir).filter((n) => n.includes('bad'))).toEqual([])
  })
  test('a spec that is not an object is named as such', () => {
    for (const bad of ['history.png', null, [Plot.learningRate((s) => 1 / (1 + s), { steps: 5 })]])
      expect(caught(() => toSvg(bad as unknown as Plot.VegaLiteSpec, quiet)).message).toMatch(
        /^toSvg: expected a Vega-Lite spec \(an object, as the Plot\.\* builders make\), got (string|null|an array)$/,
      )
  })
  test('writePlot checks the spec for every format, .json too, and writes nothing for a bad one', () => {
    const file = join(dir, 'not-a-spec.json')
    expect(caught(() => writePlot('hello' as unknown as Plot.VegaLiteSpec, file)).message).toBe(
      'writePlot: expected a Vega-Lite spec (an object, as the Plot.* builders make), got string',
    )
    expect(readdirSync(dir)).not.toContain('not-a-spec.json')
  })
})

describe('other steps that fail', () => {
  test('an expression that does not parse', () => {
    const spec = {
      mark: 'line',
      data: { values: [{ a: 1 }] },
      encoding: { x: { field: 'a', type: 'quantitative' } },
      transform: [{ calculate: 'datum.a +', as: 'b' }],
    } as Plot.VegaLiteSpec
    const e = caught(() => writePlot(spec, join(dir, 'expr.svg'), quiet))
    expect(e.message).toMatch(/^writePlot: vega-lite could not compile the spec: Unexpected end of input; /)
    expect(e.cause).toBeInstanceOf(Error)
  })
  test('svgToPng given text that is not SVG: the SVG is named, not a spec', () => {
    const e = caught(() => svgToPng('<svg nope'))
    expect(e.message).toMatch(/^svgToPng: resvg could not read the SVG: .*; is it an SVG document, such as toSvg gives\?$/)
  })
  test('writePlot given a directory says so', () => {
    expect(() =>
      writePlot(
        Plot.learningRate((s) => 1 / (1 + s), { steps: 5 }),
        dir,
      ),
    ).toThrow(
      `writePlot: cannot tell the format of '${dir}'; end the name with .png, .svg or .json ` +
        `('${dir}' is a directory: give a file name in it)`,
    )
  })
})

describe('a mark or field type Vega-Lite does not know is named, with where it is in the spec and the known ones', () => {
  const data = { values: [{ a: 1, b: 2 }] }
  const x = { field: 'a', type: 'quantitative' }
  const marks = 'arc, area, bar, boxplot, circle, errorband, errorbar, geoshape, image, line, point, rect, rule, square, text, tick, trail'
  const spec = (s: object): Plot.VegaLiteSpec => ({ data, ...s }) as unknown as Plot.VegaLiteSpec
  test.each<[string, object, string]>([
    [
      'a misspelt mark',
      { mark: 'lin', encoding: { x } },
      `spec.mark: unknown mark 'lin' (did you mean 'line'?); Vega-Lite's marks are ${marks}`,
    ],
    ['a mark in the wrong case', { mark: 'Bar' }, "spec.mark: unknown mark 'Bar' (did you mean 'bar'?)"],
    ['a mark definition', { mark: { type: 'pont', filled: true } }, "spec.mark.type: unknown mark 'pont' (did you mean 'point'?)"],
    ['a mark far from any', { mark: 'scatter' }, `spec.mark: unknown mark 'scatter'; Vega-Lite's marks are ${marks}`],
    ['a mark not a string', { mark: 3 }, `spec.mark: expected a mark (a string), got 3; Vega-Lite's marks are ${marks}`],
    [
      'a mark in a layer',
      { layer: [{ mark: 'line', encoding: { x } }, { mark: 'rul' }] },
      "spec.layer[1].mark: unknown mark 'rul' (did you mean 'rule'?)",
    ],
    [
      'a mark in a panel',
      { hconcat: [{ mark: 'bar' }, { vconcat: [{ mark: 'tik' }] }] },
      "spec.hconcat[1].vconcat[0].mark: unknown mark 'tik'",
    ],
    [
      'a mark in a facet',
      { facet: { row: { field: 'b' } }, spec: { mark: 'arrea' } },
      "spec.spec.mark: unknown mark 'arrea' (did you mean 'area'?)",
    ],
    [
      'a misspelt field type',
      { mark: 'line', encoding: { x: { field: 'a', type: 'quantitive' } } },
      "spec.encoding.x.type: unknown field type 'quantitive' (did you mean 'quantitative'?); Vega-Lite's field types are quantitative,",
    ],
    [
      'a field type in a tooltip list',
      { mark: 'point', encoding: { x, tooltip: [x, { field: 'b', type: 'number' }] } },
      "spec.encoding.tooltip[1].type: unknown field type 'number'",
    ],
  ])('%s', (_, s, message) => {
    for (const [name, render] of [
      ['toSvg', () => toSvg(spec(s), quiet)],
      ['toVega', () => toVega(spec(s), quiet)],
      ['writePlot', () => writePlot(spec(s), join(dir, 'mark.svg'), quiet)],
    ] as const) {
      const e = caught(render)
      expect(e.message.startsWith(`${name}: ${message}`), e.message).toBe(true)
    }
  })
  test('every mark in the list is one vega-lite compiles, so the list holds no name it would refuse', () => {
    for (const mark of MARKS) expect(() => toVega(spec({ mark, encoding: { x } }), quiet), mark).not.toThrow()
  })
  test('a spec whose marks and types are right passes the check', () => {
    expect(toSvg(spec({ layer: [{ mark: { type: 'line' }, encoding: { x, y: { field: 'b', type: 'quantitative' } } }] }), quiet)).toMatch(
      /^<svg/,
    )
  })
})
