/**
 * Terminal progress for fit: a live bar per epoch (cli-progress) on a terminal, and one plain
 * line per epoch when output is not a TTY or runs under CI (so logs stay readable).
 */
import type { SingleBar } from 'cli-progress'
import type { Callbacks, EpochRecord } from '../train/fit.ts'
import type { TrainState } from '../train/state.ts'
import { importPeer, need } from './peer.ts'
import { checkOptions } from '../options.ts'

// cli-progress is an optional peer dependency: only the live bar needs it.
const cliProgressPeer = await importPeer('cli-progress', async () => (await import('cli-progress')).default)

/** Options for the progress display. */
export interface ProgressOptions {
  /** Force the plain one-line-per-epoch log (default: plain when not a TTY or when CI is set). */
  readonly plain?: boolean
  /** Where to write (default process.stdout). */
  readonly stream?: NodeJS.WriteStream
  /** Print the epoch line every this many epochs (and always the last); default 1. */
  readonly every?: number
}

const pct = (v: number | undefined): string => (v === undefined ? '-' : `${(100 * v).toFixed(2)}%`)
// four decimals; a diverging loss in four significant digits (toFixed spells out all of 1.29e26's digits)
const num = (v: number | undefined): string => (v === undefined ? '-' : Math.abs(v) < 1e6 ? v.toFixed(4) : v.toExponential(3))

/** A one-line summary of an epoch: losses, accuracies, throughput and time. */
export const formatEpoch = (r: EpochRecord, epochs: number, samplesPerSecond: number): string =>
  [
    `epoch ${String(r.epoch).padStart(String(epochs).length)}/${epochs}`,
    `loss ${num(r.loss)}`,
    ...(r.accuracy === undefined ? [] : [`acc ${pct(r.accuracy)}`]),
    ...(r.valLoss === undefined ? [] : [`val_loss ${num(r.valLoss)}`]),
    ...(r.valAccuracy === undefined ? [] : [`val_acc ${pct(r.valAccuracy)}`]),
    `${Math.round(samplesPerSecond).toLocaleString('en-US')} samples/s`,
    `took ${r.seconds.toFixed(1)}s`,
  ].join('  ')

/** Callbacks that show training progress in the terminal (the live bar needs cli-progress; `plain: true` does not). */
export const progress = <St extends TrainState>(options: ProgressOptions = {}): Callbacks<St> => {
  checkOptions('progress', options, ['plain', 'stream', 'every'])
  const stream = options.stream ?? process.stdout
  const plain = options.plain ?? (!stream.isTTY || Boolean(process.env['CI']))
  // asked for even when this run prints plain lines, so a missing package shows on the first run, not the first terminal one
  const cliProgress = options.plain === true ? undefined : need('progress', cliProgressPeer)
  let epochs = 0
  let stepsPerEpoch = 0
  let bar: SingleBar | undefined
  let epochStart = 0
  let samples = 0
  const rate = (): number => samples / Math.max(1e-9, (performance.now() - epochStart) / 1000)
  return {
    onStart: (info) => {
      epochs = info.epochs
      stepsPerEpoch = info.stepsPerEpoch
      stream.write(
        `training on ${info.trainSize.toLocaleString('en-US')} examples${info.validationSize > 0 ? `, validating on ${info.validationSize.toLocaleString('en-US')}` : ''}: ${epochs} epoch${epochs === 1 ? '' : 's'} of ${stepsPerEpoch} steps\n`,
      )
    },
    onStep: ({ epoch, batch, metrics, state }) => {
      if (bar === undefined && samples === 0) {
        epochStart = performance.now()
        if (!plain && cliProgress !== undefined) {
          bar = new cliProgress.SingleBar(
            {
              format: `epoch ${epoch}/${epochs} |{bar}| {value}/{total} | loss {loss} | acc {acc} | {rate} samples/s | ETA {eta_formatted}`,
              stream,
              hideCursor: true,
              clearOnComplete: true,
              etaBuffer: 50,
            },
            cliProgress.Presets.shades_classic,
          )
          bar.start(stepsPerEpoch, batch, { loss: '-', acc: '-', rate: '-' })
        }
      }
      samples += metrics.count
      if (bar === undefined) return
      // The epoch's mean so far, from the sums fit keeps for the epoch's record: the bar's last value is the epoch line's.
      const fs = state.fit
      const loss = fs === undefined ? metrics.loss : fs.lossSum / Math.max(fs.seen, 1)
      const acc = fs === undefined ? metrics.accuracy : fs.classify && fs.seen > 0 ? fs.correctSum / fs.seen : undefined
      bar.update(batch + 1, { loss: num(loss), acc: pct(acc), rate: Math.round(rate()).toLocaleString('en-US') })
    },
    onEpochEnd: ({ record }) => {
      const r = samples / Math.max(1e-9, record.seconds) // over the epoch's own time, as fit measures it and the line's 'took' shows
      bar?.stop()
      bar = undefined
      samples = 0
      const every = options.every ?? 1
      if (record.epoch % every === 0 || record.epoch === epochs) stream.write(formatEpoch(record, epochs, r) + '\n')
    },
  }
}
