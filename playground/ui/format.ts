/** How the playground writes numbers: short, rounded, and the same everywhere. */

/** A number with 4 significant digits, without trailing zeros: 0.1235, 1.2e-7, 42. */
export const num = (v: number, digits = 4): string => {
  if (!Number.isFinite(v)) return String(v)
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(digits)))
  return v.toExponential(digits - 1).replace(/\.?0+e/, 'e')
}

/** A number with exactly `digits` significant digits, trailing zeros kept (so two of them line up digit by digit): 0.1234570. */
const padded = (v: number, digits: number): string => {
  if (!Number.isFinite(v) || v === 0) return String(v)
  const a = Math.abs(v)
  return a >= 1e-3 && a < 1e5 ? v.toPrecision(digits) : v.toExponential(digits - 1)
}

/**
 * Two numbers to be compared, both with the fewest significant digits (from `least` to `most`)
 * at which they read differently, so where they part is on the page (past `least`, trailing zeros
 * kept, digit under digit); numbers that agree to `most` digits are written with `least`.
 * @example distinct(0.12345678, 0.12345699) // ['0.1234568', '0.1234570']
 */
export const distinct = (a: number, b: number, least = 6, most = 10): readonly [string, string] => {
  if (num(a, least) !== num(b, least)) return [num(a, least), num(b, least)]
  for (let d = least + 1; d <= most; d++) if (padded(a, d) !== padded(b, d)) return [padded(a, d), padded(b, d)]
  return [num(a, least), num(b, least)]
}

/** A number to 4 significant digits as JavaScript prints it (0.003333, 1.235e-7): the page's status line, as the generated code prints it. */
export const figure = (v: number): string => String(Number(v.toPrecision(4)))

/** A fraction as a percentage with one decimal: 0.9123 → "91.2%". */
export const pct = (v: number | undefined): string => (v === undefined ? '–' : `${(100 * v).toFixed(1)}%`)

/** A shape as the library prints it: [32, 64]. */
export const shape = (s: readonly number[]): string => `[${s.join(', ')}]`
