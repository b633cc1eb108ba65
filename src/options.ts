/**
 * One check for every options object of the public API: it must be an object, and every key one
 * the function knows. A misspelt option, or another library's name for one (Keras's
 * `validation_split`, PyTorch's `betas`), is an error naming the function and the key, with a
 * hint where the name comes from elsewhere, instead of being silently ignored.
 */
/**
 * Keras's, PyTorch's and optax's names for options that are named otherwise here, or live elsewhere.
 * Each maps a name the option may have here to the hint, and '' to the hint where the function
 * called has none of those names: `init_value` is `init` in cosineDecay but `from` in warmupCosine.
 */
const FOREIGN: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  lr: { '': 'the learning rate goes in the optimizer: Optim.sgd({ lr })' },
  learning_rate: { lr: 'here lr', '': 'the learning rate is lr, and goes in the optimizer: Optim.sgd({ lr })' },
  learningRate: { lr: 'here lr', '': 'the learning rate is lr, and goes in the optimizer: Optim.sgd({ lr })' },
  betas: { b1: 'here b1 and b2', '': 'b1 and b2 belong to the Adam family: Optim.adam({ lr, b1, b2 })' },
  beta1: { b1: 'here b1' },
  beta_1: { b1: 'here b1' },
  beta2: { b2: 'here b2' },
  beta_2: { b2: 'here b2' },
  weight_decay: {
    weightDecay: 'here weightDecay',
    '':
      "decoupled weight decay is Optim.adamw({ weightDecay }) (or sgd's weightDecay); PyTorch's Adam(weight_decay) is an L2 " +
      'penalty: chain(addL2(λ), scaleByAdam(), scaleByLearningRate(lr))',
  },
  weightDecay: { '': 'weight decay is an option of Optim.sgd and Optim.adamw, or chain(addDecayedWeights(λ), …) for any optimizer' },
  alpha: {
    decay: "here decay (PyTorch's alpha, the smoothing constant)",
    floor: "here floor, a learning rate: optax's alpha is a fraction of init, so floor = alpha·init",
  },
  dampening: { '': 'not supported: dampening is always 0' },
  centered: { '': 'not supported' },
  maximize: { '': 'not supported' },
  amsgrad: { '': 'use Optim.amsgrad' },
  momentum_decay: { '': "not supported: nadam here is optax's, without PyTorch's momentum decay" },
  lr_decay: { '': 'not supported: pass a Schedule as lr' },
  eps_root: { '': 'not supported' },
  init_value: { init: 'here init', from: 'here from' },
  peak_value: { peak: 'here peak', to: 'here to' },
  end_value: { floor: 'here floor', to: 'here to' },
  decay_steps: { decaySteps: 'here decaySteps, counted after the warm-up', steps: 'here steps' },
  transition_steps: { steps: 'here steps' },
  transitionSteps: { steps: 'here steps' },
  decay_rate: { rate: 'here rate' },
  decayRate: { rate: 'here rate' },
  warmup_steps: { warmupSteps: 'here warmupSteps' },
  pct_start: { pctStart: 'here pctStart' },
  div_factor: { divFactor: 'here divFactor' },
  final_div_factor: { finalDivFactor: 'here finalDivFactor' },
  T_0: { period: 'here period' },
  T_mult: { periodFactor: 'here periodFactor' },
  eta_min: { floor: 'here floor' },
  batch_size: { batchSize: 'here batchSize' },
  num_epochs: { epochs: 'here epochs' },
  validation_split: { validation: 'here validation: a fraction, split off after a shuffle' },
  validation_data: { validation: 'here validation: a Dataset' },
  shuffle: { '': 'fit always shuffles each epoch, from the key' },
  seed: { '': 'randomness comes from key: Key.fromSeed(seed)' },
  verbose: { '': 'progress is a callback: callbacks: [progress()], with progress from chainrule/node' },
  patience: { earlyStopping: 'here earlyStopping: { monitor, patience }' },
  initial_epoch: { initial: 'resume with initial: a saved training state' },
  callback: { callbacks: 'here callbacks' },
  on_epoch_end: { onEpochEnd: 'here onEpochEnd' },
  onEpochBegin: { '': 'not supported: use onStep (its batch is 0 at the start of an epoch)' },
  on_epoch_begin: { '': 'not supported: use onStep (its batch is 0 at the start of an epoch)' },
  onBatchEnd: { onStep: 'here onStep' },
  on_batch_end: { onStep: 'here onStep' },
  on_train_end: { onEnd: 'here onEnd' },
  onTrainEnd: { onEnd: 'here onEnd' },
  on_train_begin: { onStart: 'here onStart' },
  onTrainBegin: { onStart: 'here onStart' },
  drop_last: { dropLast: 'here dropLast' },
  metrics: { '': 'loss and, for classifiers, accuracy are always recorded' },
  optimiser: { optimizer: 'here optimizer' },
  activation: { '': 'apply the activation as a layer after it: L.pipe(L.dense(n), L.relu)' },
  rate: { dropProb: 'here dropProb (the probability of dropping a value)' },
  p: { dropProb: 'here dropProb (the probability of dropping a value)' },
  keepProb: { dropProb: 'here dropProb, the probability of dropping a value: 1 - keepProb' },
  use_bias: { bias: 'here bias' },
  kernel_initializer: { init: "here init ('he', 'glorot', 'lecun', 'zeros')" },
  kernel_size: { '': 'a window size is an argument: L.conv2d(filters, kernelSize, options), L.maxPool2d(size, options)' },
  kernelSize: { '': 'a window size is an argument: L.conv2d(filters, kernelSize, options), L.maxPool2d(size, options)' },
  pool_size: { '': 'a window size is an argument: L.maxPool2d(size, options)' },
  strides: { stride: 'here stride' },
  epsilon: { eps: 'here eps' },
  dilation_rate: { dilation: 'here dilation' },
}

