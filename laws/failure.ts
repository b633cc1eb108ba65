/**
 * A law's failure as an error a person reads: the law, what it was checked on, why it failed,
 * how to fix it where the kit can tell, the evidence, and the replay. Laws that fail for one
 * reason are reported once, with every law that reason broke.
 */
import type { Miss } from './verdict.ts'

/** The seed and path that replay a failure (pass both to the runner). */
export interface Replay {
  readonly seed: number
  readonly path: string
}

/** What a law's failure holds, beside its message. */
export interface Failed {
  /** The law's number and name, e.g. "2. vjp = directional derivative". */
  readonly law: string
  /** What the law was checked on, e.g. `layer "swish" (input [5])`. */
  readonly subject: string
  /** Why it failed: the failing check's reason, or what threw. */
  readonly reason: string
  /** How to fix it, when the kit can tell the cause (a missing option, say). */
  readonly fix?: string
  /** The lines after the reason: the counterexample and the largest error seen. */
  readonly evidence: readonly string[]
  readonly replay?: Replay
  /** The shrunk counterexample, and by how much it missed a tolerance (if it did). */
  readonly counterexample?: readonly unknown[]
  readonly miss?: Miss
}

/** A failed law: runProperty throws it, runLaws groups them. Its cause is what the law's check threw, if it threw. */
// The interface merges Failed's fields into the class, which the constructor copies from `failed`.
export interface LawFailure extends Failed {}
export class LawFailure extends Error {
  override readonly name = 'LawFailure'
  constructor(failed: Failed, options?: { readonly cause?: unknown }) {
    super(render([failed]), options)
    const { evidence, counterexample, miss, ...shown } = failed
    Object.assign(this, shown)
    // The bulky fields stay readable but not enumerable, so a test runner that prints an error's fields
    // (vitest's "Serialized Error") shows the law, subject, reason, fix and replay, not every typed array's methods.
    for (const [key, value] of Object.entries({ evidence, counterexample, miss }))
      if (value !== undefined) Object.defineProperty(this, key, { value, enumerable: false, writable: false, configurable: true })
  }
  /** The same failure with a fix added. */
  withFix(fix: string): LawFailure {
    return new LawFailure(
      {
        ...this,
        evidence: this.evidence,
        ...(this.counterexample === undefined ? {} : { counterexample: this.counterexample }),
        ...(this.miss === undefined ? {} : { miss: this.miss }),
        fix,
      },
      { cause: this.cause },
    )
  }
}

const showReplay = (r: Replay): string => `{ seed: ${r.seed}, path: "${r.path}" }`

/** "a", "a and b", "a, b and c". */
const listed = (xs: readonly string[]): string => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)!}`)

/**
 * The report of laws that failed for one reason on one subject: one law as
 *   Law "2. vjp = directional derivative" failed for layer "swish" (input [5]).
 *     Why: ...
 * and several as `Laws "1. ...", "2. ..." and "5. ..." failed for ..., all for one reason.`, with the first law's evidence.
 */
export const render = (group: readonly Failed[], fixShown = false): string => {
  const first = group[0]!
  const names = group.map((f) => `"${f.law}"`)
  const replays = group.flatMap((f) => (f.replay === undefined ? [] : [f.replay]))
  const oneReplay = replays.every((r) => r.seed === replays[0]!.seed && r.path === replays[0]!.path)
  return [
    group.length === 1
      ? `Law ${names[0]!} failed for ${first.subject}.`
      : `Laws ${listed(names)} failed for ${first.subject}, all for one reason.`,
    `  Why: ${first.reason}`,
    ...(first.fix === undefined || fixShown ? [] : [`  Fix: ${first.fix}`]),
    ...first.evidence.map((line) =>
      group.length === 1 ? line : line.replace(/^ {2}Counterexample/, `  Counterexample of "${first.law}"`),
    ),
    ...(replays.length === 0
      ? []
      : oneReplay
        ? [`  Replay: ${showReplay(replays[0]!)}`]
        : [`  Replay: ${group.flatMap((f) => (f.replay === undefined ? [] : [`"${f.law}" ${showReplay(f.replay)}`])).join('; ')}`]),
  ].join('\n')
}

/**
 * The report of every failure of a runner: the failed laws grouped by subject and reason, each
 * group once; a fix shared by several groups is given once, above them, with the laws it concerns.
 */
export const report = (failures: readonly LawFailure[]): string => {
  const groups = new Map<string, LawFailure[]>()
  for (const f of failures) {
    const key = `${f.subject}\n${f.reason}`
    groups.set(key, [...(groups.get(key) ?? []), f])
  }
  const byFix = new Map<string, LawFailure[][]>()
  for (const g of groups.values()) {
    const fix = g[0]!.fix
    if (fix !== undefined) byFix.set(fix, [...(byFix.get(fix) ?? []), g])
  }
  const shared = [...byFix].filter(([, gs]) => gs.length > 1)
  const n = failures.length
  return [
    `${n} law(s) failed${groups.size === n ? '' : groups.size === 1 ? ', all for one reason' : `, for ${groups.size} reasons`}:`,
    ...shared.map(([fix, gs]) => `Fix (for ${listed(gs.flat().map((f) => `"${f.law}"`))}): ${fix}`),
    ...[...groups.values()].map((g) =>
      render(
        g,
        shared.some(([fix]) => fix === g[0]!.fix),
      ),
    ),
  ].join('\n\n')
}
