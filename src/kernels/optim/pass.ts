/**
 * What the fused optimizer passes share. A pass reads the state the alias's readable chain
 * built, so it checks each entry it reads first: a state from another optimizer or another model
 * fails with an error naming the alias, the entry and what it should be, before any arithmetic.
 */
import { describeEntry } from '../../optim/internal.ts'
import { OptimError } from '../../optim/validate.ts'
import type { Tensor } from '../../tensor/tensor.ts'
import { isTensor, map2, structureDiff, TreeError, type Tree } from '../../tree.ts'
import type { FastPath } from '../../optim/fast-path.ts'
import { resolveKernels } from '../backend.ts'
import { MIN_OPTIM_ELEMENTS } from '../wasm/optim.ts'

/** Whether a leaf of n values takes its step in WebAssembly (../wasm/optim.ts: the same loop, the same bits). */
export const inWasm = (n: number): boolean => n >= MIN_OPTIM_ELEMENTS && resolveKernels() === 'wasm'

/** A record node of a tree (not a tensor, an array, or a null that came in where a tree should be). */
const isRecordNode = (t: Tree | undefined): t is { readonly [key: string]: Tree } =>
  typeof t === 'object' && t !== null && !isTensor(t) && !Array.isArray(t)

/** The state's entries: a tuple of `expected`, as `alias`'s init builds it. */
export const stateTuple = (at: string, alias: string, state: Tree, expected: number): readonly Tree[] => {
  if (!Array.isArray(state) || state.length !== expected) {
    const got = Array.isArray(state) ? `a tuple of ${state.length}` : describeEntry(state)
    throw new OptimError(`${at}: expected a state tuple of ${expected} (from ${alias}'s init), got ${got}`)
  }
  return state
}

/**
 * state[i], a record with an entry at each of `keys` (and, if `exactly`, no other); `expected`
 * says what it should be, for the error.
 */
export const recordAt = (
  at: string,
  parts: readonly Tree[],
  i: number,
  keys: readonly string[],
  expected: string,
  exactly = false,
): { readonly [key: string]: Tree } => {
  const entry = parts[i]
  if (!isRecordNode(entry) || keys.some((key) => entry[key] === undefined) || (exactly && Object.keys(entry).length !== keys.length)) {
    throw new OptimError(`${at}: state[${i}] should be ${expected}, got ${describeEntry(entry)}`)
  }
  return entry
}

/** What a momentum entry of a state should be, for errors. */
export const TRACE = 'the momentum buffer {trace: a tree like the params}'

/** The step count state[i] holds, {count: a tensor []}; `expected` says what state[i] should be, for the error. */
export const countAt = (at: string, parts: readonly Tree[], i: number, expected = 'the step count {count: a tensor []}'): Tensor => {
  const entry = parts[i]
  const count = isRecordNode(entry) ? entry['count'] : undefined
  if (!isTensor(count) || count.data.length !== 1) {
    throw new OptimError(`${at}: state[${i}] should be ${expected}, got ${describeEntry(entry)}`)
  }
  return count
}

/** Throws a TreeError naming the first difference unless `tree` (the state's `what`) has the gradients' structure. */
export const likeGrads = (at: string, what: string, grads: Tree, tree: Tree): void => {
  const d = structureDiff(grads, tree)
  if (d !== undefined) throw new TreeError(`${at}: ${what} does not have the gradients' structure, ${d} (gradients vs ${what})`)
}

/**
 * A fast path from one fused loop, `run(grads, state, params, apply)`, which returns the updates
 * (or, with `apply`, the new params) in the gradients' structure, and the next state.
 */
export const passOf = <S extends Tree>(run: (grads: Tree, state: S, params: Tree, apply: boolean) => readonly [Tree, S]): FastPath<S> => ({
  update: (grads, state, params) => run(grads, state, params, false),
  // map2 lays the new params out in the params' structure (records may list their keys in another
  // order), as applyUpdates does.
  updateAndApply: (grads, state, params) => {
    const [outs, next] = run(grads, state, params, true)
    return [map2(params, outs, (_p, q) => q), next]
  },
})
