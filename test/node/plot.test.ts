import { describe, expect, test } from 'vitest'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { Data, Key, L, Loss, Optim, Train } from '../../src/index.ts'
import * as Plot from '../../src/plot/index.ts'
import { plotCallbacks, toSvg, toSvgAsync, writePlot } from '../../src/node/index.ts'

const spiral = Data.spirals(Key.fromSeed(0), { classes: 3, perClass: 30, noise: 0.1 })
const model = L.pipe(L.dense(8), L.relu, L.dense(3))
const fitOptions = {
  model,
  loss: Loss.softmaxCrossEntropy,
  optimizer: Optim.sgd({ lr: 0.1, momentum: 0.9 }),
  data: spiral,
  batchSize: 30,
  key: Key.fromSeed(1),
}
const { history } = Train.fit({ ...fitOptions, epochs: 3, validation: 0.2 })
const tmp = (): string => mkdtempSync(join(tmpdir(), 'chainrule-plot-'))
const isPng = (bytes: Uint8Array): boolean => bytes.length > 1000 && [...bytes.subarray(0, 8)].join() === '137,80,78,71,13,10,26,10'

describe('toSvg', () => {
  test("the synchronous render gives exactly the document of vega's public async view.toSVG()", async () => {
    const specs = [
      Plot.history(history),
      Plot.confusionMatrix([0, 1, 2, 2], [0, 2, 2, 1]),
      Plot.learningRate((s) => 1 / (1 + s), { steps: 50 }),
    ]
    for (const spec of specs) expect(toSvg(spec)).toBe(await toSvgAsync(spec))
  })
})

describe('rendering is pure and deterministic', () => {
  test('the spec is unchanged by rendering (vega tags the rows it ingests: toVega copies them first)', () => {
    const spec = Plot.confusionMatrix([0, 1, 2, 2], [0, 2, 2, 1])
    const fresh = Plot.confusionMatrix([0, 1, 2, 2], [0, 2, 2, 1])
    toSvg(spec)
    expect(isDeepStrictEqual(spec, fresh)).toBe(true) // symbols included
  })
  test('the same spec gives the same SVG bytes every time (gradient and clip ids restart)', () => {
    const spec = Plot.confusionMatrix([0, 1, 2, 2], [0, 2, 2, 1])
    expect(toSvg(spec)).toBe(toSvg(spec))
  })
})

describe('writePlot', () => {
  test('writes .png, .svg and .json by extension, creating the directory, and returns the absolute path', () => {
    const dir = tmp()
    try {
      const spec = Plot.history(history)
      const png = writePlot(spec, join(dir, 'a/b/history.png'))
      const svg = writePlot(spec, join(dir, 'a/b/history.svg'))
      const json = writePlot(spec, join(dir, 'a/b/history.json'))
      expect(png).toBe(join(dir, 'a/b/history.png'))
      expect(isPng(readFileSync(png))).toBe(true)
      expect(readFileSync(svg, 'utf8')).toMatch(/^<svg/)
      expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual(spec)
      expect(readdirSync(join(dir, 'a/b')).sort()).toEqual(['history.json', 'history.png', 'history.svg']) // no temp files left
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  test('a spec that fails to render leaves the old file whole and no temp file', () => {
    const dir = tmp()
    try {
      const path = join(dir, 'plot.svg')
      writeFileSync(path, 'old')
      const broken = {
        mark: 'line',
        data: { values: [{ a: 1 }] },
        encoding: { x: { field: 'a', type: 'quantitative' } },
        transform: [{ calculate: 'datum.a +', as: 'b' }],
      } as Plot.VegaLiteSpec
      expect(() => writePlot(broken, path)).toThrow()
      expect(readFileSync(path, 'utf8')).toBe('old')
      expect(readdirSync(dir)).toEqual(['plot.svg'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  test('an unknown extension is an error that lists the known ones', () => {
    expect(() => writePlot(Plot.history(history), 'out/x.gif')).toThrow(/end the name with .png, .svg or .json/)
  })
})

describe('plotCallbacks: live plots during fit', () => {
  test('redraws the history every k epochs and at the end, without drawing the last epoch twice', () => {
    const dir = tmp()
    try {
      const writes: number[] = []
      let epochsSeen = 0
      Train.fit({
        ...fitOptions,
        epochs: 5,
        callbacks: [
          { onEpochEnd: () => void epochsSeen++ },
          plotCallbacks({ dir, every: 2, format: 'svg', onWrite: () => void writes.push(epochsSeen) }),
        ],
      })
      expect(writes).toEqual([2, 4, 5])
      expect(readFileSync(join(dir, 'history.svg'), 'utf8')).toContain('loss per epoch')
      expect(readdirSync(dir)).toEqual(['history.svg'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('examples/04-spiral.ts writes its plots and prints the terminal loss curve', () => {
  test('history, decision boundary, learning rate and gradient norms as PNGs', () => {
    const dir = tmp()
    try {
      const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/04-spiral.ts', '--out', dir], {
        encoding: 'utf8',
        timeout: 120_000,
      })
      expect(out).toMatch(/training accuracy: (9[7-9]|100)\.\d%/)
      expect(out).toMatch(/training loss per step .*log scale/)
      expect(out).toMatch(/[\u2801-\u28ff]/) // braille dots
      const files = ['history.png', 'decision-boundary.png', 'learning-rate.png', 'gradient-norms.png']
      for (const f of files) {
        expect(out).toContain(join(dir, f))
        expect(isPng(readFileSync(join(dir, f)))).toBe(true)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
