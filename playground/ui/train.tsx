/**
 * Train mode: the configured run, live, with `Train.fitAsync` (the page stays responsive and the
 * charts move while it learns). For the 2-D sets: the decision boundary, each unit's output over
 * the input plane, each layer's gradient norm and the history; for MNIST: the first layer's
 * filters, one chosen digit's activations layer by layer, and the test digits it gets wrong.
 * Every chart is one of the library's Plot specs.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { Data, Plot, Train as T, type Tensor, type Tree } from 'chainrule'
import { fitOptions, type Built } from '../core/build.ts'
import { Chart } from './chart.tsx'
import { num, pct } from './format.ts'
import { expose } from './testing.ts'

/** Where a run is: not started, running (epoch so far), finished or stopped, or failed. */
export type RunStatus =
  | { readonly kind: 'idle' }
  | { readonly kind: 'running'; readonly epoch: number; readonly loss: number; readonly accuracy: number | undefined }
  | {
      readonly kind: 'done'
      readonly epochs: number
      readonly loss: number
      readonly accuracy: number | undefined
      readonly test: number | undefined
    }
  | { readonly kind: 'error'; readonly message: string }

/** The charts of a run so far (each undefined until it has something worth drawing). */
interface Charts {
  readonly boundary?: Plot.VegaLiteSpec
  readonly gradients?: Plot.VegaLiteSpec
  readonly history?: Plot.VegaLiteSpec
  readonly wrong?: Plot.VegaLiteSpec
}

/** The gradient recorder's layer path ("pipe[2].dense") as the name a person reads ("dense 2 (16→16)"). */
export const humanLayer = (built: Built, path: string): string => {
  const m = /^pipe\[(\d+)\]/.exec(path)
  return (m === null ? undefined : built.shapes[Number(m[1])]?.name) ?? path
}

/** Milliseconds between redraws while training. */
const REDRAW_MS = 300

/** The Train mode's panel for a built run. */
export const TrainPanel = ({ built }: { built: Built }) => {
  const [status, setStatus] = useState<RunStatus>({ kind: 'idle' })
  const [charts, setCharts] = useState<Charts>({})
  const stop = useRef(false)
  const running = status.kind === 'running'
  const twoD = built.inShape.length === 1 && built.inShape[0] === 2

  // a new configuration ends the run under way and clears the charts
  useEffect(() => {
    stop.current = true
    setStatus({ kind: 'idle' })
    setCharts({})
  }, [built])
  useEffect(() => expose({ train: status }), [status])

  const run = async (): Promise<void> => {
    stop.current = false
    const steps: T.StepRecord[] = []
    const epochs: T.EpochRecord[] = []
    const history: T.History = { steps, epochs }
    const probe = Data.slice(built.data, 0, Math.min(256, built.data.x.shape[0]!))
    const every = Math.max(1, Math.ceil(built.totalSteps / 100))
    const grads = Plot.recordGradientNorms({ model: built.model, loss: built.loss, batch: probe, every })
    const predict = (params: Tree.Tree, state: Tree.Tree) => (x: Tensor) => T.predict(built.model, params, state, x)
    const draw = (params: Tree.Tree, state: Tree.Tree): Charts => {
      const records = grads.records().map((r) => ({ ...r, layer: humanLayer(built, r.layer) }))
      return {
        boundary: twoD
          ? Plot.decisionBoundary({ predict: predict(params, state), data: built.data, resolution: 50, cellSize: 6 })
          : undefined,
        // one measurement per layer would be one dot per line: the chart waits for the second
        gradients: new Set(records.map((r) => r.step)).size >= 2 ? Plot.gradientNormChart(records, { width: 320, height: 200 }) : undefined,
        history: steps.length >= 2 ? Plot.history(history, { width: 260, height: 150 }) : undefined,
      }
    }
    let last = 0
    setStatus({ kind: 'running', epoch: 0, loss: Number.NaN, accuracy: undefined })
    try {
      const { state } = await T.fitAsync({
        ...fitOptions(built),
        callbacks: [
          grads.callbacks,
          {
            onStep: ({ step, epoch, metrics }) => void steps.push({ step, epoch, loss: metrics.loss, accuracy: metrics.accuracy }),
            onEpochEnd: ({ record, state }) => {
              epochs.push(record)
              setStatus({ kind: 'running', epoch: record.epoch, loss: record.loss, accuracy: record.accuracy })
              if (performance.now() - last > REDRAW_MS) {
                last = performance.now()
                setCharts(draw(state.params, state.state))
              }
              return stop.current ? 'stop' : undefined
            },
          },
        ],
      })
      const final = draw(state.params, state.state)
      const onTrain = T.evaluate(built.model, state.params, state.state, built.data, { loss: built.loss })
      const onTest =
        built.test === undefined ? undefined : T.evaluate(built.model, state.params, state.state, built.test, { loss: built.loss })
      const wrong =
        built.test !== undefined && onTest?.predictions !== undefined && onTest.accuracy !== 1
          ? Plot.misclassified(built.test.x, built.test.y, onTest.predictions, { max: 24, columns: 6 })
          : undefined
      setCharts({ ...final, wrong })
      setStatus({ kind: 'done', epochs: epochs.length, loss: onTrain.loss, accuracy: onTrain.accuracy, test: onTest?.accuracy })
    } catch (e) {
      setStatus({ kind: 'error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })
    }
  }

  return (
    <>
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
        <Chart spec={charts.history} label="loss and accuracy over the steps" />
        {charts.wrong !== undefined && <Chart spec={charts.wrong} label="test digits the network gets wrong" />}
      </div>
    </>
  )
}

/** The status line of a run. */
const statusText = (s: RunStatus, epochs: number): string => {
  switch (s.kind) {
    case 'idle':
      return `${epochs} epochs with the configuration of Build.`
    case 'running':
      return s.epoch === 0
        ? 'training…'
        : `epoch ${s.epoch}/${epochs}: loss ${num(s.loss)}${s.accuracy === undefined ? '' : `, training accuracy ${pct(s.accuracy)}`}`
    case 'done':
      return (
        `done after ${s.epochs} epoch${s.epochs === 1 ? '' : 's'}: training loss ${num(s.loss)}` +
        (s.accuracy === undefined ? '' : `, training accuracy ${pct(s.accuracy)}`) +
        (s.test === undefined ? '' : `, test accuracy ${pct(s.test)}`)
      )
    case 'error':
      return s.message
  }
}
