/**
 * Train mode: the configured run, live, with `Train.fitAsync` (the page stays responsive and the
 * charts move while it learns). For the 2-D sets: the decision boundary, each unit's output over
 * the input plane, each layer's gradient norm and the history; for MNIST: the first layer's
 * filters, one chosen digit's activations layer by layer, and the test digits it gets wrong.
 * Every chart is one of the library's Plot specs.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { Plot, T, Train, type Tensor, type Tree } from 'chainrule'
import { fitOptions, initialState, type Built } from '../core/build.ts'
import { activations } from '../core/layers.ts'
import { exampleActivations, firstLayerWeights, nonFiniteHint, planeGrid, recorder, redrawPacer, unitMaps } from '../core/train.ts'
import { Chart } from './chart.tsx'
import { Matrix } from './matrix.tsx'
import { statusText, type RunStatus } from './status.ts'
import { expose } from './testing.ts'
import { activationImages, digit, filters, unitHeatmaps } from './views.ts'

/** The charts of a run so far (each undefined until it has something worth drawing). */
interface Charts {
  readonly boundary?: Plot.VegaLiteSpec
  readonly gradients?: Plot.VegaLiteSpec
  readonly history?: Plot.VegaLiteSpec
  /** Each layer's units over the input plane (2-D sets). */
  readonly units?: readonly { readonly name: string; readonly spec: Plot.VegaLiteSpec }[]
  /** The first layer's weights as pictures (MNIST). */
  readonly filters?: Plot.VegaLiteSpec
  readonly wrong?: Plot.VegaLiteSpec
}

/** Params and layer state of the network as trained so far. */
interface Weights {
  readonly params: Tree.Tree
  readonly state: Tree.Tree
}

/** Grid points per side of the unit heatmaps. */
const UNIT_RESOLUTION = 16

/** When a run redraws (see redrawPacer): the charts at most 25 times a run, the unit heatmaps (thousands of cells each) 5 times. */
const REDRAW = { everyMs: 300, maxRedraws: 25 }
const UNITS_REDRAW = { everyMs: 3000, maxRedraws: 5 }

