/** identity: y = x, so dx = dy. The unit of pipe. */
import { define, none } from '../layer.ts'

/** The layer that returns its input: pipe(identity, f) computes the same as f. */
export const identity = define({
  name: 'identity',
  forward: (_p, x) => ({ y: x, tape: none }),
  vjp: (_p, _tape, dy) => ({ dx: dy, dp: none }),
})
