/**
 * The address bar: the configuration, as the core's query string, and the mode, kept up to date
 * with replaceState once the page is edited, so the address is a link to what the page shows:
 * opening it builds the same network and gives the same numbers (or shows the same problems).
 */
import * as E from 'fp-ts/Either'
import { defaults, type Config } from '../core/config.ts'
import { encode, parse } from '../core/url.ts'

/** The three modes. */
export type Mode = 'build' | 'train' | 'step'

/** The mode named by `?mode=` (Build when none or an unknown one). */
export const modeOf = (search: string): Mode => {
  const m = new URLSearchParams(search).get('mode')
  return m === 'train' || m === 'step' ? m : 'build'
}

/**
 * The configuration in an address (spiral's defaults when it names none), checked by Build like
 * any edit, or, when the address cannot be read at all, the defaults and what was wrong with it.
 */
export const readUrl = (search: string): { config: Config; problem: string | undefined } => {
  const r = parse(search, { ignore: ['mode'] })
  return E.isRight(r) ? { config: r.right, problem: undefined } : { config: defaults('spiral'), problem: r.left.message }
}

/**
 * Writes the configuration and the mode into the address (no new history entry). One that cannot
 * run is written too, to share with its problems; one the address cannot spell (an empty box)
 * leaves the address as it was.
 */
export const writeUrl = (config: Config, mode: Mode): void => {
  let query: string
  try {
    query = encode(config)
  } catch {
    return
  }
  if (E.isLeft(parse(query))) return
  history.replaceState(null, '', `?${query}&mode=${mode}`)
}
