/**
 * Step mode: one SGD step of the configured run at a time, from the initial params on the
 * mini-batches fit takes, one stage per click or arrow key: forward through each layer (its output, what its tape keeps),
 * the loss and its gradient, backward through each layer (dy in; dx and each dparam out, beside
 * the layer's maths and its vjp as the library writes it, with a gradient check against central
 * differences), then the optimizer's update (params and optimizer state, before and after).
 * The numbers are the library's own, recorded by playground/core's stepThrough.
 */
import type { ComponentChildren } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import sources from 'virtual:layer-sources'
import { Gradcheck, T, type Tensor, type Train } from 'chainrule'
import { batchAt, type Built } from '../core/build.ts'
import { sourceLines, type Reading } from '../core/layers.ts'
import {
  lossGradientOf,
  stageTitle,
  stepThrough,
  type BackwardStage,
  type Check,
  type CheckRow,
  type ForwardStage,
  type LossStage,
  type Named,
  type Stage,
  type Step,
  type TapeEntry,
  type UpdateStage,
} from '../core/step.ts'
import { nonFiniteHint } from '../core/train.ts'
import { stageId, stageIndex, type View } from '../core/view.ts'
import { keepEvery, start, walk, type Place } from '../core/walk.ts'
import { distinct, num, shape } from './format.ts'
import { Chart } from './chart.tsx'
import { Labels } from './labels.tsx'
import { Matrix, narrow } from './matrix.tsx'
import { centreCrop, firstExampleChannels, kernelPictures } from './views.ts'
import { expose } from './testing.ts'

/** Significant digits of the numbers in a stage: enough to find a gradient check's value in dx, or −lr·g in a param's change. */
const DIGITS = 4

/** The rows and columns a layer's params show in its forward stage: a 16×16 W whole. */
const WHOLE = 16

/**
 * A tensor under its name. A batch of images [N, C, H, W] is drawn as its first example's
 * channels, with the numbers of the middle of the first channel (its border is mostly 0); conv
 * kernels [out, in, kh, kw] (a param, its gradient, its optimizer state) as one picture per
 * filter, with each filter's numbers as a row.
 */
const Labelled = ({
  name,
  t,
  of = 'batch',
  maxRows,
  maxCols,
  marks = [],
}: {
  name: string
  t: Tensor
  of?: 'batch' | 'param'
  maxRows?: number
  maxCols?: number
  marks?: readonly number[]
}) => {
  const images = t.shape.length === 4 && t.shape[2]! > 1
  if (!images) return <NamedMatrix t={t} name={name} maxRows={maxRows} maxCols={maxCols} marks={marks} />
  if (of === 'param')
    return (
      <NamedMatrix t={t} name={name} maxRows={maxRows} maxCols={maxCols} marks={marks}>
        <Chart spec={kernelPictures(t, 'each filter')} renderer="canvas" label={`${name}: each filter as a picture`} />
      </NamedMatrix>
    )
  const side = narrow() ? 6 : 8 // a phone's column fits 6 cells of 4 digits
  const crop = centreCrop(t, side)
  const [rows, cols] = crop.t.shape
  // the marks that fall in the crop: example 0, channel 0, inside its rows and columns
  const [, c, h, w] = t.shape as [number, number, number, number]
  const inCrop = marks.flatMap((k) => {
    const [n, ch, i, j] = [Math.floor(k / (c * h * w)), Math.floor(k / (h * w)) % c, (Math.floor(k / w) % h) - crop.row, (k % w) - crop.col]
    return n === 0 && ch === 0 && i >= 0 && i < rows! && j >= 0 && j < cols! ? [i * cols! + j] : []
  })
  return (
    <div>
      <h3 class="mono">{name}</h3>
      <Chart
        spec={firstExampleChannels(t, `${shape(t.shape)}: the first example`)}
        renderer="canvas"
        label={`${name}: the first example's channels`}
      />
      <Matrix
        t={crop.t}
        label={`${name}: the middle of the first example's first channel`}
        maxCols={side}
        digits={DIGITS}
        marks={inCrop}
        origin={[crop.row, crop.col]}
        caption={
          `${shape(t.shape)} · example 0, channel 0, ` +
          `rows ${crop.row}–${crop.row + rows! - 1}, columns ${crop.col}–${crop.col + cols! - 1}`
        }
      />
    </div>
  )
}

