/**
 * Rendering plots in Node: Vega-Lite spec → Vega spec (vega-lite's compile) → SVG (a headless
 * vega View, no browser and no canvas) → PNG (resvg, a Rust SVG renderer shipped as a native
 * binary). Also fit callbacks that redraw the training history while a run goes on.
 *
 * Everything here is synchronous, so a plot can be written from inside fit's callbacks, which
 * run in a synchronous loop (an awaited render would only finish after training).
 *
 * vega, vega-lite and @resvg/resvg-js are optional peer dependencies, imported when this module
 * loads; a helper that needs one that is missing throws a MissingPeerError naming it.
 */
import { existsSync, statSync } from 'node:fs'
import { extname, join, resolve } from 'node:path'
import type { LoggerInterface, Spec as VegaSpec, View } from 'vega'
import { history as historySpec, type HistoryOptions } from '../plot/history.ts'
import { PlotError, type VegaLiteSpec } from '../plot/spec.ts'
import { checkMarks } from './plot-marks.ts'
import type { Callbacks, EpochRecord, History, StepRecord } from '../train/fit.ts'
import type { TrainState } from '../train/state.ts'
import { writeFileAtomic } from './checkpoint.ts'
import { importPeer, MissingPeerError, need, needAll } from './peer.ts'
import { checkOptions } from '../options.ts'

// The optional peers, loaded once: a helper that needs a missing one throws a MissingPeerError.
const [vegaPeer, vegaLitePeer, resvgPeer] = await Promise.all([
  importPeer('vega', () => import('vega')),
  importPeer('vega-lite', () => import('vega-lite')),
  importPeer('@resvg/resvg-js', () => import('@resvg/resvg-js')),
])
const drawing = [vegaPeer, vegaLitePeer]
const drawingPng = [vegaPeer, vegaLitePeer, resvgPeer]

/** Options of rendering. */
export interface RenderOptions {
  /** Called with each warning of vega-lite or vega (default: printed to stderr). */
  readonly onWarning?: (message: string) => void
}

/** Options of PNG rendering. */
export interface PngOptions extends RenderOptions {
  /** Device pixels per SVG pixel (default 2, sharp on high-density screens). */
  readonly scale?: number
  /** Font files to use besides the system's (text needs at least one font installed). */
  readonly fontFiles?: readonly string[]
  /** The family for text that names none available (default 'DejaVu Sans', then any installed). */
  readonly defaultFontFamily?: string
}

const defaultWarn = (message: string): void => {
  process.stderr.write(`plot: ${message}\n`)
}

/** vega's log level Warn (vega-util: None 0, Error 1, Warn 2, Info 3, Debug 4), known without loading vega. */
const WARN = 2

/** A vega logger that hands warnings and errors to one function and drops the rest. */
const loggerFor = (onWarning: (message: string) => void): LoggerInterface => {
  let level = WARN
  const logger = {
    level(l?: number) {
      if (l === undefined) return level
      level = l
      return logger
    },
    error(...args: unknown[]) {
      onWarning(args.map(String).join(' '))
      return logger
    },
    warn(...args: unknown[]) {
      if (level >= WARN) onWarning(args.map(String).join(' '))
      return logger
    },
    info() {
      return logger
    },
    debug() {
      return logger
    },
  }
  return logger as LoggerInterface
}

/** What the message of a failed step suggests: a spec written by hand is the usual cause. */
const SPEC_HINT = 'is it a valid Vega-Lite spec? (the Plot.* builders make one; the online Vega editor checks one written by hand)'

/**
 * Runs a step of vega-lite, vega or resvg. A spec they cannot read (most often one written by
 * hand) fails deep inside them, with a TypeError about their internals; this throws a PlotError
 * instead, naming the function called and what failed (`vega-lite could not compile the spec`),
 * with the original error as its cause.
 */
