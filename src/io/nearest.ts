/**
 * "Did you mean": the known name a misspelt one most likely meant, by the rule the options check
 * uses for option names (the same but for case, or one or two edits away), so a misspelt layer
 * kind or plot mark gets the hint a misspelt option does.
 */
import { checkOptions } from '../options.ts'

/** The name among `known` that `name` most likely misspells, or undefined (none is near, or `name` is known). */
export const nearest = (name: string, known: readonly string[]): string | undefined => {
  try {
    checkOptions('', { [name]: true }, known)
    return undefined
  } catch (e) {
    return e instanceof Error ? /\(did you mean '([^']*)'\?\)/.exec(e.message)?.[1] : undefined
  }
}
