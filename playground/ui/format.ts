/** How the playground writes numbers: short, rounded, and the same everywhere. */

/** A number with 4 significant digits, without trailing zeros: 0.1235, 1.2e-7, 42. */
export const num = (v: number, digits = 4): string => {
  if (!Number.isFinite(v)) return String(v)
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(digits)))
  return v.toExponential(digits - 1).replace(/\.?0+e/, 'e')
}

/** A number to 4 significant digits as JavaScript prints it (0.003333, 1.235e-7): the page's status line, as the generated code prints it. */
export const figure = (v: number): string => String(Number(v.toPrecision(4)))

/** A fraction as a percentage with one decimal: 0.9123 → "91.2%". */
export const pct = (v: number | undefined): string => (v === undefined ? '–' : `${(100 * v).toFixed(1)}%`)

/** A shape as the library prints it: [32, 64]. */
export const shape = (s: readonly number[]): string => `[${s.join(', ')}]`
