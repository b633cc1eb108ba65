/**
 * The browser demo (`npm run browser`, then open the address it prints): the library trains in
 * a page, with the same code as in Node. Two demos:
 * - a 3-class spiral, with the decision boundary redrawn as the network learns (example 04's
 *   model and optimizer);
 * - MNIST with the MLP of the main job (example 05), its IDX files fetched from the server and
 *   decoded by the browser-safe core (`Data.Mnist.fromIdx`), then the test accuracy and the test
 *   digits it gets wrong.
 * Charts are the library's Vega-Lite specs (`Plot.*`), drawn by vega as SVG. Training runs with
 * `Train.fitAsync`, which gives the page a turn every 50 ms, so it stays responsive and the
 * charts update while an epoch runs. scripts/browser.ts bundles this file and serves the page.
 */
import * as E from 'fp-ts/Either'
import { parse, View } from 'vega'
import { compile } from 'vega-lite'
import { Data, Kernels, Key, L, Loss, Optim, Plot, Schedule, type Spec, type Tensor, Train, type Tree } from 'chainrule'

const element = (id: string): HTMLElement => {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`the page has no element #${id}`)
  return el
}

const say = (id: string, text: string, isError = false): void => {
  const el = element(id)
  el.textContent = text
  el.classList.toggle('error', isError)
}

/** The views on the page by element id, so a redraw can free the view it replaces. */
const views = new Map<string, View>()
/** The drawing under way in each element, if any. */
const drawing = new Map<string, Promise<void>>()

/** Draws a Vega-Lite spec into the element as SVG, replacing what was there (after any drawing under way there). */
const draw = async (id: string, spec: Plot.VegaLiteSpec): Promise<void> => {
  await drawing.get(id)
  const done = (async () => {
    const view = new View(parse(compile(forPhone(spec)).spec), { renderer: 'svg', container: element(id), hover: false })
    views.get(id)?.finalize()
    views.set(id, view)
    await view.runAsync()
  })()
  drawing.set(id, done)
  try {
    await done
  } finally {
    if (drawing.get(id) === done) drawing.delete(id)
  }
}

/** Whether the page is phone-wide. */
const phone = (): boolean => matchMedia('(max-width: 700px)').matches

/**
 * A chart as a phone's column needs it (under 700 px): charts side by side one below another, the
 * legend below the chart, so it keeps its size instead of shrinking its text. Else as it is.
 */
const forPhone = (spec: Plot.VegaLiteSpec): Plot.VegaLiteSpec => {
  if (!phone()) return spec
  const below = { ...spec, config: { ...spec.config, legend: { ...spec.config?.legend, orient: 'bottom' as const } } }
  return 'vconcat' in below ? { ...below, vconcat: below.vconcat.flatMap((row) => ('hconcat' in row ? row.hconcat : [row])) } : below
}

/** Draws unless the element is still drawing the last one: for redraws during training, which can skip a frame. */
const drawIfIdle = (id: string, spec: () => Plot.VegaLiteSpec): void => {
  if (!drawing.has(id)) void draw(id, spec())
}

/**
 * A person's name for the layer the gradient recorder calls `pipe[2].dense`: "dense 2 (64→64)",
 * counting the pipe's layers of that kind from 1, with the sizes of its weights W [in, out].
 */
const layerName = (spec: Spec, params: Tree.Tree, path: string): string => {
  const m = /^pipe\[(\d+)\]\.(\w+)$/.exec(path)
  const children = spec['children']
  if (m === null || !Array.isArray(children)) return path
  const [index, kind] = [Number(m[1]), m[2]!]
  const nth = children.slice(0, index + 1).filter((c) => (c as { kind?: unknown }).kind === kind).length
  const W = (Array.isArray(params) ? (params[index] as { W?: Tensor } | undefined) : undefined)?.W
  return `${kind} ${nth}${W?.shape.length === 2 ? ` (${W.shape[0]}→${W.shape[1]})` : ''}`
}

/** A history so far, as Plot.history takes it: fitAsync's callbacks add to it step by step. */
const recorder = (): { history: Train.History; callbacks: Train.Callbacks<unknown> } => {
  const steps: Train.StepRecord[] = []
  const epochs: Train.EpochRecord[] = []
  return {
    history: { steps, epochs },
    callbacks: {
      onStep: ({ step, epoch, metrics }) => void steps.push({ step, epoch, loss: metrics.loss, accuracy: metrics.accuracy }),
      onEpochEnd: ({ record }) => void epochs.push(record),
    },
  }
}

