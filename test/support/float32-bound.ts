/** Higham's γ_m = m·u / (1 − m·u): how far m roundings at unit roundoff u can move a result, relative to its terms. */
export const gamma = (m: number, u: number): number => (m * u) / (1 - m * u)

/** How far a float32 computation of m roundings can be from the same computation in float64: γ_m(2⁻²⁴) + γ_m(2⁻⁵³). */
export const gamma32 = (m: number): number => gamma(m, 2 ** -24) + gamma(m, 2 ** -53)
