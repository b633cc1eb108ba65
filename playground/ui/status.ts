/** Where a run of the Train mode is, and the line that says so (as the generated code prints it at the end of a run). */
import { figure, num, pct } from './format.ts'

/** Where a run is: not started, running (epoch so far), finished or stopped, or failed. */
export type RunStatus =
  | { readonly kind: 'idle' }
  | { readonly kind: 'running'; readonly epoch: number; readonly loss: number; readonly accuracy: number | undefined }
  | {
      readonly kind: 'done'
      readonly epochs: number
      /** Ended by Stop before its last epoch. */
      readonly stopped: boolean
      readonly loss: number
      readonly accuracy: number | undefined
      readonly test: number | undefined
    }
  | { readonly kind: 'error'; readonly message: string }

/** The status line of a run of `epochs` epochs. */
export const statusText = (s: RunStatus, epochs: number): string => {
  switch (s.kind) {
    case 'idle':
      return `${epochs} epochs with the configuration of Build.`
    case 'running':
      return s.epoch === 0
        ? 'training…'
        : `epoch ${s.epoch}/${epochs}: loss ${num(s.loss)}${s.accuracy === undefined ? '' : `, training accuracy ${pct(s.accuracy)}`}`
    case 'done':
      return (
        (s.stopped ? `stopped after ${s.epochs} of ${epochs} epochs` : `done after ${s.epochs} epoch${s.epochs === 1 ? '' : 's'}`) +
        `: training loss ${figure(s.loss)}` +
        (s.accuracy === undefined ? '' : `, training accuracy ${pct(s.accuracy)}`) +
        (s.test === undefined ? '' : `, test accuracy ${pct(s.test)}`)
      )
    case 'error':
      return s.message
  }
}
