/**
 * What every chart builder in src/plot returns: a Vega-Lite spec, a plain JSON value. Building
 * one computes nothing but numbers and strings, so this folder runs in Node and in the browser
 * alike. Rendering is separate: `chainrule/node` turns a spec into SVG or PNG files; in a web
 * page, hand the spec to vega-embed.
 */
import type { TopLevelSpec } from 'vega-lite'

/** A Vega-Lite (v6) specification: plain JSON, ready for vega-embed, `vl.compile` or `writePlot`. */
export type VegaLiteSpec = TopLevelSpec

/** The Vega-Lite schema the builders target. */
export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json'

/** Thrown when a chart builder gets input it cannot draw (empty, ragged, mismatched or non-finite). */
export class PlotError extends Error {
  override readonly name = 'PlotError'
}

/** Throws a PlotError unless n is an integer >= min. */
export const checkInt = (where: string, what: string, n: number, min = 1): number => {
  if (!Number.isInteger(n) || n < min) throw new PlotError(`${where}: ${what} must be an integer >= ${min}, got ${n}`)
  return n
}

/** Throws a PlotError unless the option is absent or one of `allowed` (a misspelt `lossScale: 'logarithmic'` would draw linear). */
export const checkOneOf = (where: string, what: string, value: unknown, allowed: readonly string[]): void => {
  if (value !== undefined && !allowed.some((a) => a === value))
    throw new PlotError(`${where}: ${what} must be ${allowed.map((a) => `'${a}'`).join(' or ')}, got ${JSON.stringify(value) ?? 'nothing'}`)
}

/**
 * At most `max` indices from 0..n-1, evenly spaced, always keeping the first and the last: how
 * the builders thin long series so a spec stays small (a line of 2,000 points is as smooth on a
 * 400-pixel chart as one of 20,000).
 */
export const thinIndices = (n: number, max: number): number[] => {
  if (n <= max) return Array.from({ length: n }, (_, i) => i)
  const out: number[] = []
  for (let k = 0; k < max; k++) out.push(Math.round((k * (n - 1)) / (max - 1)))
  return out
}

/** Rounds to 6 significant digits, so the JSON of a spec stays short (plots need no more). */
export const round6 = (v: number): number => (Number.isFinite(v) && v !== 0 ? Number(v.toPrecision(6)) : v)

/** One chart inside a composed spec (a panel of an hconcat or vconcat). */
export type Panel = Extract<TopLevelSpec, { readonly vconcat: unknown }>['vconcat'][number]

/** One layer of a layered spec. */
export type LayerPart = Extract<TopLevelSpec, { readonly layer: unknown }>['layer'][number]
