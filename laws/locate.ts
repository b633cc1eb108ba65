/**
 * Which layer inside a network a failed gradient law points at. A law checked on a network sees
 * only the network's dx and dp; a wrong vjp anywhere inside shows there. So each custom layer
 * inside (one that is not built in: chainrule's own tests hold the built-ins to the laws) is
 * checked alone, on the input shape it gets in the network; the ones that fail alone are the
 * ones to fix. When every one passes alone, the fault is in how they are joined: a custom
 * combinator's own vjp.
 */
import { IO, Key, type L, type Shape } from '../src/index.ts'

type AnyLayer = L.AnyLayer

/** A layer inside a network: its error path (`pipe[1].gated[0].swish`), itself, and the input shape init gave it there. */
export interface Inner {
  readonly path: string
  readonly layer: AnyLayer
  readonly inShape: Shape | undefined
  /** True for a layer without children. */
  readonly leaf: boolean
}

/** Whether a layer is one of chainrule's own (its kind is a built-in's). */
const builtIn = (layer: AnyLayer): boolean => Object.prototype.hasOwnProperty.call(IO.builtins, layer.spec.kind)

/**
 * Every layer inside `network`, itself first, each with the input shape the network's init gives it (one init, from a
 * fixed key, of the network rebuilt with every layer wrapped to note the shape it is given).
 */
export const innerLayers = (network: AnyLayer, inShape: Shape): readonly Inner[] => {
  const found: { path: string; layer: AnyLayer; inShape: Shape | undefined; leaf: boolean }[] = []
  const wrap = (layer: AnyLayer, segments: readonly string[]): AnyLayer => {
    const st = layer.structure
    const entry = { path: segments.join('.'), layer, inShape: undefined as Shape | undefined, leaf: st === undefined }
    found.push(entry)
    const inner =
      st === undefined ? layer : st.rebuild(st.children.map((c) => wrap(c.layer, [...segments.slice(0, -1), c.label, c.layer.name])))
    return {
      ...inner,
      init: (key, shape) => {
        entry.inShape ??= shape
        return inner.init(key, shape)
      },
    }
  }
  try {
    wrap(network, [network.name]).init(Key.fromSeed(0), inShape)
  } catch {
    // the shapes found before init failed are kept; the others stay unknown
  }
  return found
}

/**
 * What to say about a gradient law that failed on a network: the custom layers inside that fail alone (`failsAlone`
 * gives the reason, or undefined when the layer passes), or, when all pass, the custom combinators joining them.
 * Undefined for a layer without children, or a network of built-in layers only.
 */
export const locateFault = (
  network: AnyLayer,
  inShape: Shape,
  failsAlone: (layer: AnyLayer, inShape: Shape) => string | undefined,
): string | undefined => {
  if (network.structure === undefined) return undefined
  const inner = innerLayers(network, inShape).slice(1)
  const leaves = inner.filter((l) => l.leaf && !builtIn(l.layer) && l.inShape !== undefined)
  const failing: string[] = []
  for (const l of leaves) {
    const why = failsAlone(l.layer, l.inShape!)
    if (why !== undefined) failing.push(`${l.path} (input ${show(l.inShape!)}) fails alone: ${why}`)
  }
  if (failing.length > 0)
    return (
      `checked alone, on the input each gets in this network: ${failing.join('; ')}. Fix ${failing.length === 1 ? 'its' : 'their'} ` +
      'vjp first'
    )
  const joined = [
    ...(builtIn(network) ? [] : [`${network.name} (the layer checked)`]),
    ...inner.filter((l) => !l.leaf && !builtIn(l.layer)).map((l) => l.path),
  ]
  const which =
    leaves.length === 0 ? 'there are none; built-in layers are held to the laws by chainrule' : leaves.map((l) => l.path).join(', ')
  const passed = `passes laws 1 and 2 alone (${which})`
  if (joined.length === 0)
    return leaves.length === 0 ? undefined : `every custom layer inside ${passed}: check the inputs (kinks, docs/laws.md)`
  return (
    `every custom layer without children inside ${passed}, so the fault is in how they are joined: ` +
    `the vjp of the custom combinator${joined.length === 1 ? '' : 's'} ${joined.join(', ')}`
  )
}

const show = (shape: Shape): string => `[${shape.join(', ')}]`
