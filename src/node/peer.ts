/**
 * chainrule/node's optional peer dependencies (vega and vega-lite to draw, @resvg/resvg-js for
 * PNG, cli-progress for the progress bar): each is imported once, when chainrule/node loads, and
 * only a helper that needs a missing one fails, with an error naming the packages to install.
 */

/** An optional package: its module when the import worked, or why it did not. */
export type Peer<M> = { readonly name: string } & (
  { readonly ok: true; readonly module: M } | { readonly ok: false; readonly error: unknown }
)

/** Thrown by a chainrule/node helper whose optional packages are not installed (or fail to load). */
export class MissingPeerError extends Error {
  override readonly name = 'MissingPeerError'
  constructor(
    message: string,
    /** The packages the helper needs that did not load. */
    readonly packages: readonly string[],
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** Imports an optional package; never throws (a failure is kept for the helper that needs it). */
export const importPeer = async <M>(name: string, load: () => Promise<M>): Promise<Peer<M>> => {
  try {
    return { name, ok: true, module: await load() }
  } catch (error) {
    return { name, ok: false, error }
  }
}

/** Node could not find the package itself (not a file or a dependency inside it). */
const notInstalled = (name: string, error: unknown): boolean =>
  error instanceof Error &&
  'code' in error &&
  (error.code === 'ERR_MODULE_NOT_FOUND' || error.code === 'MODULE_NOT_FOUND') &&
  error.message.includes(`'${name}'`)

const quoted = (names: readonly string[]): string =>
  names
    .map((n) => `'${n}'`)
    .join(', ')
    .replace(/, ([^,]*)$/, ' and $1')

const fail = (helper: string, peers: readonly Peer<unknown>[]): never => {
  const errors = peers.flatMap((p) => (p.ok ? [] : [{ name: p.name, error: p.error }]))
  const names = errors.map((e) => e.name)
  const broken = errors
    .filter((e) => !notInstalled(e.name, e.error))
    .map((e) => `${e.name}: ${e.error instanceof Error ? e.error.message : String(e.error)}`)
  const one = names.length === 1
  const why = broken.length === 0 ? `${one ? 'is' : 'are'} not installed` : `could not be loaded (${broken.join('; ')})`
  const install = peers.map((p) => p.name).join(' ')
  throw new MissingPeerError(
    `${helper} needs the optional package${one ? '' : 's'} ${quoted(names)}, which ${why}. Install: npm install ${install}`,
    names,
    {
      cause: one ? errors[0]?.error : errors.map((e) => e.error),
    },
  )
}

/** Throws a MissingPeerError unless every one of `peers` loaded: it names the missing ones, and the command installs them all. */
export const needAll = (helper: string, peers: readonly Peer<unknown>[]): void => {
  if (peers.some((p) => !p.ok)) fail(helper, peers)
}

/** The peer's module, or a MissingPeerError as needAll's. */
export const need = <M>(helper: string, peer: Peer<M>): M => (peer.ok ? peer.module : fail(helper, [peer]))
