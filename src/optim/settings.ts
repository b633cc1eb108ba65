/**
 * What an optimizer alias says about itself: its name and hyper-parameters, defaults filled in,
 * as plain JSON (`{ name: 'adam', lr: 0.001, b1: 0.9, b2: 0.999, eps: 1e-8 }`). Settings that
 * give a state of the same structure (adam and nadam, sgd with or without nesterov, another
 * weight decay) differ here, so `fit` records them in its state and a resumed run is checked
 * against them. A schedule is recorded as 'schedule' and a mask as `masked: true`: two schedules,
 * or two masks, cannot be told apart.
 */

/** An optimizer's name and hyper-parameters, as JSON. */
export type OptimizerSettings = { readonly name: string } & { readonly [setting: string]: string | number | boolean }

/** A learning rate as settings record it: the number, or 'schedule'. */
export const lrSetting = (lr: unknown): number | string => (typeof lr === 'number' ? lr : 'schedule')

/** Whether two settings are the same: the same keys, each with the same value. */
export const sameSettings = (a: OptimizerSettings, b: OptimizerSettings): boolean => {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && Object.is(a[k], b[k]))
}

/**
 * Settings as people write them.
 * @example showSettings({ name: 'sgd', lr: 0.1, momentum: 0.9 }) // "sgd({ lr: 0.1, momentum: 0.9 })"
 */
export const showSettings = (s: OptimizerSettings): string => {
  const { name, ...rest } = s
  const fields = Object.entries(rest).map(([k, v]) => `${k}: ${typeof v === 'string' ? `'${v}'` : String(v)}`)
  return `${name}({ ${fields.join(', ')} })`
}