/** A tensor's name, any picture of it, and its numbers. */
const NamedMatrix = ({
  name,
  t,
  maxRows,
  maxCols,
  marks,
  children,
}: {
  name: string
  t: Tensor
  maxRows?: number
  maxCols?: number
  marks?: readonly number[]
  children?: ComponentChildren
}) => (
  <div>
    <h3 class="mono">{name}</h3>
    {children}
    <Matrix t={t} label={name} maxRows={maxRows} maxCols={maxCols} digits={DIGITS} marks={marks} />
  </div>
)

/** Tensors under their names. */
const Tensors = ({
  items,
  prefix = '',
  of = 'batch',
  marksOf,
  whole = false,
}: {
  items: readonly Named[]
  prefix?: string
  of?: 'batch' | 'param'
  marksOf?: (n: Named) => readonly number[]
  /** Up to 16 rows and columns (a 16×16 W whole), so a chain-rule factor ∂y/∂x = W[i, j] can be found. */
  whole?: boolean
}) => (
  <>
    {items.map((n) => (
      <Labelled
        key={n.name}
        name={`${prefix}${n.name}`}
        t={n.tensor}
        of={of}
        marks={marksOf?.(n)}
        maxRows={whole ? WHOLE : undefined}
        maxCols={whole ? WHOLE : undefined}
      />
    ))}
  </>
)

/** The flat indices, into a tensor of the given shape, of a check's rows at `where` ('dx', 'W', ...). */
const checked = (c: Check, where: string, shapeOf: readonly number[]): number[] =>
  c.rows.filter((r) => r.where === where).map((r) => r.index.reduce((f, i, d) => f * shapeOf[d]! + i, 0))

/**
 * A layer's forward or vjp as the library writes it: its file's lines, or, where the file hands
 * its arrays to kernels, the readable kernels it runs, with a note saying so.
 */
const Source = ({ reading, property, open }: { reading: Reading; property: 'forward' | 'vjp'; open?: boolean }) => {
  const files = [...new Set(reading.excerpts.map((e) => e.file))]
  return (
    <details open={open}>
      <summary>
        its {property} in{' '}
        {files.map((f, i) => (
          <span key={f}>
            {i > 0 && ' and '}
            <code>{f}</code>
          </span>
        ))}
      </summary>
      {reading.note !== undefined && <p class="muted">{reading.note}</p>}
      {reading.excerpts.map((e) => {
        const text = sources[e.file]
        return (
          <pre key={`${e.file} ${e.name}`}>
            {(text === undefined ? undefined : sourceLines(text, e.name)) ?? `(no ${e.name} found in ${e.file})`}
          </pre>
        )
      })}
    </details>
  )
}

/**
 * A tape's indices (max-pool's argmax) as the numbers they are, in plain cells: flat indices into
 * the layer's input x, not magnitudes, so neither a picture nor a colour scale (for a batch of
 * images, the middle of the first example's first channel, as Labelled crops it).
 */
const Indices = ({ name, t }: { name: string; t: Tensor }) => {
  const images = t.shape.length === 4
  const crop = images ? centreCrop(t, narrow() ? 6 : 8) : undefined
  const [rows, cols] = crop === undefined ? [0, 0] : [crop.t.shape[0]!, crop.t.shape[1]!]
  const where =
    crop === undefined ? '' : ` · example 0, channel 0, rows ${crop.row}–${crop.row + rows - 1}, columns ${crop.col}–${crop.col + cols - 1}`
  return (
    <div>
      <h3 class="mono">{name}</h3>
      <p class="muted">Flat indices into x: for each output, where in x its window's max was. The vjp sends that output's dy there.</p>
      <Matrix
        t={crop?.t ?? t}
        label={`${name}: indices into x`}
        maxCols={crop?.t.shape[1]}
        indices
        origin={crop === undefined ? undefined : [crop.row, crop.col]}
        caption={`${shape(t.shape)}${where}`}
      />
    </div>
  )
}

/** What a layer's forward kept for its vjp, entry by entry. */
const Tape = ({ tape, title }: { tape: readonly TapeEntry[]; title: string }) => (
  <>
    <h3>{title}</h3>
    {tape.length === 0 ? (
      <p class="muted">nothing: its vjp needs no value from the forward pass</p>
    ) : (
      tape.map((e) =>
        typeof e.value === 'string' ? (
          <p key={e.name} class="mono">
            {e.name}: {e.value}
          </p>
        ) : e.indices === true ? (
          <Indices key={e.name} name={`tape.${e.name}`} t={e.value} />
        ) : (
          <Labelled key={e.name} name={`tape.${e.name}`} t={e.value} />
        ),
      )
    )}
  </>
)

