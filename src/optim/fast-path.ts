/**
 * A readable transform with a fast path attached: how an alias such as adam is both the chain a
 * student reads and a one-pass kernel. The readable transform defines the numbers; the fast
 * path (a fused pass of src/kernels/optim) gives the same updates and the same states, bit for
 * bit (law 13 holds every alias to it). The kernel switch picks which runs at each step:
 * 'reference' runs the readable transform, 'js', 'wasm' and 'fast' (the default) the fast path.
 *
 * Both paths read and write one state, the one the readable transform's init builds, in the
 * same layout and with the same numbers. So switching kernels between two steps of a run is
 * safe: the next step continues from the same state, and the run gives the same params as one
 * that never switched.
 */
import { resolveKernels } from '../kernels/backend.ts'
import type { Tree } from '../tree.ts'
import type { OptimizerSettings } from './settings.ts'
import { applyUpdates, checkGrads, type GradientTransformation } from './transform.ts'

/**
 * The fast path of a transform: its update, and updateAndApply (params + updates in the same
 * pass, without building the updates), both on the readable transform's state. The gradients
 * reach it already checked against the params.
 */
export interface FastPath<S extends Tree> {
  update(grads: Tree, state: S, params: Tree): readonly [Tree, S]
  updateAndApply<P extends Tree>(grads: Tree, state: S, params: P): readonly [P, S]
}

/**
 * `readable`, running `fast` instead under every kernel family but 'reference'. Errors name
 * `where` (the alias); `settings` are the alias's (GradientTransformation.settings). updateAndApply is not enumerable, so a copy made by spreading
 * (`{ ...opt, update: mine }`) does not carry it, and a step through the copy calls the copy's update.
 * @example
 * const opt = adam({ lr: 1e-3 }) // withFastPath('adam', chain(adamMoments(...), learningRate(...)), fusedAdam(...))
 * const s0 = opt.init(params)
 * const [u1, s1] = Kernels.using('reference', () => opt.update(grads, s0, params)) // the chain, one transform after another
 * const [u2, s2] = opt.update(grads, s0, params) // the fused pass: u2 and s2 hold the numbers of u1 and s1, bit for bit
 */
export const withFastPath = <S extends Tree>(
  where: string,
  readable: GradientTransformation<S>,
  fast: FastPath<S>,
  settings?: OptimizerSettings,
): GradientTransformation<S> => {
  const update = (grads: Tree, state: S, params: Tree): readonly [Tree, S] => {
    checkGrads(`${where}.update`, grads, params)
    return resolveKernels() === 'reference' ? readable.update(grads, state, params) : fast.update(grads, state, params)
  }
  const updateAndApply = <P extends Tree>(grads: Tree, state: S, params: P): readonly [P, S] => {
    checkGrads(`${where}.updateAndApply`, grads, params)
    if (resolveKernels() !== 'reference') return fast.updateAndApply(grads, state, params)
    const [updates, next] = readable.update(grads, state, params)
    return [applyUpdates(params, updates), next]
  }
  const init = (params: Tree): S => readable.init(params)
  const self = Object.defineProperty({ init, update }, 'updateAndApply', { value: updateAndApply, enumerable: false })
  return settings === undefined ? self : Object.defineProperty(self, 'settings', { value: settings, enumerable: false })
}
