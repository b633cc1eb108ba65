/**
 * identity: y = x, so dx = dy. The unit of pipe.
 *
 *   spec      { kind: 'identity' }
 */
import { define, none, type Layer, type None } from '../layer.ts'
import type { Keep } from '../shape-type.ts'
import { layerKind, specOf } from '../io/kind.ts'

/** The type of `identity`: it keeps the shape. */
export type Identity = Layer<None, None, None, Keep>

/** The layer that returns its input: pipe(identity, f) computes the same as f. */
export const identity: Identity = define({
  name: 'identity',
  forward: (_p, x) => ({ y: x, tape: none }),
  vjp: (_p, _tape, dy) => ({ dx: dy, dp: none }),
})

/** identity as data: `{ kind: 'identity' }`. */
export const identityKind = layerKind(specOf('identity', {}), () => identity)
