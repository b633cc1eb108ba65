/**
 * Node-only helpers (files, plots rendered to SVG and PNG, terminal progress), kept out of the
 * browser-safe core: `import { loadMnist } from 'chainrule/node'`. Plotting needs vega, vega-lite
 * and @resvg/resvg-js, the progress bar cli-progress (optional peer dependencies).
 *
 * @module chainrule/node
 */
export { loadMnist, readMnist, readIdxFile, mnistDir, MNIST_FILES, type LoadMnistOptions, type ReadMnistOptions } from './mnist.ts'
export { progress, formatEpoch, type ProgressOptions } from './progress.ts'
export {
  toVega,
  toSvg,
  toSvgAsync,
  svgToPng,
  toPng,
  writePlot,
  plotCallbacks,
  type RenderOptions,
  type PngOptions,
  type PlotCallbacksOptions,
} from './plot.ts'
export { lineChart, lossCurve, type LineChartOptions } from './terminal-chart.ts'
export { saveCheckpoint, saveModel, loadCheckpoint, writeFileAtomic, staleTempFiles, type SaveModelOptions } from './checkpoint.ts'
export { MissingPeerError } from './peer.ts'