const running = <A>(where: string, failed: string, f: () => A, hint = SPEC_HINT): A => {
  try {
    return f()
  } catch (e) {
    throw renderFailed(where, failed, e, hint)
  }
}

const renderFailed = (where: string, failed: string, e: unknown, hint = SPEC_HINT): unknown =>
  e instanceof PlotError || e instanceof MissingPeerError
    ? e
    : new PlotError(`${where}: ${failed}: ${(e instanceof Error ? e.message : String(e)).replace(/\.$/, '')}; ${hint}`, { cause: e })

/** Throws a PlotError unless the spec is an object (a Vega-Lite spec is JSON: an object at the top) whose marks Vega-Lite knows. */
const checkSpecValue = (where: string, spec: unknown): void => {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    const got = spec === null ? 'null' : Array.isArray(spec) ? 'an array' : typeof spec
    throw new PlotError(`${where}: expected a Vega-Lite spec (an object, as the Plot.* builders make), got ${got}`)
  }
  checkMarks(where, spec)
}

/**
 * Compiles a Vega-Lite spec to a Vega spec (what vega renders). The spec is copied first: vega
 * writes ids into the data rows it ingests, and the caller's spec must stay as it was.
 * @example toVega(Plot.history(history)).marks
 */
export const toVega = (spec: VegaLiteSpec, options: RenderOptions = {}): VegaSpec =>
  compileSpec(spec, checkOptions('toVega', options, ['onWarning']).onWarning ?? defaultWarn, 'toVega')

const compileSpec = (spec: VegaLiteSpec, onWarning: (message: string) => void, where: string): VegaSpec => {
  const { compile } = need(where, vegaLitePeer)
  checkSpecValue(where, spec)
  return running(where, 'vega-lite could not compile the spec', () => compile(structuredClone(spec), { logger: loggerFor(onWarning) }).spec)
}

/** A fresh headless View of a spec. vega numbers gradient and clip ids from global counters; resetting them first makes the same spec give the same SVG, byte for byte. */
const headlessView = (spec: VegaLiteSpec, onWarning: (message: string) => void, where: string): View => {
  needAll(where, drawing)
  const vega = need(where, vegaPeer)
  const vegaSpec = compileSpec(spec, onWarning, where)
  vega.resetSVGDefIds()
  return running(
    where,
    'vega could not parse the spec',
    () => new vega.View(vega.parse(vegaSpec), { renderer: 'none', logger: loggerFor(onWarning), logLevel: WARN }),
  )
}

/** What a headless vega View holds after it ran: the parts an SVG renderer needs. */
interface ViewInternals {
  readonly _viewWidth: number
  readonly _viewHeight: number
  readonly _origin: readonly [number, number]
  readonly _scenegraph: { readonly root: unknown }
}

/** vega's headless SVG renderer (the one view.toSVG() uses). */
interface SvgStringRenderer {
  initialize(el: null, width: number, height: number, origin: readonly number[], scaleFactor: number): SvgStringRenderer
  background(color: unknown): SvgStringRenderer
  render(scene: unknown): SvgStringRenderer
  svg(): string
}

/**
 * Renders a spec to an SVG document, synchronously. view.toSVG() is async only to wait for
 * external data and images; these specs hold their data inline and draw no images, so running
 * the dataflow and the headless SVG renderer directly gives the same document (the tests hold
 * this equal to toSVG's output) without waiting.
 * @example
 * import { writeFileSync } from 'node:fs'
 * writeFileSync('loss.svg', toSvg(Plot.stepHistory(history)))
 */
export const toSvg = (spec: VegaLiteSpec, options: RenderOptions = {}): string =>
  svgOf(spec, checkOptions('toSvg', options, ['onWarning']).onWarning ?? defaultWarn, 'toSvg')

const svgOf = (spec: VegaLiteSpec, onWarning: (message: string) => void, where: string): string => {
  const view = headlessView(spec, onWarning, where)
  const vega = need(where, vegaPeer)
  try {
    return running(where, 'vega could not render the spec', () => renderSvg(vega, view))
  } finally {
    view.finalize()
  }
}

