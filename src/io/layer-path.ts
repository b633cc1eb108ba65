/**
 * How io messages name a layer: by its layer path, as errors, summaries and the rest of the library
 * name it (`pipe[1].residual.pipe[0].dense`), then where its spec sits in the file, the JSON path
 * to edit (`spec.children[1].body.children[0]`): `pipe[1].residual.pipe[0].dense at spec.children[1].body.children[0]`.
 */
import type { AnyLayer } from '../layer.ts'

/** The layer path of the layer whose spec sits at `specAt` (relative to the network's spec: `children[1].body`), or undefined. */
export const layerPath = (network: AnyLayer, specAt: string): string | undefined => {
  let node = network
  const labels: string[] = []
  for (const segment of specAt === '' ? [] : specAt.split('.')) {
    const index = /^children\[(\d+)\]$/.exec(segment)?.[1]
    const child = node.structure?.children[index === undefined ? (segment === 'body' ? 0 : -1) : Number(index)]
    if (child === undefined) return undefined
    labels.push(child.label)
    node = child.layer
  }
  return [...labels, node.name].join('.')
}

/** A layer as io messages name it, from its spec path: `pipe[0].dense at spec.children[0]` (the JSON path alone if the walk fails). */
export const layerAt =
  (network: AnyLayer) =>
  (specAt: string | undefined): string => {
    const json = specAt === undefined || specAt === '' ? 'spec' : `spec.${specAt}`
    const path = layerPath(network, specAt ?? '')
    return path === undefined ? json : `${path} at ${json}`
  }
