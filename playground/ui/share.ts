/**
 * The address bar: the configuration (as the core's query string) and the mode, kept up to date
 * with replaceState, so the address is always a link to what the page shows.
 */
import { defaults, validate, type Config } from '../core/config.ts'

/** The three modes. */
export type Mode = 'build' | 'train' | 'step'

/** The mode named by `?mode=` (Build when none or an unknown one). */
export const modeOf = (search: string): Mode => {
  const m = new URLSearchParams(search).get('mode')
  return m === 'train' || m === 'step' ? m : 'build'
}

/** The configuration in an address, or the defaults and what was wrong with it. */
export const readUrl = (search: string): { config: Config; problems: readonly string[] } => {
  const q = new URLSearchParams(search).get('c')
  if (q === null) return { config: defaults('spiral'), problems: [] }
  try {
    const c = JSON.parse(q) as Config
    const problems = validate(c)
    return problems.length === 0 ? { config: c, problems: [] } : { config: defaults('spiral'), problems: problems.map((p) => p.message) }
  } catch (e) {
    return { config: defaults('spiral'), problems: [String(e)] }
  }
}

/** Writes the configuration and the mode into the address (no new history entry). */
export const writeUrl = (config: Config, mode: Mode): void => {
  const q = new URLSearchParams({ c: JSON.stringify(config), mode })
  history.replaceState(null, '', `?${q.toString()}`)
}
