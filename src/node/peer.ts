/**
 * chainrule/node's optional peer dependencies (vega and vega-lite to draw, @resvg/resvg-js for
 * PNG, cli-progress for the progress bar): each is imported once, when chainrule/node loads, and
 * only a helper that needs a missing one fails, with an error naming the package to install.
 */

/** An optional package: its module when the import worked, or why it did not. */
export type Peer<M> = { readonly ok: true; readonly module: M } | { readonly ok: false; readonly name: string; readonly error: unknown }

/** Thrown by a chainrule/node helper whose optional package is not installed (or fails to load). */
export class MissingPeerError extends Error {
  override readonly name = 'MissingPeerError'
  constructor(
    message: string,
    /** The npm package the helper needs. */
    readonly packageName: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** Imports an optional package; never throws (a failure is kept for the helper that needs it). */
export const importPeer = async <M>(name: string, load: () => Promise<M>): Promise<Peer<M>> => {
  try {
    return { ok: true, module: await load() }
  } catch (error) {
    return { ok: false, name, error }
  }
}

const notInstalled = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
}

/**
 * The peer's module, or a MissingPeerError naming the helper, the package and the command that
 * installs them (`install` lists every package the helper needs, e.g. 'vega vega-lite').
 */
export const need = <M>(peer: Peer<M>, helper: string, install: string): M => {
  if (peer.ok) return peer.module
  const why = notInstalled(peer.error) ? 'is not installed' : `failed to load (${peer.error instanceof Error ? peer.error.message : String(peer.error)})`
  throw new MissingPeerError(`${helper} needs the optional package '${peer.name}', which ${why}. Install it: npm install ${install}`, peer.name, { cause: peer.error })
}