/** Runs a headless view's dataflow and draws its scenegraph with vega's SVG string renderer. */
const renderSvg = (vega: typeof import('vega'), view: View): string => {
  view.run() // synchronous for inline data: no loads, no pre-run callbacks
  const v = view as unknown as ViewInternals
  const pad = view.padding() as { top: number; bottom: number; left: number; right: number }
  const module = (
    vega as unknown as { renderModule: (name: string) => { headless: new (loader: unknown) => SvgStringRenderer } }
  ).renderModule('svg')
  const renderer = new module.headless(view.loader())
    .initialize(
      null,
      v._viewWidth + pad.left + pad.right,
      v._viewHeight + pad.top + pad.bottom,
      [pad.left + v._origin[0], pad.top + v._origin[1]],
      1,
    )
    .background(view.background())
  return renderer.render(v._scenegraph.root).svg()
}

/**
 * The same SVG through vega's public, asynchronous API (view.toSVG), for comparison and for
 * callers that prefer it.
 */
export const toSvgAsync = async (spec: VegaLiteSpec, options: RenderOptions = {}): Promise<string> => {
  checkOptions('toSvgAsync', options, ['onWarning'])
  const view = headlessView(spec, options.onWarning ?? defaultWarn, 'toSvgAsync')
  try {
    return await view.toSVG()
  } catch (e) {
    throw renderFailed('toSvgAsync', 'vega could not render the spec', e)
  } finally {
    view.finalize()
  }
}

/**
 * Renders an SVG document (e.g. from toSvg) to PNG bytes with resvg.
 * @example
 * import { writeFileSync } from 'node:fs'
 * writeFileSync('loss.png', svgToPng(toSvg(spec), { scale: 2 }))
 */
export const svgToPng = (svg: string, options: PngOptions = {}): Uint8Array => pngOf(svg, options, 'svgToPng')

const pngOf = (svg: string, options: PngOptions, where: string): Uint8Array => {
  checkOptions('svgToPng', options, ['onWarning', 'scale', 'fontFiles', 'defaultFontFamily'])
  const { Resvg } = need(where, resvgPeer)
  const scale = options.scale ?? 2
  if (!(scale > 0 && scale <= 16)) throw new RangeError(`${where}: scale must be in (0, 16], got ${scale}`)
  const font = {
    loadSystemFonts: true,
    defaultFontFamily: options.defaultFontFamily ?? 'DejaVu Sans',
    ...(options.fontFiles === undefined ? {} : { fontFiles: [...options.fontFiles] }),
  }
  const png = (): Uint8Array => new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, font }).render().asPng()
  // given an SVG by the caller (svgToPng), the SVG is the suspect; given one vega drew, resvg is
  if (where === 'svgToPng') return running(where, 'resvg could not read the SVG', png, 'is it an SVG document, such as toSvg gives?')
  return running(where, 'resvg could not render the SVG vega drew', png, 'please report it, with the spec')
}

/**
 * Renders a spec to PNG bytes.
 * @example
 * import { writeFileSync } from 'node:fs'
 * writeFileSync('confusion.png', toPng(Plot.confusionMatrix(labels, predictions)))
 */
export const toPng = (spec: VegaLiteSpec, options: PngOptions = {}): Uint8Array => pngFor(spec, options, 'toPng')

const pngFor = (spec: VegaLiteSpec, options: PngOptions, where: string): Uint8Array => {
  checkOptions('toPng', options, ['onWarning', 'scale', 'fontFiles', 'defaultFontFamily'])
  needAll(where, drawingPng) // all three named at once, before any drawing
  return pngOf(svgOf(spec, options.onWarning ?? defaultWarn, where), options, where)
}

/** Writes bytes or text to path atomically, as checkpoints are (see writeFileAtomic). */
const writeAtomic = (path: string, content: string | Uint8Array): void => writeFileAtomic(path, content)

