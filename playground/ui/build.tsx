/**
 * Build mode: the data set, the layers (add, remove, move, edit), the loss, the optimizer, the
 * learning rate or schedule, the batch size, the epochs and the seed; beside them the `L.pipe`
 * code a user would write for the same run, ready to copy, and what is wrong with the
 * configuration, if anything, said where it is.
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks'
import {
  classesOf,
  dataSets,
  defaultData,
  defaultLr,
  defaultOptimizer,
  defaults,
  lossNames,
  lrKinds,
  optimizerNames,
  type Config,
  type DataSetName,
  type LayerShape,
  type LossName,
  type LrKind,
  type OptimizerName,
  type Problem,
  totalStepsOf,
} from '../core/config.ts'
import { defaultLayer, layerKinds, shortName, type LayerConfig, type LayerKind } from '../core/layers.ts'
import { Fields } from './fields.tsx'
import { shape } from './format.ts'

/** Props of Build: the configuration, its layers' shapes and names, its problems, its code, and the configuration after an edit. */
export interface BuildProps {
  readonly config: Config
  readonly shapes: readonly LayerShape[]
  readonly problems: readonly Problem[]
  readonly code: string | undefined
  readonly onChange: (next: Config) => void
}

/** A layer's settings' choices: a conv2d's padding is 'valid', 'same' or a number of rows. */
const layerChoices = { padding: ['valid', 'same', 0, 1, 2, 3] } as const

/** One layer of the list: its name, its settings, and buttons to move or remove it. */
const LayerRow = ({
  layer,
  short,
  index,
  count,
  info,
  problems,
  update,
}: {
  layer: LayerConfig
  /** "dense 2": the words its settings' and buttons' accessible names start with, and its problems' messages too. */
  short: string
  index: number
  count: number
  info: LayerShape | undefined
  problems: readonly Problem[]
  update: (op: 'up' | 'down' | 'remove' | LayerConfig) => void
}) => {
  const name = info?.name ?? short
  const problemsId = `${useId()}-problems`
  return (
    <li aria-label={name}>
      <span class="name">
        {name}
        {info !== undefined && (
          <span class="muted">
            {' '}
            → {shape(info.outShape)}
            {info.params > 0 && ` · ${info.params.toLocaleString('en-US')} params`}
          </span>
        )}
      </span>
      <span class="row" style={{ margin: 0 }}>
        <Fields
          value={layer}
          skip={['kind']}
          owner={short}
          choices={layerChoices}
          problemsId={problems.length > 0 ? problemsId : undefined}
          onChange={(next) => update(next)}
        />
      </span>
      <span class="row" style={{ margin: 0 }}>
        <button type="button" aria-label={`move ${short} up`} disabled={index === 0} onClick={() => update('up')}>
          ↑
        </button>
        <button type="button" aria-label={`move ${short} down`} disabled={index === count - 1} onClick={() => update('down')}>
          ↓
        </button>
        <button type="button" aria-label={`remove ${short}`} onClick={() => update('remove')}>
          ✕
        </button>
      </span>
      {problems.length > 0 && (
        <span class="problems error" id={problemsId}>
          {problems.map((p) => (
            <span key={p.message}>{p.message}</span>
          ))}
        </span>
      )}
    </li>
  )
}

