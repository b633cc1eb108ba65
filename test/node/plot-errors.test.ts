import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import * as Plot from '../../src/plot/index.ts'
import { svgToPng, toPng, toSvg, toSvgAsync, toVega, writePlot } from '../../src/node/index.ts'

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

// an unknown mark: vega-lite reads properties of the mark's definition, which is undefined
const badMark = {
  data: { values: [{ a: 1 }] },
  mark: 'nope',
  encoding: { x: { field: 'a', type: 'quantitative' } },
} as unknown as Plot.VegaLiteSpec

describe('a spec vega-lite cannot compile', () => {
  test.each([
    ['writePlot', () => writePlot(badMark, join(dir, 'bad.png'), quiet)],
    ['writePlot', () => writePlot(badMark, join(dir, 'bad.svg'), quiet)],
    ['toSvg', () => toSvg(badMark, quiet)],
    ['toPng', () => toPng(badMark, quiet)],
    ['toVega', () => toVega(badMark, quiet)],
  ])('%s: a PlotError naming it, saying vega-lite could not compile the spec, with the TypeError as its cause', (name, f) => {
    const e = caught(f)
    const compile = "vega-lite could not compile the spec: Cannot read properties of undefined (reading 'filled')"
    expect(e.message.startsWith(`${name}: ${compile}; is it a valid Vega-Lite spec?`)).toBe(true)
    expect(e.cause).toBeInstanceOf(TypeError)
  })
  test('toSvgAsync rejects with the same PlotError', async () => {
    await expect(toSvgAsync(badMark, quiet)).rejects.toThrow(/^toSvgAsync: vega-lite could not compile the spec: /)
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
