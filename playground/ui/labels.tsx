/**
 * Class labels shown as labels, not as values on a colour scale: one row per example with its
 * class and its one-hot row (a 1 in the class's column), lined up with the rows of the
 * prediction beside it. A target [N] of class indices and mse's one-hot target [N, classes] read
 * the same.
 */
import type { Tensor } from 'chainrule'
import { shape } from './format.ts'

/** Each example's class: the index of a target [N], or the column of the 1 in a one-hot row of a target [N, classes]. */
const classesOf = (t: Tensor): number[] => {
  if (t.shape.length === 1) return [...t.data]
  const [rows, width] = [t.shape[0]!, t.shape[1]!]
  return Array.from({ length: rows }, (_, i) => {
    let k = 0
    for (let j = 1; j < width; j++) if (t.data[i * width + j]! > t.data[i * width + k]!) k = j
    return k
  })
}

/** Props of Labels: the target, the number of classes, a label for a screen reader, and how many rows to show. */
export interface LabelsProps {
  readonly t: Tensor
  readonly classes: number
  readonly label: string
  readonly maxRows?: number
}

/** A target of class labels as a table: each example's class, then its one-hot row. */
export const Labels = ({ t, classes, label, maxRows = 8 }: LabelsProps) => {
  const all = classesOf(t)
  const shown = all.slice(0, maxRows)
  const columns = Array.from({ length: classes }, (_, j) => j)
  return (
    <div>
      <table class="labels" aria-label={`${label}, shape ${shape(t.shape)}`}>
        <thead>
          <tr>
            <th scope="col">class</th>
            {columns.map((j) => (
              <th key={j} scope="col" class="mono">
                {j}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((k, i) => (
            <tr key={i}>
              <th scope="row" class="mono">
                {k}
              </th>
              {columns.map((j) => (
                <td key={j} class={j === k ? 'mono hot' : 'mono'}>
                  {j === k ? 1 : 0}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <div class="muted mono">
        {shape(t.shape)}: {t.shape.length === 1 ? 'class indices' : 'one-hot rows'}, shown as each example's class and its one-hot row
        {all.length > shown.length && ` · showing ${shown.length}; ${all.length - shown.length} more rows`}
      </div>
    </div>
  )
}