/**
 * Renders a spec to a file, by the path's extension: `.png`, `.svg`, or `.json` (the Vega-Lite
 * spec itself, for the online Vega editor or vega-embed). Creates the directory; writes through
 * a temp file and a rename. Returns the absolute path.
 * @example console.log(`wrote ${writePlot(Plot.history(history), 'out/history.png')}`)
 */
export const writePlot = (spec: VegaLiteSpec, path: string, options: PngOptions = {}): string => {
  checkOptions('writePlot', options, ['onWarning', 'scale', 'fontFiles', 'defaultFontFamily'])
  checkSpecValue('writePlot', spec) // every format, .json too (that one is not compiled)
  const ext = extname(path).toLowerCase()
  const content =
    ext === '.png'
      ? pngFor(spec, options, 'writePlot')
      : ext === '.svg'
        ? svgOf(spec, options.onWarning ?? defaultWarn, 'writePlot')
        : ext === '.json'
          ? JSON.stringify(spec)
          : undefined
  if (content === undefined) {
    const dir = existsSync(path) && statSync(path).isDirectory() ? ` ('${path}' is a directory: give a file name in it)` : ''
    throw new RangeError(`writePlot: cannot tell the format of '${path}'; end the name with .png, .svg or .json${dir}`)
  }
  const abs = resolve(path)
  writeAtomic(abs, content)
  return abs
}

/** Options of plotCallbacks. */
export interface PlotCallbacksOptions {
  /** The folder to write into (created if missing). */
  readonly dir: string
  /** Redraw after every this many epochs (default 1), and always at the end. */
  readonly every?: number
  /** File format (default 'png'). */
  readonly format?: 'png' | 'svg'
  /** File name without extension (default 'history'). */
  readonly name?: string
  /** Options of the history chart (smoothing, log loss axis, ...). */
  readonly history?: HistoryOptions
  /** PNG options. */
  readonly png?: PngOptions
  /** Called with the path after each write (e.g. to print it once). */
  readonly onWrite?: (path: string) => void
}

/**
 * fit callbacks that keep `<dir>/history.png` up to date: the training history is redrawn at
 * the end of every `every` epochs and at the end of the run. Open the file in a viewer that
 * reloads, and watch training as it goes.
 * @example Train.fit({ ...run, callbacks: [progress(), plotCallbacks({ dir: 'out/run', every: 5 })] })
 */
export const plotCallbacks = <St extends TrainState>(options: PlotCallbacksOptions): Callbacks<St> => {
  checkOptions('plotCallbacks', options, ['dir', 'every', 'format', 'name', 'history', 'png', 'onWrite'])
  const every = options.every ?? 1
  if (!Number.isInteger(every) || every < 1) throw new RangeError(`plotCallbacks: every must be a positive integer, got ${every}`)
  needAll('plotCallbacks', (options.format ?? 'png') === 'png' ? drawingPng : drawing) // before training starts, not after its first epoch
  const path = join(options.dir, `${options.name ?? 'history'}.${options.format ?? 'png'}`)
  const steps: StepRecord[] = []
  const epochs: EpochRecord[] = []
  let drawn = -1 // epochs in the last drawing
  const draw = (h: History): void => {
    if ((h.steps.length === 0 && h.epochs.length === 0) || h.epochs.length === drawn) return
    drawn = h.epochs.length
    const written = writePlot(historySpec(h, options.history), path, options.png)
    options.onWrite?.(written)
  }
  return {
    onStart: () => {
      steps.length = 0
      epochs.length = 0
      drawn = -1
    },
    onStep: ({ step, epoch, metrics }) => {
      steps.push({ step, epoch, loss: metrics.loss, accuracy: metrics.accuracy })
    },
    onEpochEnd: ({ record }) => {
      epochs.push(record)
      if (record.epoch % every === 0) draw({ steps, epochs })
    },
    onEnd: ({ history }) => draw(history),
  }
}
