/**
 * The names a Vega-Lite spec written by hand most often gets wrong, checked before vega-lite runs:
 * an unknown mark or field type fails inside vega-lite without naming itself.
 */
import { nearest } from '../options.ts'
import { PlotError } from '../plot/spec.ts'

/** Vega-Lite's marks: the primitive ones and the composite boxplot, errorbar and errorband. */
export const MARKS = [
  'arc',
  'area',
  'bar',
  'boxplot',
  'circle',
  'errorband',
  'errorbar',
  'geoshape',
  'image',
  'line',
  'point',
  'rect',
  'rule',
  'square',
  'text',
  'tick',
  'trail',
] as const

/** Vega-Lite's measurement types of an encoded field. */
export const FIELD_TYPES = ['quantitative', 'ordinal', 'nominal', 'temporal', 'geojson'] as const

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u)

const unknownName = (where: string, at: string, what: string, name: unknown, known: readonly string[]): PlotError => {
  const near = typeof name === 'string' ? nearest(name, known) : undefined
  const got =
    typeof name === 'string'
      ? `unknown ${what} '${name}'${near === undefined ? '' : ` (did you mean '${near}'?)`}`
      : `expected a ${what} (a string), got ${JSON.stringify(name) ?? 'nothing'}`
  return new PlotError(`${where}: ${at}: ${got}; Vega-Lite's ${what}s are ${known.join(', ')}`)
}

/**
 * Throws a PlotError naming the place (`spec.layer[1].mark`) of the first mark, or encoded field type, that Vega-Lite
 * does not know, in the spec and the views it composes (layer, concat, hconcat, vconcat, and facet's or repeat's spec):
 * vega-lite itself fails on one with `Cannot read properties of undefined (reading 'filled')`.
 */
export const checkMarks = (where: string, spec: unknown, path = 'spec'): void => {
  if (!isObject(spec)) return
  if ('mark' in spec) {
    const mark = spec.mark
    const name = isObject(mark) ? mark['type'] : mark
    if (typeof name !== 'string' || !(MARKS as readonly string[]).includes(name))
      throw unknownName(where, isObject(mark) ? `${path}.mark.type` : `${path}.mark`, 'mark', name, MARKS)
  }
  if (isObject(spec.encoding))
    for (const [channel, defs] of Object.entries(spec.encoding))
      (Array.isArray(defs) ? defs : [defs]).forEach((def: unknown, i) => {
        const type = isObject(def) ? def['type'] : undefined
        const at = `${path}.encoding.${channel}${Array.isArray(defs) ? `[${i}]` : ''}.type`
        if (type !== undefined && (typeof type !== 'string' || !(FIELD_TYPES as readonly string[]).includes(type)))
          throw unknownName(where, at, 'field type', type, FIELD_TYPES)
      })
  for (const key of ['layer', 'concat', 'hconcat', 'vconcat'] as const) {
    const views = spec[key]
    if (Array.isArray(views)) views.forEach((view: unknown, i) => checkMarks(where, view, `${path}.${key}[${i}]`))
  }
  checkMarks(where, spec.spec, `${path}.spec`)
}