/** The Train mode's panel for a built run. */
export const TrainPanel = ({ built }: { built: Built }) => {
  const [status, setStatus] = useState<RunStatus>({ kind: 'idle' })
  const [charts, setCharts] = useState<Charts>({})
  const [weights, setWeights] = useState<Weights | undefined>(undefined)
  const stop = useRef(false)
  // which configuration's run may still update the panel: a run started for an older one only ends
  const generation = useRef(0)
  // runs started and ended (a run of an older configuration ends at its next epoch): for the page's tests
  const runs = useRef({ started: 0, ended: 0 })
  const running = status.kind === 'running'
  const twoD = built.inShape.length === 1 && built.inShape[0] === 2

  // a new configuration ends the run under way and clears the charts
  useEffect(() => {
    stop.current = true
    generation.current++
    setStatus({ kind: 'idle' })
    // before a run: what the untrained network makes of the plane (its initial params, as fit starts from them)
    const start = initialState(built)
    setCharts(
      twoD
        ? {
            boundary: Plot.decisionBoundary({
              predict: (x: Tensor) => Train.predict(built.model, start.params, start.state, x),
              data: built.data,
              resolution: 50,
              cellSize: 6,
              title: 'decision boundary before training',
            }),
          }
        : {},
    )
    setWeights(undefined)
    redraw.current = undefined
  }, [built])
  useEffect(() => expose({ train: status }), [status])
  // the charts are sized from the panel's width: drawn again when it crosses into another size
  const panel = useRef<HTMLDivElement>(null)
  const redraw = useRef<(() => void) | undefined>(undefined)
  useEffect(() => {
    const el = panel.current
    if (el === null || typeof ResizeObserver !== 'function') return
    let seen = JSON.stringify(chartSizes(el.clientWidth))
    const watch = new ResizeObserver(() => {
      const now = JSON.stringify(chartSizes(el.clientWidth))
      if (now !== seen) redraw.current?.()
      seen = now
    })
    watch.observe(el)
    return () => watch.disconnect()
  }, [])

  const run = async (): Promise<void> => {
    runs.current.started++
    expose({ runs: { ...runs.current } })
    try {
      await train()
    } finally {
      runs.current.ended++
      expose({ runs: { ...runs.current } })
    }
  }

  const train = async (): Promise<void> => {
    stop.current = false
    redraw.current = undefined
    const gen = generation.current
    const live = (): boolean => generation.current === gen
    // the history and each layer's gradient norm (on a probe batch, up to 100 times a run), as core's recorder keeps them
    const rec = recorder(built)
    const { steps, epochs } = rec.history
    const predict = (params: Tree.Tree, state: Tree.Tree) => (x: Tensor) => Train.predict(built.model, params, state, x)
    const grid = twoD ? planeGrid(built.data, UNIT_RESOLUTION) : undefined
    const [chartsDue, unitsDue] = [redrawPacer(built.config.epochs, REDRAW), redrawPacer(built.config.epochs, UNITS_REDRAW)]
    let units: Charts['units']
    let redraws = 0
    /** The charts for params and state after `epoch` epochs (Infinity: the run's end, every chart drawn). */
    const draw = (params: Tree.Tree, state: Tree.Tree, epoch = Infinity): Charts => {
      const size = chartSizes(panel.current?.clientWidth ?? 900, built.test !== undefined)
      const records = rec.gradients()
      const first = firstLayerWeights(built, params)
      if (grid !== undefined && (epoch === Infinity || unitsDue(epoch, performance.now()))) {
        // a layer followed by an activation is shown once, after it (as TensorFlow Playground shows a neuron)
        units = unitMaps(built, params, state, grid, 16)
          .filter((m) => !activations.includes(built.config.layers[m.layer + 1]?.kind ?? 'flatten'))
          .map((m) => ({ name: m.name, spec: unitHeatmaps(m, UNIT_RESOLUTION) }))
      }
      return {
        units,
        filters: first === undefined ? undefined : filters(first),
        boundary: twoD
          ? Plot.decisionBoundary({ predict: predict(params, state), data: built.data, resolution: 50, cellSize: 6 })
          : undefined,
        // one measurement per layer would be one dot per line: the chart waits for the second
        gradients:
          new Set(records.map((r) => r.step)).size >= 2
            ? legendBelow(Plot.gradientNormChart(records, { width: size.gradients, height: 200 }), size.narrow)
            : undefined,
        history: steps.length >= 2 ? stackedIf(size.narrow, Plot.history(rec.history, { width: size.history, height: 160 })) : undefined,
      }
    }
    setStatus({ kind: 'running', epoch: 0, loss: Number.NaN, accuracy: undefined })
    try {
      const { state } = await Train.fitAsync({
        ...fitOptions(built),
        callbacks: [
          ...rec.callbacks,
          {
            onEpochEnd: ({ record, state }) => {
              if (!live()) return 'stop'
              setStatus({ kind: 'running', epoch: record.epoch, loss: record.loss, accuracy: record.accuracy })
              if (chartsDue(record.epoch, performance.now())) {
                expose({ liveRedraws: ++redraws })
                setCharts(draw(state.params, state.state, record.epoch))
                setWeights({ params: state.params, state: state.state })
              }
              return stop.current ? 'stop' : undefined
            },
          },
        ],
      })
      if (!live()) return
      const final = draw(state.params, state.state)
      const onTrain = Train.evaluate(built.model, state.params, state.state, built.data, { loss: built.loss })
      const onTest =
        built.test === undefined ? undefined : Train.evaluate(built.model, state.params, state.state, built.test, { loss: built.loss })
      const wrong = (): Plot.VegaLiteSpec | undefined =>
        built.test !== undefined && onTest?.predictions !== undefined && onTest.accuracy !== 1
          ? Plot.misclassified(built.test.x, built.test.y, onTest.predictions, {
              max: 24,
              columns: chartSizes(panel.current?.clientWidth ?? 900).narrow ? 4 : 6,
            })
          : undefined
      setCharts({ ...final, wrong: wrong() })
      // a finished run's charts are drawn again for a new width (a phone turned, a window resized)
      redraw.current = () => live() && setCharts({ ...draw(state.params, state.state), wrong: wrong() })
      setWeights({ params: state.params, state: state.state })
      setStatus({
        kind: 'done',
        epochs: epochs.length,
        stopped: epochs.length < built.config.epochs,
        loss: onTrain.loss,
        accuracy: onTrain.accuracy,
        test: onTest?.accuracy,
      })
    } catch (e) {
      const hint = e instanceof Error && e.name === 'NonFiniteError' ? ` ${nonFiniteHint(built.config)}` : ''
      if (live()) setStatus({ kind: 'error', message: e instanceof Error ? `${e.name}: ${e.message}${hint}` : String(e) })
    }
  }

  return (
    <div ref={panel}>
      <div class="row">
        <button type="button" class="primary" onClick={() => void run()} disabled={running}>
          {status.kind === 'idle' ? 'Train' : 'Train again'}
        </button>
        <button type="button" onClick={() => (stop.current = true)} disabled={!running}>
          Stop
        </button>
        <span class="status" role="status" aria-live="polite" id="train-status">
          {statusText(status, built.config.epochs)}
        </span>
      </div>
      <div class="cols">
        {twoD && <Chart spec={charts.boundary} label="decision boundary over the input plane" />}
        <Chart spec={charts.gradients} label="gradient norm per layer over the steps" />
        {charts.filters !== undefined && <Chart spec={charts.filters} renderer="canvas" label="the first layer's weights as pictures" />}
      </div>
      <div class="cols">
        <div>
          <Chart spec={charts.history} label="loss and accuracy over the steps" />
          {charts.history !== undefined && (
            <p class="muted" id="history-note">
              Per step: the loss and accuracy on that step's batch, from the forward pass of its own training step, before its update. Per
              epoch: their mean over the epoch's examples, taken while the params changed. Once a run is done, the line at the top measures
              the params it ended with on every training example, so it can differ from the last epoch's point.
            </p>
          )}
        </div>
        {charts.wrong !== undefined && <Chart spec={charts.wrong} label="test digits the network gets wrong" />}
      </div>
      {charts.units !== undefined && (
        <>
          <h2>What each unit computes</h2>
          <p class="muted">
            Each unit's output at every point of the input plane (the square of the decision boundary): the first layer's units cut the
            plane along lines; the layers above combine them into the regions the classes need.
          </p>
          <div class="cols">
            {charts.units.map((u) => (
              <Chart key={u.name} spec={u.spec} renderer="canvas" label={`${u.name}: each unit's output over the input plane`} />
            ))}
          </div>
        </>
      )}
      {weights !== undefined && built.test !== undefined && <Digit built={built} weights={weights} />}
    </div>
  )
}

