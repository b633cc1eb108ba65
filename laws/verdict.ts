/** How far a numerical comparison missed: its error and the tolerance it had to be within. */
export interface Miss {
  readonly error: number
  readonly tolerance: number
}

/**
 * What a law predicate returns: it holds, or it fails with a reason a person can act on (and,
 * for a comparison to a tolerance, by how much it missed).
 */
export type Verdict = { readonly holds: true } | { readonly holds: false; readonly reason: string; readonly miss?: Miss }

/** The law holds. */
export const holds: Verdict = { holds: true }

/** The law fails, for this reason (and, for a comparison to a tolerance, with its error and tolerance). */
export const fails = (reason: string, miss?: Miss): Verdict =>
  miss === undefined ? { holds: false, reason } : { holds: false, reason, miss }

/** How many times the tolerance a miss is, e.g. "3.1e+4× the tolerance". */
export const pastTolerance = ({ error, tolerance }: Miss): string => `${(error / tolerance).toPrecision(2)}× the tolerance`

/** The first failing verdict, or holds. */
export const all = (...vs: readonly (() => Verdict)[]): Verdict => {
  for (const v of vs) {
    const r = v()
    if (!r.holds) return r
  }
  return holds
}

/** Throws the reason of a failing verdict (what fast-check properties expect). */
export const orThrow = (v: Verdict): true => {
  if (!v.holds) throw new Error(v.miss === undefined ? v.reason : `${v.reason}, ${pastTolerance(v.miss)}`)
  return true
}
