/** Higham's γ_m = m·u / (1 − m·u): how far m roundings at unit roundoff u can move a result, relative to its terms. */
export const gamma = (m: number, u: number): number => (m * u) / (1 - m * u)

/** How far a float32 computation of m roundings can be from the same computation in float64: γ_m(2⁻²⁴) + γ_m(2⁻⁵³). */
export const gamma32 = (m: number): number => gamma(m, 2 ** -24) + gamma(m, 2 ** -53)

/**
 * The tail every float32 optimizer step shares, in float64 with its bound: d + λ·p (where λ is given), then u = r·d,
 * then p + u (where applied). dErr bounds d's distance from float32's; the result's bound adds each transform's roundings.
 */
export const decayScaleApply = (
  d: number,
  dErr: number,
  s: { readonly lambda: number | undefined; readonly r: number; readonly p: number; readonly apply: boolean },
): { readonly value: number; readonly bound: number } => {
  if (s.lambda !== undefined) {
    dErr += gamma32(2) * (Math.abs(d) + Math.abs(s.lambda * s.p))
    d = d + s.lambda * s.p
  }
  const u = s.r * d
  const uErr = Math.abs(s.r) * dErr + gamma32(1) * Math.abs(u)
  if (!s.apply) return { value: u, bound: uErr }
  return { value: s.p + u, bound: uErr + gamma32(1) * (Math.abs(s.p) + Math.abs(u)) }
}