/** The layers: the list, and a row to add one. */
const Layers = ({ config, shapes, problems, onChange }: BuildProps) => {
  const [kind, setKind] = useState<LayerKind>('dense')
  const [at, setAt] = useState<number | 'end'>('end')
  const set = (layers: readonly LayerConfig[]): void => onChange({ ...config, layers })
  // a moved layer keeps the focus: its move button in its new row (the rows are by place, so the focus would stay behind)
  const refocus = useRef<string | undefined>(undefined)
  useEffect(() => {
    if (refocus.current === undefined) return
    document.querySelector<HTMLButtonElement>(`ol.layers button[aria-label="${refocus.current}"]`)?.focus()
    refocus.current = undefined
  })
  const update = (i: number) => (op: 'up' | 'down' | 'remove' | LayerConfig) => {
    const ls = [...config.layers]
    if (op === 'remove') ls.splice(i, 1)
    else if (op === 'up' || op === 'down') {
      const j = op === 'up' ? i - 1 : i + 1
      ;[ls[i], ls[j]] = [ls[j]!, ls[i]!]
      const again = op === 'up' ? j > 0 : j < ls.length - 1 // at the top (or the bottom) the other way is the one left
      refocus.current = `move ${shortName(ls, j)} ${again ? op : op === 'up' ? 'down' : 'up'}`
    } else ls[i] = op
    set(ls)
  }
  const add = (): void => {
    const ls = [...config.layers]
    ls.splice(at === 'end' ? ls.length : at, 0, defaultLayer(kind))
    set(ls)
  }
  return (
    <>
      <ol class="layers" aria-label="layers">
        {config.layers.map((l, i) => (
          <LayerRow
            key={i}
            layer={l}
            short={shortName(config.layers, i)}
            index={i}
            count={config.layers.length}
            info={shapes[i]}
            problems={problems.filter((p) => p.layer === i)}
            update={update(i)}
          />
        ))}
      </ol>
      <div class="row">
        <label>
          add a{' '}
          <select aria-label="add a layer of kind" value={kind} onChange={(e) => setKind(kindOf(e.currentTarget.value))}>
            {layerKinds.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <label>
          at{' '}
          <select
            aria-label="add it at"
            value={String(at)}
            onChange={(e) => setAt(e.currentTarget.value === 'end' ? 'end' : Number(e.currentTarget.value))}
          >
            {config.layers.map((_, i) => (
              <option key={i} value={String(i)}>
                before {shortName(config.layers, i)}
              </option>
            ))}
            <option value="end">the end</option>
          </select>
        </label>
        <button type="button" onClick={add}>
          add layer
        </button>
      </div>
    </>
  )
}

/** The layer kind a select's text names (its options are the kinds). */
const kindOf = (text: string): LayerKind => layerKinds.find((k) => k === text) ?? 'dense'

/** A labelled select of names. */
const Choice = <T extends string>({
  label,
  value,
  options,
  onChange,
}: {
  label: string
  value: T
  options: readonly T[]
  onChange: (v: T) => void
}) => {
  const id = useId()
  return (
    <>
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(options.find((o) => o === e.currentTarget.value) ?? value)}>
        {options.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
    </>
  )
}

/** The code a user writes, with a button that copies it. */
const Code = ({ code, where }: { code: string | undefined; where: string }) => {
  const [copied, setCopied] = useState(false)
  const copy = (): void => {
    if (code === undefined) return
    navigator.clipboard
      .writeText(code)
      .then(() => setCopied(true))
      .catch(() => setCopied(false))
    setTimeout(() => setCopied(false), 1500)
  }
  return (
    <>
      <div class="row">
        <h2 style={{ margin: 0 }}>The same run in TypeScript</h2>
        <button type="button" onClick={copy} disabled={code === undefined}>
          {copied ? 'copied' : 'copy'}
        </button>
      </div>
      <p class="muted">What this page runs, as you would write it with chainrule: run in Node, it gives the same numbers.</p>
      <pre aria-label="the code of this network" id="code">
        {code ?? `(none yet: fix the problems ${where} first)`}
      </pre>
    </>
  )
}

/** The Build mode's panel. */
export const Build = (props: BuildProps) => {
  const { config, problems, onChange } = props
  const general = problems.filter((p) => p.layer === undefined)
  return (
    <div class="cols">
      <div>
        <h2>Data</h2>
        <div class="controls">
          <Choice<DataSetName>
            label="data set"
            value={config.data.set}
            options={dataSets}
            onChange={(set) =>
              onChange(
                set === 'mnist' || config.data.set === 'mnist'
                  ? defaults(set)
                  : { ...config, data: defaultData(set), layers: fitLast(config, set) },
              )
            }
          />
          <Fields
            value={config.data}
            skip={['set']}
            labels={{ size: 'examples', seed: 'data seed', testSize: 'test examples' }}
            onChange={(data) => onChange({ ...config, data })}
          />
        </div>
        <h2>Layers</h2>
        <p class="muted">The network is L.pipe of these, first to last; each name says what it maps.</p>
        <Layers {...props} />
        <h2>Training</h2>
        <div class="controls">
          <Choice<LossName> label="loss" value={config.loss} options={lossNames} onChange={(loss) => onChange({ ...config, loss })} />
          <Choice<OptimizerName>
            label="optimizer"
            value={config.optimizer.name}
            options={optimizerNames}
            onChange={(name) => onChange({ ...config, optimizer: defaultOptimizer(name) })}
          />
          <Fields value={config.optimizer} skip={['name']} owner="optimizer" onChange={(optimizer) => onChange({ ...config, optimizer })} />
          <Choice<LrKind>
            label="learning rate"
            value={config.lr.kind}
            options={lrKinds}
            onChange={(kind) =>
              onChange({ ...config, lr: defaultLr(kind, firstRate(config), isRunnable(config) ? totalStepsOf(config) : undefined) })
            }
          />
          <Fields value={config.lr} skip={['kind']} owner="learning rate" onChange={(lr) => onChange({ ...config, lr })} />
          <Fields
            value={{ batchSize: config.batchSize, epochs: config.epochs, seed: config.seed }}
            labels={{ batchSize: 'batch size', seed: 'network seed' }}
            onChange={(run) => onChange({ ...config, ...run })}
          />
        </div>
      </div>
      <div>
        {general.length > 0 && (
          <div role="alert">
            <h2 class="error">What needs fixing</h2>
            <ul>
              {general.map((p) => (
                <li key={p.message} class="error">
                  {p.message}
                </li>
              ))}
            </ul>
          </div>
        )}
        <Code
          code={props.code}
          where={
            general.length === 0
              ? 'named beside the layers'
              : problems.length > general.length
                ? 'listed above and beside the layers'
                : 'listed above'
          }
        />
      </div>
    </div>
  )
}

/** Whether a configuration's steps can be counted (its examples, batch size and epochs are numbers). */
const isRunnable = (c: Config): boolean => [c.data.size, c.batchSize, c.epochs].every((v) => Number.isInteger(v) && v > 0)

/** The starting learning rate of a configuration, whatever its schedule. */
const firstRate = (c: Config): number => {
  const lr = c.lr
  return lr.kind === 'constant' ? lr.value : 'init' in lr ? lr.init : lr.peak
}

/** The layers for another 2-D set: the same, with the last dense sized to its classes. */
const fitLast = (c: Config, set: DataSetName): readonly LayerConfig[] => {
  const classes = classesOf(defaultData(set))
  const last = c.layers.map((l) => l.kind).lastIndexOf('dense')
  return c.layers.map((l, i) => (i === last && l.kind === 'dense' ? { ...l, units: classes } : l))
}