/**
 * The charts' sizes for a panel width (px): two columns of charts where they fit, one below
 * another on a phone, each chart as wide as its column (axes and legend take about 160 px).
 */
export const chartSizes = (
  width: number,
  historyShared = false,
): { readonly narrow: boolean; readonly history: number; readonly gradients: number } => {
  const narrow = width < 700
  const column = narrow ? width : (width - 16) / 2
  const round = (v: number): number => Math.max(160, Math.floor(v / 20) * 20)
  // the history is two charts side by side: across the panel, or across one column when another chart shares its row
  const history = narrow ? column - 90 : Math.min(520, (historyShared ? column : width) / 2 - 100)
  return { narrow, history: round(history), gradients: round(Math.min(520, column - (narrow ? 90 : 170))) }
}

/** A concatenation of charts one below another (a phone's column), else as it is. */
const stackedIf = (narrow: boolean, spec: Plot.VegaLiteSpec): Plot.VegaLiteSpec =>
  narrow && 'vconcat' in spec ? { ...spec, vconcat: spec.vconcat.flatMap((row) => ('hconcat' in row ? row.hconcat : [row])) } : spec

/** A chart with its legend below it (on a phone, where a legend beside it would squeeze it), else as it is. */
const legendBelow = (spec: Plot.VegaLiteSpec, narrow: boolean): Plot.VegaLiteSpec =>
  narrow ? { ...spec, config: { ...spec.config, legend: { ...spec.config?.legend, orient: 'bottom' } } } : spec

/** One test digit's path through the network: the image, then each layer's output (channels as images, vectors as numbers). */
const Digit = ({ built, weights }: { built: Built; weights: Weights }) => {
  const test = built.test!
  const count = test.x.shape[0]!
  const [index, setIndex] = useState(0)
  // a flatten's output is its input laid out in a row: nothing new to see
  const outputs = useMemo(
    () =>
      exampleActivations(built, weights.params, weights.state, test, index).filter((o) => built.config.layers[o.layer]?.kind !== 'flatten'),
    [built, weights, index],
  )
  const label = test.y.shape.length === 1 ? test.y.data[index]! : undefined
  const scores = outputs[outputs.length - 1]?.y
  let predicted = 0
  if (scores !== undefined) for (let k = 1; k < scores.data.length; k++) if (scores.data[k]! > scores.data[predicted]!) predicted = k
  return (
    <>
      <h2>One digit through the network</h2>
      <div class="row">
        <label for="digit-index">test digit</label>
        <input
          id="digit-index"
          type="number"
          min={0}
          max={count - 1}
          value={index}
          onChange={(e) => setIndex(clamp(Number(e.currentTarget.value), count))}
        />
        <span class="status">
          of {count}: {label === undefined ? '' : `a ${label}, `}read as a {predicted}
        </span>
      </div>
      <div class="cols">
        <Chart spec={digit(T.gatherRows(test.x, [index]), `test digit ${index}`)} label={`test digit ${index}`} />
        {outputs.map((o) => {
          const spec = activationImages(o)
          return spec === undefined ? (
            <div key={o.layer}>
              <h3>{o.name}</h3>
              <Matrix t={o.y} label={`${o.name}: its output for this digit`} maxCols={10} />
            </div>
          ) : (
            <Chart key={o.layer} spec={spec} renderer="canvas" label={`${o.name}: its output channels for this digit`} />
          )
        })}
      </div>
    </>
  )
}

/** An index in 0..count-1 (0 for what is not a number). */
const clamp = (v: number, count: number): number => (Number.isInteger(v) ? Math.max(0, Math.min(count - 1, v)) : 0)
