/**
 * Where the page is, beside the configuration: the mode, and in Step the step of the run and the
 * stage of that step. The address holds it (`&mode=step&step=2&stage=backward:dense2`), so a link
 * points at one stage of one step, and the browser's Back and Forward walk the stages and modes.
 */
import type { LayerConfig } from './layers.ts'
import { shortName } from './layers.ts'
import type { Stage } from './step.ts'

/** The three modes. */
export type Mode = 'build' | 'train' | 'step'

/** The page's place: the mode, the step of the run (from 0; the page and the address count from 1) and the stage's id. */
export interface View {
  readonly mode: Mode
  readonly step: number
  /** A stage's id (see `stageId`); undefined for the step's first stage. */
  readonly stage: string | undefined
}

/** The parameters a view uses in the address, besides the configuration's. */
export const VIEW_PARAMS = ['mode', 'step', 'stage'] as const

/** The place a page opens at when the address names none. */
export const START: View = { mode: 'build', step: 0, stage: undefined }

/**
 * A stage's id in the address: its kind and its layer as the page numbers layers (by kind), with
 * no space, or the loss and the update alone.
 * @example stageId(backwardOfTheSecondDense, layers) // "backward:dense2"
 */
export const stageId = (s: Stage, layers: readonly LayerConfig[]): string =>
  s.kind === 'forward' || s.kind === 'backward' ? `${s.kind}:${shortName(layers, s.layer).replace(' ', '')}` : s.kind

/** The form of a stage id: `forward:dense1`, `backward:relu2`, `loss`, `update`. */
const STAGE = /^(?:(?:forward|backward):[A-Za-z0-9]+[0-9]|loss|update)$/

/** The largest step number the address is read with (a run is shorter: the page stops at its last step). */
const MAX_STEP = 1_000_000

/**
 * The view an address names, and what it could not read (each parameter named; the rest of the
 * view is kept). A missing mode is Build; a missing step is the first; a missing stage, the first.
 * @example readView('?data=xor&mode=step&step=2&stage=loss') // { view: { mode: 'step', step: 1, stage: 'loss' }, problems: [] }
 */
export const readView = (search: string): { view: View; problems: string[] } => {
  const q = new URLSearchParams(search)
  const problems: string[] = []
  const m = q.get('mode')
  const mode: Mode = m === 'train' || m === 'step' || m === 'build' ? m : 'build'
  if (m !== null && m !== mode) problems.push(`?mode: must be one of build, train, step, got '${m}'`)
  const s = q.get('step')
  let step = 0
  if (s !== null) {
    if (/^[0-9]{1,7}$/.test(s) && Number(s) >= 1 && Number(s) <= MAX_STEP) step = Number(s) - 1
    else problems.push(`?step: must be a whole number from 1 (the run's first step) to ${MAX_STEP}, got '${s}'`)
  }
  const t = q.get('stage')
  let stage: string | undefined
  if (t !== null) {
    if (STAGE.test(t)) stage = t
    else
      problems.push(`?stage: must be loss, update, or forward: or backward: and a layer as the page names it (dense1, relu2), got '${t}'`)
  }
  return { view: { mode, step, stage }, problems }
}

/**
 * The view as the tail of a query (after the configuration): the mode, and in Step the step (from
 * 1) and the stage, each left out where it is the first.
 * @example viewQuery({ mode: 'step', step: 1, stage: 'backward:dense2' }) // "mode=step&step=2&stage=backward:dense2"
 */
export const viewQuery = (v: View): string => {
  const parts = [`mode=${v.mode}`]
  if (v.mode === 'step') {
    if (v.step > 0) parts.push(`step=${v.step + 1}`)
    if (v.stage !== undefined) parts.push(`stage=${v.stage}`)
  }
  return parts.join('&')
}

/**
 * Where a view's stage is among a step's stages: its index, or 0 with `missing` when the network
 * has no stage of that id (a link made for another network).
 */
export const stageIndex = (v: View, stages: readonly Stage[], layers: readonly LayerConfig[]): { index: number; missing: boolean } => {
  if (v.stage === undefined) return { index: 0, missing: false }
  const i = stages.findIndex((s) => stageId(s, layers) === v.stage)
  return i < 0 ? { index: 0, missing: true } : { index: i, missing: false }
}
