/**
 * Labelled inputs for the settings of one thing (a layer, the data set, the optimizer): a number
 * box for each number, a checkbox for each flag. A number is taken as it is typed; a box that
 * holds no number (empty, or "1e") is marked invalid, says so beside it, and reaches the
 * configuration as NaN, so the configuration's check names the problem too and nothing runs on
 * a value the box no longer shows. Where the owner names its problems beside its settings (a
 * layer's row), the box says nothing itself and is described by that text. Each input's
 * accessible name holds its visible label.
 */
import type { ComponentChildren } from 'preact'
import { useEffect, useId, useState } from 'preact/hooks'

/** A setting's value. */
type Value = number | boolean | string

/** Props of Fields: the record, the keys to leave out, the labels' prefix (for screen readers), and the record after an edit. */
export interface FieldsProps<R extends object> {
  readonly value: R
  readonly skip?: readonly string[]
  /** Says whose setting it is, before its label in the accessible name ("dense 2" → "dense 2 units"); none where the label is enough. */
  readonly owner?: string
  readonly onChange: (next: R) => void
  /** Choices for a setting that is one of a few texts or numbers, by key. */
  readonly choices?: Readonly<Record<string, readonly Value[]>>
  /** What a person reads for a key, where the key alone would not do ('seed' of the data and of the network). */
  readonly labels?: Readonly<Record<string, string>>
  /** The id of the element that names the record's problems: a box that holds no number points there and says nothing itself. */
  readonly problemsId?: string
}

/** One labelled input. */
const Field = ({
  text,
  value,
  owner,
  choices,
  problemsId,
  set,
}: {
  text: string
  value: Value
  owner: string | undefined
  choices?: readonly Value[]
  problemsId: string | undefined
  set: (v: Value) => void
}) => {
  const id = useId()
  const label = <label for={id}>{text}</label>
  const named = owner === undefined ? undefined : `${owner} ${text}`
  if (choices !== undefined)
    return (
      <>
        {label}
        <select id={id} aria-label={named} value={String(value)} onChange={(e) => set(parseChoice(e.currentTarget.value, choices))}>
          {choices.map((c) => (
            <option key={String(c)} value={String(c)}>
              {String(c)}
            </option>
          ))}
        </select>
      </>
    )
  if (typeof value === 'boolean')
    return (
      <>
        {label}
        <input id={id} aria-label={named} type="checkbox" checked={value} onChange={(e) => set(e.currentTarget.checked)} />
      </>
    )
  return (
    <NumberBox
      id={id}
      label={label}
      named={named}
      value={typeof value === 'number' ? value : Number.NaN}
      problemsId={problemsId}
      set={set}
    />
  )
}

/** A number box: shows what is typed, takes each number as typed, and says when the box holds none (or points to where that is said). */
const NumberBox = ({
  id,
  label,
  named,
  value,
  problemsId,
  set,
}: {
  id: string
  label: ComponentChildren
  named: string | undefined
  value: number
  problemsId: string | undefined
  set: (v: number) => void
}) => {
  const [text, setText] = useState(String(value))
  // a value changed elsewhere (another data set's defaults) shows here, unless the box already says it
  useEffect(() => {
    if (!Object.is(numberOf(text), value)) setText(Number.isNaN(value) ? '' : String(value))
  }, [value])
  const bad = Number.isNaN(numberOf(text))
  const errorId = problemsId ?? `${id}-error`
  return (
    <>
      {label}
      <span class="field">
        <input
          id={id}
          aria-label={named}
          type="number"
          step="any"
          value={text}
          aria-invalid={bad ? 'true' : undefined}
          aria-describedby={bad ? errorId : undefined}
          onInput={(e) => {
            const t = e.currentTarget.value
            setText(t)
            set(numberOf(t))
          }}
        />
        {bad && problemsId === undefined && (
          <span id={errorId} class="error">
            {' '}
            needs a number
          </span>
        )}
      </span>
    </>
  )
}

/** The number a box's text holds, or NaN when it holds none (a number input's value is '' while what is typed is not a number). */
const numberOf = (text: string): number => (text.trim() === '' ? Number.NaN : Number(text))

/** A choice back from the select's text: the number or the text it was. */
const parseChoice = (text: string, choices: readonly Value[]): Value => choices.find((c) => String(c) === text) ?? text

/** Whether a record's entry is a setting (a number, a flag or a text), not a nested record. */
const isValue = (v: unknown): v is Value => typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string'

/** The inputs of a record's settings, in its key order. */
export const Fields = <R extends object>({ value, skip = [], owner, onChange, choices = {}, labels = {}, problemsId }: FieldsProps<R>) => (
  <>
    {Object.entries(value)
      .filter((e): e is [string, Value] => !skip.includes(e[0]) && isValue(e[1]))
      .map(([k, v]) => (
        <Field
          key={k}
          text={labels[k] ?? k}
          value={v}
          owner={owner}
          choices={choices[k]}
          problemsId={problemsId}
          set={(next) => onChange({ ...value, [k]: next })}
        />
      ))}
  </>
)
