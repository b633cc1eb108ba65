/**
 * The address bar: the configuration, as the core's query string, and the mode, kept up to date
 * with replaceState, so the address is always a link to what the page shows: opening it builds
 * the same network and gives the same numbers.
 */
import * as E from 'fp-ts/Either'
import { defaults, validate, type Config } from '../core/config.ts'
import { decode, encode } from '../core/url.ts'

/** The three modes. */
export type Mode = 'build' | 'train' | 'step'

/** The mode named by `?mode=` (Build when none or an unknown one). */
export const modeOf = (search: string): Mode => {
  const m = new URLSearchParams(search).get('mode')
  return m === 'train' || m === 'step' ? m : 'build'
}

/** The configuration in an address (spiral's defaults when it names none), or the defaults and what was wrong with it. */
export const readUrl = (search: string): { config: Config; problem: string | undefined } => {
  const r = decode(search, { ignore: ['mode'] })
  return E.isRight(r) ? { config: r.right, problem: undefined } : { config: defaults('spiral'), problem: r.left.message }
}

/** Writes the configuration and the mode into the address (no new history entry); an invalid configuration leaves the address as it was. */
export const writeUrl = (config: Config, mode: Mode): void => {
  if (validate(config).length > 0) return
  history.replaceState(null, '', `?${encode(config)}&mode=${mode}`)
}