/** The hint for another library's name `k`, fitted to the options `known` here; undefined where there is none. */
const foreignHint = (k: string, known: readonly string[]): string | undefined => {
  const hints = Object.hasOwn(FOREIGN, k) ? FOREIGN[k]! : undefined
  if (hints === undefined) return undefined
  const here = known.find((name) => Object.hasOwn(hints, name))
  return here === undefined ? hints[''] : hints[here]
}

/** A dtype option's value, 'float64' or 'float32' (undefined: `fallback`), else an error (default RangeError) naming `where`. */
export const dtypeOption = <F extends 'float64' | 'float32' | undefined>(
  where: string,
  dtype: unknown,
  fallback: F,
  error?: new (message: string) => Error,
): 'float64' | 'float32' | F => {
  if (dtype === undefined) return fallback
  if (dtype === 'float64' || dtype === 'float32') return dtype
  throw new (error ?? RangeError)(`${where}: dtype must be 'float64' or 'float32', got ${String(dtype)}`)
}

/** What an options check throws for a bad key (default RangeError) and for a value that is not an object (default TypeError). */
export interface OptionErrors {
  readonly unknown?: new (message: string) => Error
  readonly notObject?: new (message: string) => Error
}

/** The options object of `where`, checked: an object (not null or an array) whose keys are all among `known`; returned as given. */
export const checkOptions = <O extends object>(
  where: string,
  options: O,
  known: readonly (keyof O & string)[],
  errors: OptionErrors = {},
): O => {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    const got = options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options
    throw new (errors.notObject ?? TypeError)(`${where}: expected an options object { ${known.join(', ')} }, got ${got}`)
  }
  for (const k of Object.keys(options)) {
    if (!(known as readonly string[]).includes(k)) {
      const near = nearest(k, known)
      const hint = foreignHint(k, known) ?? (near === undefined ? undefined : `did you mean '${near}'?`)
      throw new (errors.unknown ?? RangeError)(
        `${where}: unknown option '${k}'${hint === undefined ? '' : ` (${hint})`}; the options are ${known.join(', ')}`,
      )
    }
  }
  return options
}

/** A key as a message shows it: as it is, or its first 40 characters and its length when it is longer than 60. */
export const showKey = (key: string): string => (key.length > 60 ? `${key.slice(0, 40)}…(a key of ${key.length} characters)` : key)

/** A record's keys for a message: all of them up to 8, else the first 8 and how many there are (a file may hold millions). */
export const showKeys = (keys: readonly string[]): string =>
  keys.length <= 8 ? keys.map(showKey).join(', ') : `${keys.slice(0, 8).map(showKey).join(', ')}, … (${keys.length} keys)`

/**
 * The name among `known` that a misspelt `k` most likely meant: the same but for case, or one or two edits away (for
 * names of 5 or more letters); undefined when none is near, or `k` is known. Option names, layer kinds and plot marks
 * get their "did you mean" from it.
 */
export const nearest = (k: string, known: readonly string[]): string | undefined => {
  if (known.includes(k)) return undefined
  const lower = k.toLowerCase()
  return known.find((c) => c.toLowerCase() === lower) ?? known.find((c) => editDistance(lower, c.toLowerCase()) <= (c.length >= 5 ? 2 : 1))
}

/** Levenshtein distance: the fewest insertions, deletions and substitutions turning a into b. */
const editDistance = (a: string, b: string): number => {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    row = next
  }
  return row[b.length]!
}

const describe = (u: unknown): string =>
  u === null
    ? 'null'
    : Array.isArray(u)
      ? 'an array'
      : typeof u === 'string'
        ? `the string '${u.length > 40 ? `${u.slice(0, 40)}…` : u}'`
        : typeof u === 'number'
          ? `the number ${u}`
          : typeof u

/**
 * Throws unless `value` (the argument `name` of `where`) is a well-formed Tensor: an object with a `shape` array of
 * non-negative integers and a Float64Array or Float32Array `data` holding exactly the shape's number of values (a check
 * of the shape, never a pass over the data). A nested array gets the hint to wrap it in `T.tensor`.
 */
export const checkTensor = (where: string, name: string, value: unknown, error?: new (message: string) => Error): void => {
  const fail = (what: string): never => {
    throw new (error ?? TypeError)(`${where}: ${name} ${what}`)
  }
  const shape: unknown = typeof value === 'object' && value !== null && 'shape' in value ? value.shape : undefined
  const data: unknown = typeof value === 'object' && value !== null && 'data' in value ? value.data : undefined
  if (!Array.isArray(shape) || data === undefined) {
    const hint = Array.isArray(value) ? ` (make one from nested arrays with T.tensor(${name}))` : ''
    return fail(`must be a Tensor, got ${describe(value)}${hint}`)
  }
  if (!(data instanceof Float64Array) && !(data instanceof Float32Array)) {
    const got = ArrayBuffer.isView(data) ? `a ${data.constructor.name}` : describe(data)
    return fail(
      `must be a Tensor, whose data is a Float64Array or a Float32Array, got ${got} as data ` +
        '(copy other numbers into one: T.fromData(shape, Float64Array.from(values)))',
    )
  }
  let count = 1
  for (let a = 0; a < shape.length; a++) {
    const d = shape[a]
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)
      return fail(`has shape [${shape.map(String).join(', ')}]: its axis ${a} is ${describe(d)}, not a non-negative integer`)
    count *= d
  }
  if (data.length !== count)
    fail(
      `has shape [${shape.join(', ')}], which holds ${count} values, but its data holds ${data.length}; ` +
        "a tensor's data is its values in row-major order, exactly as many as its shape holds",
    )
}
