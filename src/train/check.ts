/**
 * fit's model, loss, optimizer and key checked before any work, for callers without the
 * compiler: a loss given by name or a factory not called, an optimizer alias not called, a
 * missing key, each named with the fix.
 */
import * as Key from '../key.ts'
import { crossEntropy } from '../loss.ts'
import { checkChild } from '../layer.ts'

const describe = (u: unknown): string => (u === null ? 'null' : typeof u === 'string' ? `the string '${u}'` : typeof u)

/** The losses that are made by a call (a function of the settings, not of prediction and target). */
const FACTORIES: readonly unknown[] = [crossEntropy]

/** Throws unless `loss` is a function; a factory such as Loss.crossEntropy gets the hint to call it. */
export const checkLoss = (where: string, loss: unknown): void => {
  if (typeof loss !== 'function')
    throw new TypeError(`${where}: loss must be a function such as Loss.softmaxCrossEntropy, got ${describe(loss)}`)
  if (FACTORIES.includes(loss))
    throw new TypeError(`${where}: loss is Loss.${loss.name} itself, which makes a loss: call it, Loss.${loss.name}()`)
}

/** Throws unless `optimizer` has init and update; an alias such as Optim.adam passed itself gets the hint to call it. */
export const checkOptimizer = (where: string, optimizer: unknown): void => {
  if (typeof optimizer === 'function')
    throw new TypeError(
      `${where}: optimizer is ${optimizer.name === '' ? 'a function' : `Optim.${optimizer.name}`} itself: call it, ` +
        `${optimizer.name === '' ? 'it' : `Optim.${optimizer.name}`}({ lr })`,
    )
  if (typeof optimizer === 'object' && optimizer !== null && 'init' in optimizer && 'update' in optimizer)
    if (typeof optimizer.init === 'function' && typeof optimizer.update === 'function') return
  throw new TypeError(
    `${where}: optimizer must be a gradient transformation { init, update } such as Optim.adam({ lr: 1e-3 }), got ${describe(optimizer)}`,
  )
}

/** fit's model, loss, optimizer and key, checked. */
export const checkFitArguments = (options: {
  readonly model: unknown
  readonly loss: unknown
  readonly optimizer: unknown
  readonly key: unknown
}): void => {
  checkChild('fit: model', options.model)
  checkLoss('fit', options.loss)
  checkOptimizer('fit', options.optimizer)
  if (!Key.isKey(options.key))
    throw new Key.KeyError(
      `fit: the option key must be a Key such as Key.fromSeed(0) (it seeds the initial params and each epoch's order), got ${describe(options.key)}`,
    )
}