/** Runs a demo from its button: disabled while it runs, any error shown in its status line. */
const wire = (button: string, status: string, run: () => Promise<void>): void => {
  const b = element(button) as HTMLButtonElement
  b.addEventListener('click', () => {
    b.disabled = true
    run()
      .catch((e: unknown) => say(status, e instanceof Error ? `${e.name}: ${e.message}` : String(e), true))
      .finally(() => void (b.disabled = false))
  })
}

// ---------------------------------------------------------------------------------------------
// The spiral
// ---------------------------------------------------------------------------------------------

const spiral = async (): Promise<void> => {
  const data = Data.spirals(Key.fromSeed(0), { classes: 3, perClass: 100, noise: 0.2 })
  const model = L.pipe(L.dense(64), L.relu, L.dense(64), L.relu, L.dense(3))
  const epochs = 300
  const batchSize = 32
  const lr = Schedule.cosineDecay({ init: 0.1, steps: epochs * Train.stepsPerEpoch({ data, batchSize }), floor: 0.005 })
  const { history, callbacks } = recorder()
  // Each layer's gradient norm on the whole data set every 30 steps: backprop's signal, layer by layer.
  const grads = Plot.recordGradientNorms({ model, loss: Loss.softmaxCrossEntropy, batch: data, every: 30 })
  // the chart's legend names each layer as a person would ("dense 1 (2→64)"), not by its path in the pipe
  const gradients = (params: Tree.Tree): Plot.VegaLiteSpec =>
    Plot.gradientNormChart(
      grads.records().map((r) => ({ ...r, layer: layerName(model.spec, params, r.layer) })),
      phone() ? { width: 300 } : {},
    )
  const boundary = (state: Train.TrainState): Plot.VegaLiteSpec => {
    const predict = (x: Tensor): Tensor => Train.predict(model, state.params, state.state, x)
    return Plot.decisionBoundary({ predict, data, resolution: 60, cellSize: 5 })
  }
  const { state } = await Train.fitAsync({
    model,
    loss: Loss.softmaxCrossEntropy,
    optimizer: Optim.sgd({ lr, momentum: 0.9 }),
    data,
    epochs,
    batchSize,
    key: Key.fromSeed(1),
    callbacks: [
      callbacks,
      grads.callbacks,
      {
        onEpochEnd: ({ record, state }) => {
          say(
            'spiral-status',
            `epoch ${record.epoch}/${epochs}: loss ${record.loss.toFixed(4)}, accuracy ${(100 * (record.accuracy ?? 0)).toFixed(1)}%`,
          )
          if ((record.epoch - 1) % 10 !== 0) return
          drawIfIdle('spiral-boundary', () => boundary(state))
          drawIfIdle('spiral-history', () => Plot.history(history))
          drawIfIdle('spiral-gradients', () => gradients(state.params))
        },
      },
    ],
  })
  await Promise.all([
    draw('spiral-boundary', boundary(state)),
    draw('spiral-history', Plot.history(history)),
    draw('spiral-gradients', gradients(state.params)),
  ])
  const { accuracy } = Train.evaluate(model, state.params, state.state, data, { loss: Loss.softmaxCrossEntropy })
  say('spiral-status', `done: training accuracy ${(100 * (accuracy ?? 0)).toFixed(1)}% after ${epochs} epochs`)
}

// ---------------------------------------------------------------------------------------------
// MNIST
// ---------------------------------------------------------------------------------------------

/** The bytes of one of the four MNIST files the server offers at /mnist/<name>. */
const fetchBytes = async (name: string): Promise<Uint8Array> => {
  const response = await fetch(`mnist/${name}`)
  if (!response.ok) throw new Error(`fetching mnist/${name}: HTTP ${response.status} ${response.statusText}`)
  return new Uint8Array(await response.arrayBuffer())
}

const mnistSet = async (images: string, labels: string): Promise<Data.Dataset> => {
  const decoded = Data.Mnist.fromIdx(await fetchBytes(images), await fetchBytes(labels))
  if (E.isLeft(decoded)) throw decoded.left
  return decoded.right
}

