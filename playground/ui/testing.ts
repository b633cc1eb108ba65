/**
 * What the page exposes to its real-browser tests, as `window.__playground`: the configuration,
 * the built run, the threads, and what the modes computed (the step's stages, the last
 * training's figures). Tests read numbers from it with page.evaluate and compare them with the
 * library's in Node; the page itself never reads it.
 */

declare global {
  interface Window {
    __playground?: Record<string, unknown>
  }
}

/** Adds (or replaces) entries of window.__playground. */
export const expose = (entries: Record<string, unknown>): void => {
  window.__playground = { ...window.__playground, ...entries }
}