const ForwardView = ({ s, before }: { s: ForwardStage; before: Stage | undefined }) => (
  <div class="cols">
    <div>
      <p>
        <strong class="mono">{s.formula}</strong>
      </p>
      <p class="muted">
        The layer maps the batch x {shape(s.x.shape)} to y {shape(s.y.shape)}, and keeps on its tape what its vjp will need.{' '}
        <span id="link-before">{before === undefined ? 'x is the batch of data.' : `x is the y of ${before.name}, the stage before.`}</span>
      </p>
      <Source reading={s.source} property="forward" />
      <Tensors items={s.params} of="param" whole />
    </div>
    <div>
      <Labelled name="x (in)" t={s.x} />
      <Labelled name="y (out)" t={s.y} />
      <Tape tape={s.tape} title="its tape" />
      {s.stateAfter.length > 0 && (
        <>
          <Tensors items={s.stateBefore} prefix="state before: " of="param" />
          <Tensors items={s.stateAfter} prefix="state after: " of="param" />
          <Tensors
            items={s.stateAfter.map((a, i) => ({ name: a.name, tensor: T.sub(a.tensor, s.stateBefore[i]!.tensor) }))}
            prefix="state change (after − before): "
            of="param"
          />
        </>
      )}
    </div>
  </div>
)

/** The loss's gradient for the first example, entry by entry, in the factors of its formula, each found in the tables beside. */
const LossByHand = ({ s }: { s: LossStage }) => {
  const [N, C] = [s.prediction.shape[0]!, s.prediction.shape[1]!]
  const p = s.loss === 'softmaxCrossEntropy' ? 'softmax(z)' : 'p'
  const t = s.loss === 'mse' ? 't' : 'onehot(y)'
  const d = s.loss === 'mse' ? `K/2 = ${N}·${C}/2` : s.loss === 'crossEntropy' ? `N·p[0, c]` : `N = ${N}`
  return (
    <div id="loss-by-hand">
      <h3>the first example's gradient, by hand</h3>
      <p class="muted">
        Row 0 of {s.loss === 'softmaxCrossEntropy' ? 'softmax(z)' : 'the prediction'}, of the one-hot target and of ∂loss/∂prediction,
        combined as the formula says{s.loss === 'crossEntropy' ? '' : `, divided by ${d}`}:
      </p>
      <ul class="terms">
        {lossGradientOf(s, 0).map((e) => (
          <li key={e.c} class="mono">
            {s.loss === 'crossEntropy'
              ? `∂L/∂p[0, ${e.c}] = −${t}[0, ${e.c}] / (N·p[0, ${e.c}]) = −${e.t} / (${N} × ${num(e.p)}) = ${num(e.grad)}`
              : `∂L/∂${s.loss === 'mse' ? 'p' : 'z'}[0, ${e.c}] = (${p}[0, ${e.c}] − ${t}[0, ${e.c}]) / ${num(e.d)} = ` +
                `(${num(e.p)} − ${e.t}) / ${num(e.d)} = ${num(e.grad)}`}
          </li>
        ))}
      </ul>
    </div>
  )
}

const LossView = ({ s }: { s: LossStage }) => (
  <div class="cols">
    <div>
      <p>
        <strong class="mono">{s.formula}</strong>
      </p>
      <p>
        loss on this batch: <strong id="step-loss">{num(s.value, 6)}</strong>
      </p>
      <p class="muted">Its gradient with respect to the network's output is the dy that starts backprop at the last layer.</p>
      <h3 class="mono">target</h3>
      <p class="muted">The labels the loss compares the prediction with: each example's class, and as a one-hot row.</p>
      <Labels t={s.target} classes={s.prediction.shape[1] ?? 1} label="target" />
      <LossByHand s={s} />
    </div>
    <div>
      <Labelled name="prediction (the network's output)" t={s.prediction} />
      {s.probabilities !== undefined && <Labelled name="softmax(z): the prediction as probabilities" t={s.probabilities} />}
      <Labelled name="∂loss/∂prediction" t={s.grad} />
    </div>
  </div>
)