const mnist = async (): Promise<void> => {
  say('mnist-status', 'fetching and decoding the MNIST files…')
  const train = await mnistSet('train-images-idx3-ubyte', 'train-labels-idx1-ubyte')
  const test = await mnistSet('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')
  const epochs = Number((element('mnist-epochs') as HTMLSelectElement).value)
  const batchSize = 64
  const model = L.pipe(L.flatten, L.dense(128), L.relu, L.dense(64), L.relu, L.dense(10))
  const stepsPerEpoch = Train.stepsPerEpoch({ data: train, batchSize })
  const lr = Schedule.cosineDecay({ init: 0.05, steps: epochs * stepsPerEpoch, floor: 0.0005 })
  const { history, callbacks } = recorder()
  let lastDraw = 0
  let epochStart = performance.now()
  const { state } = await Train.fitAsync({
    model,
    loss: Loss.softmaxCrossEntropy,
    optimizer: Optim.sgd({ lr, momentum: 0.9, nesterov: true, weightDecay: 5e-4 }),
    data: train,
    epochs,
    batchSize,
    key: Key.fromSeed(0),
    callbacks: [
      callbacks,
      {
        onStep: ({ epoch, batch, metrics }) => {
          if (performance.now() - lastDraw < 500) return
          lastDraw = performance.now()
          const rate = ((batch + 1) * batchSize) / ((lastDraw - epochStart) / 1000)
          say(
            'mnist-status',
            `epoch ${epoch}/${epochs}, step ${batch + 1}/${stepsPerEpoch}: loss ${metrics.loss.toFixed(4)}, about ${Math.round(rate).toLocaleString('en-US')} samples/s`,
          )
          drawIfIdle('mnist-history', () => Plot.history(history, { lossScale: 'log' }))
        },
        onEpochEnd: () => void (epochStart = performance.now()),
      },
    ],
  })
  const trained = history.epochs.reduce((s, e) => s + e.seconds, 0)
  const result = Train.evaluate(model, state.params, state.state, test, { loss: Loss.softmaxCrossEntropy })
  await draw('mnist-history', Plot.history(history, { lossScale: 'log' }))
  if (result.predictions !== undefined)
    await draw(
      'mnist-wrong',
      Plot.misclassified(test.x, test.y, result.predictions, {
        max: 24,
        ...(phone() ? { columns: 4 } : {}),
      }),
    )
  const rate =
    trained > 0 ? `; ${Math.round((epochs * stepsPerEpoch * batchSize) / trained).toLocaleString('en-US')} samples/s while training` : ''
  const trainAccuracy = history.epochs.at(-1)?.accuracy
  say(
    'mnist-status',
    `after ${epochs} epoch${epochs > 1 ? 's' : ''}: test accuracy ${(100 * (result.accuracy ?? 0)).toFixed(2)}% on ${test.x.shape[0]!.toLocaleString('en-US')} test images` +
      (trainAccuracy === undefined ? '' : `; training accuracy ${(100 * trainAccuracy).toFixed(2)}% (the last epoch's mean)`) +
      rate,
  )
}

// ---------------------------------------------------------------------------------------------

const start = async (): Promise<void> => {
  const two = await Kernels.useThreads(2)
  say(
    'engine',
    `kernels: ${Kernels.wasmSimdAvailable() ? 'WebAssembly SIMD' : 'plain TypeScript (this browser has no WebAssembly SIMD)'}\n` +
      `threads: ${two ? '2 (this page and a Web Worker)' : `1 (${Kernels.threadsUnavailable() ?? 'two are unavailable here'})`}`,
  )
  wire('spiral-run', 'spiral-status', spiral)
  wire('mnist-run', 'mnist-status', mnist)
  // ?run=spiral or ?run=mnist&epochs=1 starts a demo as the page opens (a link to share, or a headless check)
  const query = new URLSearchParams(location.search)
  const epochs = query.get('epochs')
  const select = element('mnist-epochs') as HTMLSelectElement
  const choices = [...select.options].map((o) => o.value)
  const badEpochs = epochs !== null && !choices.includes(epochs)
  if (badEpochs) say('mnist-status', `?epochs=${epochs} is not one of the choices: ${choices.join(', ')}`, true)
  else if (epochs !== null) select.value = epochs
  if (query.get('run') === 'spiral') element('spiral-run').click()
  if (query.get('run') === 'mnist' && !badEpochs) element('mnist-run').click()
}

start().catch((e: unknown) => say('engine', e instanceof Error ? `${e.name}: ${e.message}` : String(e), true))
