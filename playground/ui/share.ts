/**
 * The address bar: the configuration, as the core's query string, and the view (the mode, and in
 * Step the step and the stage), kept up to date once the page is edited or moved, so the address
 * is a link to what the page shows: opening it builds the same network and gives the same numbers
 * at the same stage (or shows the same problems). A move (another mode, step or stage) is a new
 * history entry, so Back returns to the one before; a run of edits to the configuration is one.
 */
import * as E from 'fp-ts/Either'
import { defaults, type Config } from '../core/config.ts'
import { encode, parse } from '../core/url.ts'
import { readView, VIEW_PARAMS, viewQuery, type View } from '../core/view.ts'

/**
 * The configuration and the view in an address (spiral's defaults when it names none), checked by
 * Build like any edit, and what it could not read: when the configuration cannot be read at all,
 * the page starts from the defaults; a view parameter it cannot read is left at its first value.
 */
export const readUrl = (search: string): { config: Config; view: View; problems: string[] } => {
  const r = parse(search, { ignore: VIEW_PARAMS })
  const { view, problems } = readView(search)
  return E.isRight(r)
    ? { config: r.right, view, problems }
    : { config: defaults('spiral'), view, problems: [`${r.left.message} (the page starts from the defaults)`, ...problems] }
}

/** The address of a configuration and a view, or undefined when the address cannot spell the configuration (an empty box). */
export const queryOf = (config: Config, view: View): string | undefined => {
  let query: string
  try {
    query = encode(config)
  } catch {
    return undefined
  }
  return E.isLeft(parse(query)) ? undefined : `?${query}&${viewQuery(view)}`
}

/**
 * Writes the configuration and the view into the address: a new history entry when `push`, else
 * in place. One that cannot run is written too, to share with its problems; one the address
 * cannot spell leaves the address as it was.
 */
export const writeUrl = (config: Config, view: View, push: boolean): void => {
  const query = queryOf(config, view)
  if (query === undefined || query === location.search) return
  if (push) history.pushState(null, '', query)
  else history.replaceState(null, '', query)
}