const CheckTable = ({ c, focus, onFocus }: { c: Check; focus: number; onFocus: (i: number) => void }) => (
  <>
    <h3>
      gradient check:{' '}
      <span class={c.ok ? 'ok' : 'bad'}>
        {c.ok ? 'agrees' : 'disagrees'} (worst error {num(c.maxError, 2)}, tolerance {num(c.tolerance, 2)})
      </span>
    </h3>
    <p class="muted" id="check-what">
      Sampled coordinates θ of the input and of each param: the vjp's value (analytic) against a central difference (numeric) of φ = Σ dy ⊙
      y, the one number whose gradient the vjp computes (∂φ/∂x = dx, ∂φ/∂p = dp for each param p; y is the layer's output, with the key it
      had in the step): (φ(θ + h) − φ(θ − h))/2h, h = {num(c.h)}. The error is |analytic − numeric| / max(1, |analytic|, |numeric|). Each
      row writes its two values with as many digits as it takes to tell them apart (up to 10): the digits they share are where they agree.
    </p>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">where</th>
            <th scope="col">analytic</th>
            <th scope="col">numeric</th>
            <th scope="col">error</th>
          </tr>
        </thead>
        <tbody>
          {c.rows.map((r, i) => {
            const [analytic, numeric] = distinct(r.analytic, r.numeric)
            return (
              <tr key={i}>
                <td class="mono">
                  {r.where}[{r.index.join(', ')}]{r.kink ? ' (kink)' : ''}
                </td>
                <td class="mono">{analytic}</td>
                <td class="mono">{numeric}</td>
                <td class={`mono ${r.error <= c.tolerance ? 'ok' : 'bad'}`}>{num(r.error, 2)}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
    <KinkNote c={c} />
    <ChainRule c={c} focus={focus} onFocus={onFocus} />
  </>
)

/** θ at a row, as the layer names it: x for dx, the param for a dparam ("W[3, 1]"). */
const thetaOf = (r: CheckRow): string => `${r.where === 'dx' ? 'x' : r.where}[${r.index.join(', ')}]`

/**
 * The chain rule at each checked coordinate θ, with its numbers: the vjp's value is Σₖ dy[k]·∂y[k]/∂θ over the outputs
 * y[k] that θ moves, each term dy[k] (in dy) times how much y[k] moves with θ; the largest terms are listed, and the
 * full sum is the central difference of the table.
 */
const ChainRule = ({ c, focus, onFocus }: { c: Check; focus: number; onFocus: (i: number) => void }) => (
  <div id="chain-rule">
    <h3>the chain rule at each checked coordinate</h3>
    <p class="muted">
      The vjp computes Σₖ dy[k] · ∂y[k]/∂θ, over the outputs y[k] of this layer that θ moves: how much the loss changes with y[k] (dy[k],
      from the layer above) times how much y[k] changes with θ (here by central difference). The largest terms are listed; all of them sum
      to the numeric column. The open one's dy[k] are outlined in dy.
    </p>
    {c.rows.map((r, i) => {
      const theta = thetaOf(r)
      const rest = r.termCount - r.terms.length
      return (
        <details
          key={i}
          open={i === focus}
          onToggle={(e) => {
            const open = e.currentTarget.open
            if (open && i !== focus) onFocus(i)
            else if (!open && i === focus) onFocus(-1)
          }}
        >
          <summary class="mono">
            d{theta} = Σₖ dy[k] · ∂y[k]/∂{theta}: {r.termCount === 1 ? '1 term' : `${r.termCount} terms`}
          </summary>
          {r.termCount === 0 ? (
            <p class="muted">θ moves no output here, so the sum is empty: 0.</p>
          ) : (
            <ul class="terms">
              {r.terms.map((t) => (
                <li key={t.index.join(',')} class="mono">
                  dy[{t.index.join(', ')}] · ∂y[{t.index.join(', ')}]/∂{theta} = {num(t.dy)} × {num(t.local)} = {num(t.dy * t.local)}
                </li>
              ))}
              {rest > 0 && (
                <li class="muted">
                  and {rest} smaller {rest === 1 ? 'term' : 'terms'}
                </li>
              )}
              <li class="mono">
                sum of all {r.termCount}: {num(r.numeric, 6)} (numeric) · the vjp: {num(r.analytic, 6)} (analytic)
              </li>
            </ul>
          )}
        </details>
      )
    })}
  </div>
)

/**
 * What "(kink)" in a check's table means, said under the table where a row has it (no hover: a
 * phone has none): the central difference straddles a point where the function has no
 * derivative, so the row's error compares the vjp with the nearer one-sided difference instead.
 */
const KinkNote = ({ c }: { c: Check }) => {
  const kinks = c.rows.filter((r) => r.kink)
  if (kinks.length === 0) return null
  return (
    <div class="note" id="kink-note">
      <p>
        <strong>(kink)</strong>: this input lies within h = {num(c.h)} of a point where the layer's output has no derivative, a corner (a
        relu input at 0, two inputs tied for a max-pool window's max). The central difference straddles the corner and averages the slopes
        of its two sides, so it is not the derivative there, and the row's error does not use it: the vjp gives the slope of one side, and
        the error compares it with the nearer of the one-sided differences, (φ(θ) − φ(θ − h))/h from the left and (φ(θ + h) − φ(θ))/h from
        the right.
      </p>
      <ul>
        {kinks.map((r, i) => {
          const fromLeft = Gradcheck.mixedError(r.analytic, r.left) <= Gradcheck.mixedError(r.analytic, r.right)
          return (
            <li key={i} class="mono">
              {r.where}[{r.index.join(', ')}]: left {num(r.left, 6)}, right {num(r.right, 6)}: the vjp gave {num(r.analytic, 6)}, nearer the{' '}
              {fromLeft ? 'left' : 'right'} (error {num(r.error, 2)})
            </li>
          )
        })}
      </ul>
    </div>
  )
}

const BackwardView = ({ s, before }: { s: BackwardStage; before: Stage | undefined }) => {
  // the check row whose chain rule is open: its terms' dy[k] are outlined in dy
  const [focus, setFocus] = useState(0)
  const terms = s.check.rows[focus]?.terms ?? []
  return (
    <div class="cols">
      <div>
        <p>
          <strong class="mono">{s.formula}</strong>
        </p>
        <p class="muted">
          dy comes in from the layer above; the vjp hands dx down to the layer below and keeps each dparam for the update.{' '}
          <span id="link-before">
            {before?.kind === 'backward'
              ? `dy is the dx that ${before.name} handed down, the stage before: ` +
                '∂loss/∂y, carried back one layer at a time by the chain rule.'
              : 'dy is ∂loss/∂prediction, from the loss stage: where the chain rule starts.'}
          </span>
        </p>
        <Source reading={s.source} property="vjp" open />
        <CheckTable c={s.check} focus={focus} onFocus={setFocus} />
      </div>
      <div>
        <Labelled name="dy (in)" t={s.dy} marks={terms.map((t) => t.index.reduce((f, i, d) => f * s.dy.shape[d]! + i, 0))} />
        {s.dx === undefined ? (
          <p class="muted">no dx: the first layer's input is the data</p>
        ) : (
          <Labelled name="dx (out)" t={s.dx} marks={checked(s.check, 'dx', s.dx.shape)} />
        )}
        <Tensors items={s.dp} prefix="d" of="param" marksOf={(n) => checked(s.check, n.name, n.tensor.shape)} />
        <Tape tape={s.tape} title="its tape, kept by its forward: what the vjp reads" />
      </div>
    </div>
  )
}

const UpdateView = ({ s }: { s: UpdateStage }) => {
  const h = s.byHand
  // the worked coordinate, outlined in its param's tables and in its optimizer state's
  const marksOf = (name: string, t: Tensor): number[] =>
    h !== undefined && (name === h.param || name.endsWith(` of ${h.param}`)) ? [h.index.reduce((f, i, d) => f * t.shape[d]! + i, 0)] : []
  return (
    <>
      <p>
        <strong class="mono">{s.formula}</strong>
      </p>
      <p>learning rate at this step: {num(s.lr, 6)}</p>
      {h !== undefined && (
        <div id="update-by-hand">
          <h3>
            one coordinate by hand: <span class="mono">{`${h.param}[${h.index.join(', ')}]`}</span>
          </h3>
          <p class="muted">
            The coordinate of largest |g| in the first param, outlined in its tables below: the rule, line by line, with the numbers the
            tables show (4 digits); the last line is p after the update, the library's {num(h.after, 6)}.
          </p>
          <ul class="terms">
            {h.lines.map((l) => (
              <li key={l} class="mono">
                {l}
              </li>
            ))}
          </ul>
        </div>
      )}
      <h3>params: the gradient, before and after, and the change</h3>
      <p class="muted">
        The change is after − before, what the update did: with a small learning rate before and after agree to the digits shown, and the
        change is where to look.
      </p>
      {s.params.map((p) => (
        <div key={p.name} class="triple">
          <Labelled name={`${p.name}: gradient`} t={p.grad} of="param" maxCols={4} marks={marksOf(p.name, p.grad)} />
          <Labelled name={`${p.name}: before`} t={p.before} of="param" maxCols={4} marks={marksOf(p.name, p.before)} />
          <Labelled name={`${p.name}: after`} t={p.after} of="param" maxCols={4} marks={marksOf(p.name, p.after)} />
          <Labelled name={`${p.name}: change`} t={p.change} of="param" maxCols={4} marks={marksOf(p.name, p.change)} />
        </div>
      ))}
      {s.optState.length > 0 && <h3>the optimizer's state, before and after</h3>}
      {s.optState.map((o) => (
        <div key={o.path} class="triple">
          <Labelled name={`${o.name}: before`} t={o.before} of="param" maxCols={4} marks={marksOf(o.name, o.before)} />
          <Labelled name={`${o.name}: after`} t={o.after} of="param" maxCols={4} marks={marksOf(o.name, o.after)} />
        </div>
      ))}
    </>
  )
}

/** A stage's view; `before` is the stage before it in the step (whose output this one takes in). */
const StageView = ({ s, before }: { s: Stage; before: Stage | undefined }) => {
  switch (s.kind) {
    case 'forward':
      return <ForwardView s={s} before={before} />
    case 'loss':
      return <LossView s={s} />
    case 'backward':
      return <BackwardView key={s.layer} s={s} before={before} />
    case 'update':
      return <UpdateView s={s} />
  }
}

/** A stage as plain JSON for the tests: its title and its tensors' values. */
const stageData = (s: Stage): Record<string, unknown> => {
  const t = (x: Tensor | undefined) => (x === undefined ? undefined : { shape: [...x.shape], data: [...x.data] })
  switch (s.kind) {
    case 'forward':
      return { title: stageTitle(s), layer: s.layer, y: t(s.y) }
    case 'loss':
      return { title: stageTitle(s), value: s.value, grad: t(s.grad), target: t(s.target) }
    case 'backward':
      return {
        title: stageTitle(s),
        layer: s.layer,
        dx: t(s.dx),
        dp: s.dp.map((d) => ({ name: d.name, ...t(d.tensor) })),
        ok: s.check.ok,
        check: s.check.rows.map((r) => ({ where: r.where, index: r.index, analytic: r.analytic, numeric: r.numeric })),
      }
    case 'update':
      return { title: stageTitle(s), params: s.params.map((p) => ({ name: p.name, layer: p.layer, after: t(p.after) })) }
  }
}

/**
 * What the panel knows of its run: states before steps it keeps (the start, every `keepEvery`-th
 * place and the furthest reached), the few steps it showed last (their stages), and the first step
 * that could not be taken (its index and what the library said), if one failed.
 */
interface Known {
  readonly built: Built
  readonly places: Map<number, Train.TrainState>
  furthest: Place
  readonly steps: Map<number, Step>
  failed: { readonly at: number; readonly message: string } | undefined
}

/** Steps whose stages the panel keeps (the one shown and the few before, for Back and "previous step"). */
const SHOWN = 8

/** About how long a slice of a walk to a far step runs before the page draws its progress and hears its clicks (ms). */
const SLICE_MS = 30

/** What the panel knows of a run it has just been given: the state before its first step. */
const knownOf = (built: Built): Known => {
  const first = start(built)
  return { built, places: new Map([[0, first.state]]), furthest: first, steps: new Map(), failed: undefined }
}

/** What the library threw, as the page says it (with a hint for a NaN or an infinity). */
const failure = (built: Built, at: number, e: unknown): Known['failed'] => {
  const hint = e instanceof Error && e.name === 'NonFiniteError' ? ` ${nonFiniteHint(built.config)}` : ''
  return { at, message: e instanceof Error ? `${e.name}: ${e.message}${hint}` : String(e) }
}

/** The nearest place at or before step k whose state the panel knows. */
const placeBefore = (known: Known, k: number): Place => {
  if (known.furthest.at <= k) return known.furthest
  let best: Place = { at: 0, state: known.places.get(0)! }
  for (const [at, state] of known.places) if (at <= k && at > best.at) best = { at, state }
  for (const [at, s] of known.steps) if (at + 1 <= k && at + 1 > best.at) best = { at: at + 1, state: s.after }
  return best
}

/** Remembers a place: kept if its step is a multiple of keepEvery, and as the furthest if it is. */
const reached = (known: Known, p: Place): void => {
  if (p.at % keepEvery(known.built.totalSteps) === 0) known.places.set(p.at, p.state)
  if (p.at > known.furthest.at) known.furthest = p
}

/**
 * Step k with its stages, if the state before it is known (else undefined: the panel walks there
 * first); takes it with stepThrough, or records that it failed.
 */
const stepOf = (known: Known, k: number): Step | undefined => {
  const kept = known.steps.get(k)
  if (kept !== undefined) return kept
  const from = placeBefore(known, k)
  if (from.at !== k || (known.failed !== undefined && known.failed.at <= k)) return undefined
  try {
    const s = stepThrough(known.built, from.state, batchAt(known.built, k))
    known.steps.set(k, s)
    for (const old of known.steps.keys()) if (known.steps.size > SHOWN) known.steps.delete(old)
    reached(known, { at: k + 1, state: s.after })
    return s
  } catch (e) {
    known.failed = failure(known.built, k, e)
    return undefined
  }
}

/** Props of StepPanel: the built run, whether it is the shown mode (the arrow keys are its only then), where the page is, how to move. */
export interface StepPanelProps {
  readonly built: Built
  readonly active: boolean
  readonly view: View
  /** Moves the page (a new history entry); `to` maps the view as it is when the move is made. */
  readonly move: (to: (v: View) => View) => void
}

/** The Step mode's panel for a built run, at the step and stage the view names. */
export const StepPanel = ({ built, active, view, move }: StepPanelProps) => {
  const known = useRef<Known | undefined>(undefined)
  if (known.current?.built !== built) known.current = knownOf(built)
  const k0 = known.current
  const wanted = Math.min(view.step, built.totalSteps - 1)
  // the step the view names, or the run's last, or the last before one that failed
  const target = (): number => Math.min(wanted, k0.failed === undefined ? Infinity : k0.failed.at - 1)
  let step = target() < 0 ? undefined : stepOf(k0, target())
  if (step === undefined && target() >= 0) step = stepOf(k0, target()) // stepOf may have found that step failing: then the one before
  const k = target()
  const { failed } = k0
  const error = failed !== undefined && k < 0 ? `The run's first step cannot be taken: ${failed.message}` : undefined
  // a step whose state is not known yet is walked to in slices, yielding to the page between them
  const [walking, setWalking] = useState<Place | undefined>(undefined)
  const need = step === undefined && k >= 0 ? k : undefined
  useEffect(() => {
    if (need === undefined) {
      setWalking(undefined)
      return
    }
    let timer: ReturnType<typeof setTimeout> | undefined
    let place = placeBefore(k0, need)
    const every = keepEvery(built.totalSteps)
    let budget = 1 // steps per slice: doubled while a slice is short, halved when it is long
    const slice = (): void => {
      const t0 = performance.now()
      const w = walk(built, place, need, Math.min(budget, every - (place.at % every))) // each slice ends at a kept place, if not before
      const took = performance.now() - t0
      budget = took < SLICE_MS / 2 ? Math.min(budget * 2, every) : took > SLICE_MS * 2 ? Math.max(1, Math.floor(budget / 2)) : budget
      place = w.place
      reached(k0, place)
      if (w.failed !== undefined) k0.failed = failure(built, w.failed.at, w.failed.error)
      if (place.at === need) k0.places.set(place.at, place.state) // arrived: the step is taken from here
      setWalking(place)
      if (place.at < need && k0.failed === undefined) timer = setTimeout(slice, 0)
    }
    setWalking(place)
    timer = setTimeout(slice, 0)
    return () => clearTimeout(timer)
  }, [built, need])
  // stop: show the step the walk has reached (its state is kept, so it shows at once)
  const stop = (): void => {
    if (walking === undefined) return
    k0.places.set(walking.at, walking.state)
    move((v) => ({ ...v, step: walking.at }))
  }
  const stages = step?.stages ?? []
  const layers = built.config.layers
  const count = stages.length
  const { index: at, missing } = stageIndex(view, stages, layers)
  // from the view as it is when the move is made, not when a handler was made (a key can come before the handler is renewed)
  const go = (to: number | ((from: number) => number)): void =>
    move((v) => {
      const from = stageIndex(v, stages, layers).index
      const i = Math.max(0, Math.min(count - 1, typeof to === 'number' ? to : to(from)))
      return { ...v, step: k, stage: i === 0 ? undefined : stageId(stages[i]!, layers) }
    })
  const toStep = (to: number): void => move((v) => ({ ...v, step: Math.max(0, Math.min(built.totalSteps - 1, to)) }))
  useEffect(() => {
    if (!active) return
    const onKey = (e: KeyboardEvent): void => {
      const t = e.target instanceof HTMLElement ? e.target : null
      if (t !== null && (t.matches('input, select, textarea') || t.getAttribute('role') === 'tab')) return
      const to = { ArrowRight: (a: number) => a + 1, ArrowLeft: (a: number) => a - 1, Home: 0, End: count - 1 }[e.key]
      if (to !== undefined && (e.key.startsWith('Arrow') || toolbar.current?.contains(t) === true)) {
        e.preventDefault()
        go(to)
      }
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [active, at, count, step])
  // the stages are one tab stop (the current one); while one has the focus, the focus follows the stage
  const toolbar = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const bar = toolbar.current
    if (bar !== null && bar.contains(document.activeElement)) bar.querySelectorAll('button')[at]?.focus()
  }, [at])
  useEffect(() => {
    if (step !== undefined) expose({ step: { step: k, at, count, stage: stageData(step.stages[at]!) } })
  }, [step, k, at])
  if (error !== undefined)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    )
  if (step === undefined)
    return (
      <div class="row" id="walk">
        <span class="status" role="status">
          computing step {(walking?.at ?? 0) + 1} of {k + 1}
        </span>
        <progress max={k} value={walking?.at ?? 0} aria-label="steps computed" />
        <button type="button" onClick={stop} disabled={walking === undefined}>
          stop here
        </button>
        <span class="muted">Each step starts from the params the one before left, so the steps before it are taken first.</span>
      </div>
    )
  const stage = step.stages[at]!
  const epoch = Math.floor(k / built.stepsPerEpoch) + 1
  return (
    <>
      <div class="row">
        <span>
          <strong>step {k + 1}</strong> of the run (epoch {epoch}, batch {(k % built.stepsPerEpoch) + 1} of {built.stepsPerEpoch}):{' '}
          {step.batch.x.shape[0]} examples, loss {num(step.metrics.loss)}
        </span>
        <button type="button" onClick={() => toStep(k - 1)} disabled={k === 0}>
          previous step
        </button>
        <button type="button" onClick={() => toStep(k + 1)} disabled={k + 1 >= built.totalSteps || failed?.at === k + 1}>
          take the next step
        </button>
      </div>
      <p class="muted">
        Each step starts from the params the one before left, on the mini-batch Train.fit takes next. ← and → move between the stages of
        this step; taking another step keeps the stage you are on. The address names the step and the stage, so it links here, and the
        browser's Back returns to the stage before.
      </p>
      {(missing || k < view.step) && (
        <p class="note" id="view-note">
          {missing &&
            `This network has no stage ${view.stage ?? ''} (the link was made for another network?), so the step starts at its first. `}
          {k < view.step &&
            (failed !== undefined && failed.at <= view.step
              ? `Step ${failed.at + 1} of the run cannot be taken, so this is step ${k + 1}, the last it reaches: ${failed.message}`
              : `This run has ${built.totalSteps} steps, not ${view.step + 1}: this is its last.`)}
        </p>
      )}
      <div role="toolbar" aria-label="stages of the step" class="stages" ref={toolbar}>
        {step.stages.map((s, i) => (
          <button key={i} type="button" tabIndex={i === at ? 0 : -1} aria-current={i === at ? 'step' : undefined} onClick={() => go(i)}>
            {stageTitle(s)}
          </button>
        ))}
      </div>
      <div class="row">
        <button type="button" onClick={() => go((a) => a - 1)} disabled={at === 0}>
          ← previous stage
        </button>
        <button type="button" class="primary" onClick={() => go((a) => a + 1)} disabled={at === count - 1}>
          next stage →
        </button>
        <span class="status" aria-live="polite">
          stage {at + 1} of {count}
        </span>
      </div>
      <section class="stage" aria-label={stageTitle(stage)}>
        <h2 id="stage-title">{stageTitle(stage)}</h2>
        <StageView s={stage} before={step.stages[at - 1]} />
      </section>
    </>
  )
}
