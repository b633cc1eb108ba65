// chainrule/node in a project that installed none of its optional peers (vega, vega-lite,
// @resvg/resvg-js, cli-progress): the module loads, helpers that need no peer work, and each
// helper that needs one throws a MissingPeerError naming what to install.
import { Plot } from 'chainrule'
import { formatEpoch, lossCurve, MissingPeerError, progress, toPng, toSvg, toVega, writePlot } from 'chainrule/node'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const history = {
  steps: [
    { step: 0, epoch: 0, loss: 1, accuracy: 0.5 },
    { step: 1, epoch: 0, loss: 0.5, accuracy: 0.75 },
  ],
  epochs: [],
}
const spec = Plot.stepHistory(history)
const report = (name, f) => {
  try {
    f()
    console.log(`${name}: ok`)
  } catch (e) {
    console.log(`${name}: ${e instanceof MissingPeerError ? 'MissingPeerError' : e.name} [${e.packages}] ${e.message}`)
  }
}
report('toVega', () => toVega(spec))
report('toSvg', () => toSvg(spec))
report('toPng', () => toPng(spec))
report('writePlot png', () => writePlot(spec, join(tmpdir(), 'never.png')))
report('progress', () => progress())
report('progress plain', () => progress({ plain: true }))
const scratch = mkdtempSync(join(tmpdir(), 'chainrule-peers-'))
const json = join(scratch, 'spec.json')
report('writePlot json', () => writePlot(spec, json))
console.log(`spec.json has $schema: ${JSON.parse(readFileSync(json, 'utf8')).$schema !== undefined}`)
report('lossCurve', () => lossCurve(history))
report('formatEpoch', () =>
  formatEpoch({ epoch: 0, step: 1, loss: 0.5, accuracy: 0.75, valLoss: undefined, valAccuracy: undefined, seconds: 0.1 }, 1, 10),
)
rmSync(scratch, { recursive: true, force: true })
