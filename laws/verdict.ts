/** What a law predicate returns: it holds, or it fails with a reason a person can act on. */
export type Verdict = { readonly holds: true } | { readonly holds: false; readonly reason: string }

/** The law holds. */
export const holds: Verdict = { holds: true }

/** The law fails, for this reason. */
export const fails = (reason: string): Verdict => ({ holds: false, reason })

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
  if (!v.holds) throw new Error(v.reason)
  return true
}
