/**
 * Labelled inputs for the settings of one thing (a layer, the data set, the optimizer): a number
 * box for each number, a checkbox for each flag. An entry is committed on change (Enter or
 * leaving the box), not on every keystroke; what is not a number reaches the configuration as
 * NaN, and the configuration's check says what is wrong.
 */
import { useId } from 'preact/hooks'

/** A setting's value. */
type Value = number | boolean | string

/** Props of Fields: the record, the keys to leave out, the labels' prefix (for screen readers), and the record after an edit. */
export interface FieldsProps<R extends object> {
  readonly value: R
  readonly skip?: readonly string[]
  /** Says whose setting it is: "layer 2 units". */
  readonly owner: string
  readonly onChange: (next: R) => void
  /** Choices for a setting that is one of a few texts or numbers, by key. */
  readonly choices?: Readonly<Record<string, readonly Value[]>>
  /** What a person reads for a key, where the key alone would not do ('seed' of the data and of the network). */
  readonly labels?: Readonly<Record<string, string>>
}

/** One labelled input. */
const Field = ({
  name,
  text,
  value,
  owner,
  choices,
  set,
}: {
  name: string
  text: string
  value: Value
  owner: string
  choices?: readonly Value[]
  set: (v: Value) => void
}) => {
  const id = useId()
  const label = <label for={id}>{text}</label>
  if (choices !== undefined)
    return (
      <>
        {label}
        <select
          id={id}
          aria-label={`${owner} ${name}`}
          value={String(value)}
          onChange={(e) => set(parseChoice(e.currentTarget.value, choices))}
        >
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
        <input id={id} aria-label={`${owner} ${name}`} type="checkbox" checked={value} onChange={(e) => set(e.currentTarget.checked)} />
      </>
    )
  return (
    <>
      {label}
      <input
        id={id}
        aria-label={`${owner} ${name}`}
        type="number"
        step="any"
        value={String(value)}
        onChange={(e) => set(e.currentTarget.value === '' ? Number.NaN : Number(e.currentTarget.value))}
      />
    </>
  )
}

/** A choice back from the select's text: the number or the text it was. */
const parseChoice = (text: string, choices: readonly Value[]): Value => choices.find((c) => String(c) === text) ?? text

/** Whether a record's entry is a setting (a number, a flag or a text), not a nested record. */
const isValue = (v: unknown): v is Value => typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string'

/** The inputs of a record's settings, in its key order. */
export const Fields = <R extends object>({ value, skip = [], owner, onChange, choices = {}, labels = {} }: FieldsProps<R>) => (
  <>
    {Object.entries(value)
      .filter((e): e is [string, Value] => !skip.includes(e[0]) && isValue(e[1]))
      .map(([k, v]) => (
        <Field
          key={k}
          name={k}
          text={labels[k] ?? k}
          value={v}
          owner={owner}
          choices={choices[k]}
          set={(next) => onChange({ ...value, [k]: next })}
        />
      ))}
  </>
)
