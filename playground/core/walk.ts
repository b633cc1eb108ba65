/**
 * Walking a run to a far step in slices: the training state before step k is the state before
 * step 0 (`initialState`) folded through `Train.trainStep` on fit's batches 0 … k−1. `walk` takes
 * at most `budget` of those steps and says where it stopped, so a page can take a few, yield to
 * the browser (to draw its progress, to hear a click on "stop"), and go on from there; the state
 * it reaches is the same, bit for bit, however the walk is sliced.
 */
import { Train } from 'chainrule'
import { epochBatches, initialState, type Built } from './build.ts'

/** A place in a run: the training state before step `at` (from 0). */
export interface Place {
  readonly at: number
  readonly state: Train.TrainState
}

/** Where a walk stopped: its place, and the step that could not be taken (and what the library threw), if one failed. */
export interface Walked {
  readonly place: Place
  readonly failed?: { readonly at: number; readonly error: unknown }
}

/** The place before the run's first step. */
export const start = (b: Built): Place => ({ at: 0, state: initialState(b) })

/**
 * Takes the run's steps from `from` towards the place before step `to`: at most `budget` of them,
 * stopping early where one throws (the place stays before it).
 * @example walk(run, start(run), 2000, 50).place.at // 50: fifty steps taken, call again from there
 */
export const walk = (b: Built, from: Place, to: number, budget = Infinity): Walked => {
  const step = Train.trainStep(b.model, b.loss, b.optimizer)
  const end = Math.min(to, from.at + budget)
  let place = from
  // an epoch's batches in fit's order, from the one at `place` on (one shuffle per epoch, not one per step)
  while (place.at < end) {
    let i = 0
    for (const batch of epochBatches(b, Math.floor(place.at / b.stepsPerEpoch) + 1)) {
      if (i++ < place.at % b.stepsPerEpoch) continue
      if (place.at >= end) break
      try {
        place = { at: place.at + 1, state: step(place.state, batch)[0] }
      } catch (error) {
        return { place, failed: { at: place.at, error } }
      }
    }
  }
  return { place }
}

/**
 * Which places a page keeps on its way to a far step (every place whose step is a multiple of
 * this), so going back a step walks from the nearest kept one: at most about 100 of them in a run.
 */
export const keepEvery = (totalSteps: number): number => Math.max(20, Math.ceil(totalSteps / 100))
