/**
 * What the page exposes to its real-browser tests, as `window.__playground`: the configuration,
 * the built run, the threads, and what the modes computed (the step's stages, the last
 * training's figures). Tests read numbers from it with page.evaluate and compare them with the
 * library's in Node; the page itself never reads it.
 */

import { Tree } from 'chainrule'

declare global {
  interface Window {
    __playground?: Record<string, unknown>
  }
}

/** Adds (or replaces) entries of window.__playground. */
export const expose = (entries: Record<string, unknown>): void => {
  window.__playground = { ...window.__playground, ...entries }
}

/** A params tree as plain JSON a test can read out of the page: each leaf's path, shape and values (doubles survive JSON exactly). */
export const leavesOf = (tree: Tree.Tree): { path: string; shape: number[]; data: number[] }[] =>
  Tree.leavesWithPaths(tree).map(({ path, leaf }) => ({ path, shape: [...leaf.shape], data: [...leaf.data] }))
