/**
 * The configuration in a URL query string, compact and readable:
 *
 *   ?data=spiral&net=dense:16,relu,dense:16,relu,dense:3&opt=adam&lr=0.01&bs=32&epochs=200&seed=7
 *
 * `encode(config)` writes every setting that differs from its data set's defaults (and always the
 * data set, network, optimizer, learning rate, batch size, epochs and seed); `decode(query)` reads
 * it back, the omitted settings taking those defaults, so decode(encode(c)) equals c exactly
 * (numbers are written as the shortest text that reads back as the same double). A bad or hostile
 * query is a Left naming the parameter and what is wrong; its cost is bounded (the query's length,
 * the number of layers and of characters per number are capped before anything is built, and
 * widths and sizes over the playground's LIMITS are refused with the limit named).
 */
import * as E from 'fp-ts/Either'
import {
  dataSets,
  defaultData,
  defaultOptimizer,
  defaults,
  lossNames,
  lrKinds,
  optimizerNames,
  validate,
  LIMITS,
  type Config,
  type DataConfig,
  type DataSetName,
  type LossName,
  type LrConfig,
  type OptimizerConfig,
  type OptimizerName,
  type Problem,
} from './config.ts'
import { defaultLayer, layerKinds, type LayerConfig, type LayerKind } from './layers.ts'

/** What is wrong with a query: the parameter (`net`, `lr`, `bs`, ...) and the message, which names it too. */
export class UrlError extends Error {
  override readonly name = 'UrlError'
  constructor(
    readonly param: string,
    detail: string,
  ) {
    super(`?${param}: ${detail}`)
  }
}

/** The longest query decode reads, in characters. */
export const MAX_QUERY = 4000

/** The longest number decode reads, in characters. */
const MAX_NUMBER = 32

/** Every parameter the configuration uses, in the order encode writes them. */
export const PARAMS = [
  'data',
  'n',
  'classes',
  'noise',
  'factor',
  'test',
  'dseed',
  'net',
  'loss',
  'opt',
  'mom',
  'nesterov',
  'wd',
  'b1',
  'b2',
  'eps',
  'decay',
  'acc',
  'lr',
  'bs',
  'epochs',
  'seed',
] as const

/** A number in the URL: the shortest text that reads back as the same double (-0 as "-0", no "+" which a query reads as a space). */
const num = (v: number): string => (Object.is(v, -0) ? '-0' : String(v).replace('e+', 'e'))

// ---------------------------------------------------------------------------------------------
// encode
// ---------------------------------------------------------------------------------------------

/** A layer as a token: the kind, then its settings after colons, trailing defaults left out (`dense:16`, `conv2d:8:3`, `relu`). */
export const layerToken = (c: LayerConfig): string => {
  const args = ((): (string | number)[] => {
    switch (c.kind) {
      case 'dense':
        return [c.units]
      case 'leakyRelu':
      case 'elu':
        return [c.alpha]
      case 'dropout':
        return [c.rate]
      case 'conv2d':
        return [c.filters, c.kernel, c.stride, c.padding]
      case 'maxPool2d':
      case 'avgPool2d':
        return [c.size, c.stride]
      default:
        return []
    }
  })()
  const fallback = whenLeftOut(c)
  while (args.length > 0 && Object.is(args[args.length - 1], fallback[args.length - 1])) args.pop()
  return [c.kind, ...args.map((a) => (typeof a === 'number' ? num(a) : a))].join(':')
}

/** The value each setting of a layer takes when its token leaves it out (as readLayer fills it in); undefined where it must be given. */
const whenLeftOut = (c: LayerConfig): readonly (string | number | undefined)[] => {
  switch (c.kind) {
    case 'leakyRelu':
    case 'elu': {
      const d = defaultLayer(c.kind)
      return ['alpha' in d ? d.alpha : undefined]
    }
    case 'conv2d':
      return [undefined, undefined, 1, 'valid']
    case 'maxPool2d':
    case 'avgPool2d':
      return [undefined, c.size]
    default:
      return []
  }
}

const lrArgs = (lr: LrConfig): (number | boolean)[] => {
  switch (lr.kind) {
    case 'constant':
      return [lr.value]
    case 'stepDecay':
      return [lr.init, lr.factor, lr.every]
    case 'exponentialDecay':
      return [lr.init, lr.rate, lr.steps, lr.staircase]
    case 'cosineDecay':
      return [lr.init, lr.floor]
    case 'warmupCosine':
      return [lr.peak, lr.warmupSteps, lr.floor]
    case 'polynomialDecay':
      return [lr.init, lr.power, lr.floor]
    case 'oneCycle':
      return [lr.peak]
    case 'cosineRestarts':
      return [lr.init, lr.period, lr.periodFactor, lr.floor]
  }
}

/** The learning rate as text: a number for a constant, else the schedule's kind and its settings (`cosineDecay:0.1:0`). */
export const lrToken = (lr: LrConfig): string =>
  lr.kind === 'constant' ? num(lr.value) : [lr.kind, ...lrArgs(lr).map((a) => (typeof a === 'number' ? num(a) : a ? '1' : '0'))].join(':')

/** The optimizer's hyper-parameters as URL parameters, each under its short name. */
const optimizerParams = (o: OptimizerConfig): [string, number | boolean][] => {
  switch (o.name) {
    case 'sgd':
      return [
        ['mom', o.momentum],
        ['nesterov', o.nesterov],
        ['wd', o.weightDecay],
      ]
    case 'adamw':
      return [
        ['b1', o.b1],
        ['b2', o.b2],
        ['eps', o.eps],
        ['wd', o.weightDecay],
      ]
    case 'rmsprop':
      return [
        ['decay', o.decay],
        ['eps', o.eps],
        ['mom', o.momentum],
      ]
    case 'adagrad':
      return [
        ['eps', o.eps],
        ['acc', o.initialAccumulator],
      ]
    default:
      return [
        ['b1', o.b1],
        ['b2', o.b2],
        ['eps', o.eps],
      ]
  }
}

const dataParams = (d: DataConfig): [string, number][] => {
  switch (d.set) {
    case 'spiral':
    case 'blobs':
      return [
        ['n', d.size],
        ['classes', d.classes],
        ['noise', d.noise],
        ['dseed', d.seed],
      ]
    case 'circles':
      return [
        ['n', d.size],
        ['noise', d.noise],
        ['factor', d.factor],
        ['dseed', d.seed],
      ]
    case 'xor':
      return [
        ['n', d.size],
        ['noise', d.noise],
        ['dseed', d.seed],
      ]
    case 'mnist':
      return [
        ['n', d.size],
        ['test', d.testSize],
      ]
  }
}

/**
 * The configuration as a query string, without the leading "?".
 * @example encode(defaults('spiral')) // "data=spiral&net=dense:16,relu,dense:16,relu,dense:3&opt=adam&lr=0.01&bs=32&epochs=200&seed=0"
 */
export const encode = (c: Config): string => {
  const parts: [string, string][] = [['data', c.data.set]]
  const data = dataParams(c.data)
  const dataDefaults = new Map(dataParams(defaultData(c.data.set)))
  for (const [k, v] of data) if (!Object.is(v, dataDefaults.get(k))) parts.push([k, num(v)])
  parts.push(['net', c.layers.map(layerToken).join(',')])
  if (c.loss !== 'softmaxCrossEntropy') parts.push(['loss', c.loss])
  parts.push(['opt', c.optimizer.name])
  const optDefaults = new Map(optimizerParams(defaultOptimizer(c.optimizer.name)))
  for (const [k, v] of optimizerParams(c.optimizer))
    if (!Object.is(v, optDefaults.get(k))) parts.push([k, typeof v === 'number' ? num(v) : v ? '1' : '0'])
  parts.push(['lr', lrToken(c.lr)], ['bs', String(c.batchSize)], ['epochs', String(c.epochs)], ['seed', String(c.seed)])
  return parts.map(([k, v]) => `${k}=${v}`).join('&')
}

// ---------------------------------------------------------------------------------------------
// decode
// ---------------------------------------------------------------------------------------------

/** Thrown inside decode, returned as its Left. */
const fail = (param: string, detail: string): never => {
  throw new UrlError(param, detail)
}

/** A number written as decimal or exponent notation (no hex, no Infinity, no spaces), or a UrlError. */
const readNumber = (param: string, text: string, what = param): number => {
  if (text.length > MAX_NUMBER)
    return fail(param, `${what} is ${text.length} characters long, more than the ${MAX_NUMBER} a number may have`)
  if (!/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return fail(param, `${what} must be a number, got '${text}'`)
  return Number(text)
}

/** An integer (any size is read; validation refuses those over the limits, naming them). */
const readInt = (param: string, text: string, what = param): number => {
  const v = readNumber(param, text, what)
  return Number.isInteger(v) ? v : fail(param, `${what} must be a whole number, got '${text}'`)
}

const readBool = (param: string, text: string, what = param): boolean =>
  text === '1' || text === 'true' ? true : text === '0' || text === 'false' ? false : fail(param, `${what} must be 1 or 0, got '${text}'`)

/** 1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st. */
const ordinal = (n: number): string => {
  const teen = Math.floor(n / 10) % 10 === 1
  return `${n}${teen ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`
}

/** True when text is one of the choices. */
const isOneOf = <A extends string>(text: string, choices: readonly A[]): text is A => choices.some((c) => c === text)

const oneOf = <A extends string>(param: string, text: string, choices: readonly A[]): A =>
  isOneOf(text, choices) ? text : fail(param, `must be one of ${choices.join(', ')}, got '${text}'`)

/**
 * A layer from its token (`dense:16`, `conv2d:8:3:1:same`); `before` are the tokens before it in
 * `net`, so a message names it as Build's row does ("dense 2": the second dense).
 */
export const readLayer = (token: string, before: readonly string[] = []): LayerConfig => {
  const [kindText, ...args] = token.split(':')
  if (kindText === undefined || !isOneOf(kindText, layerKinds))
    return fail('net', `unknown layer '${kindText}', the ${ordinal(before.length + 1)} in net (the layers: ${layerKinds.join(', ')})`)
  const kind: LayerKind = kindText
  const name = `${kind} ${before.filter((t) => t.split(':')[0] === kind).length + 1}`
  const d = defaultLayer(kind)
  const names: Record<LayerKind, readonly string[]> = {
    dense: ['units'],
    relu: [],
    leakyRelu: ['alpha'],
    sigmoid: [],
    tanh: [],
    elu: ['alpha'],
    softmax: [],
    dropout: ['rate'],
    batchNorm: [],
    conv2d: ['filters', 'kernel', 'stride', 'padding'],
    maxPool2d: ['size', 'stride'],
    avgPool2d: ['size', 'stride'],
    flatten: [],
  }
  const wanted = names[kind]
  if (args.length > wanted.length)
    return fail('net', `${name} takes ${wanted.length === 0 ? 'no settings' : `at most ${wanted.join(', ')}`}, got '${token}'`)
  const what = (i: number): string => `${name}: ${wanted[i]}`
  const needed = (i: number): string => args[i] ?? fail('net', `${name} needs its ${wanted[i]}, e.g. ${layerToken(d)}`)
  switch (kind) {
    case 'dense':
      return { kind, units: readInt('net', needed(0), what(0)) }
    case 'leakyRelu':
    case 'elu': {
      const alpha = args[0]
      return { kind, alpha: alpha !== undefined ? readNumber('net', alpha, what(0)) : 'alpha' in d ? d.alpha : NaN }
    }
    case 'dropout':
      return { kind, rate: readNumber('net', needed(0), what(0)) }
    case 'conv2d': {
      const padding =
        args[3] === undefined ? 'valid' : args[3] === 'valid' || args[3] === 'same' ? args[3] : readInt('net', args[3], what(3))
      return {
        kind,
        filters: readInt('net', needed(0), what(0)),
        kernel: readInt('net', needed(1), what(1)),
        stride: args[2] === undefined ? 1 : readInt('net', args[2], what(2)),
        padding,
      }
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const size = readInt('net', needed(0), what(0))
      return { kind, size, stride: args[1] === undefined ? size : readInt('net', args[1], what(1)) }
    }
    default:
      return { kind }
  }
}

/** The learning rate from its text: a number, or a schedule's kind and settings. */
export const readLr = (text: string): LrConfig => {
  if (!text.includes(':')) return { kind: 'constant', value: readNumber('lr', text, 'the learning rate') }
  const [kindText, ...args] = text.split(':')
  const kind = oneOf(
    'lr',
    kindText!,
    lrKinds.filter((k) => k !== 'constant'),
  )
  const fields: Record<Exclude<LrConfig['kind'], 'constant'>, readonly string[]> = {
    stepDecay: ['init', 'factor', 'every'],
    exponentialDecay: ['init', 'rate', 'steps', 'staircase'],
    cosineDecay: ['init', 'floor'],
    warmupCosine: ['peak', 'warmupSteps', 'floor'],
    polynomialDecay: ['init', 'power', 'floor'],
    oneCycle: ['peak'],
    cosineRestarts: ['init', 'period', 'periodFactor', 'floor'],
  }
  const f = fields[kind]
  if (args.length !== f.length) return fail('lr', `${kind} takes ${f.join(':')}, got '${text}'`)
  const n = (i: number): number => readNumber('lr', args[i]!, `${kind} ${f[i]}`)
  const int = (i: number): number => readInt('lr', args[i]!, `${kind} ${f[i]}`)
  switch (kind) {
    case 'stepDecay':
      return { kind, init: n(0), factor: n(1), every: int(2) }
    case 'exponentialDecay':
      return { kind, init: n(0), rate: n(1), steps: int(2), staircase: readBool('lr', args[3]!, `${kind} staircase`) }
    case 'cosineDecay':
      return { kind, init: n(0), floor: n(1) }
    case 'warmupCosine':
      return { kind, peak: n(0), warmupSteps: int(1), floor: n(2) }
    case 'polynomialDecay':
      return { kind, init: n(0), power: n(1), floor: n(2) }
    case 'oneCycle':
      return { kind, peak: n(0) }
    case 'cosineRestarts':
      return { kind, init: n(0), period: int(1), periodFactor: int(2), floor: n(3) }
  }
}

/** The parameter of a validation problem (for the message). */
const paramOf = (p: Problem): string => {
  if (p.layer !== undefined || p.where === 'layers') return 'net'
  const byWhere: Record<string, string> = { loss: 'loss', optimizer: 'opt', lr: 'lr', batchSize: 'bs', epochs: 'epochs', seed: 'seed' }
  if (byWhere[p.where] !== undefined) return byWhere[p.where]!
  const field = /^data: (\w+)/.exec(p.message)?.[1]
  const byField: Record<string, string> = {
    size: 'n',
    classes: 'classes',
    noise: 'noise',
    factor: 'factor',
    testSize: 'test',
    seed: 'dseed',
  }
  return (field === undefined ? undefined : byField[field]) ?? 'data'
}

/** Options of decode. */
export interface DecodeOptions {
  /** Parameters the page itself uses (e.g. 'mode'), which decode skips rather than refusing as unknown. */
  readonly ignore?: readonly string[]
}

/**
 * The configuration a query string holds (with or without its leading "?"), checked, or a
 * UrlError naming the first parameter that is wrong. Omitted parameters take the defaults of
 * the data set (`data`, spiral when omitted).
 * @example decode('?data=xor&net=dense:8,tanh,dense:2&opt=sgd&mom=0.9&lr=0.1&bs=16&epochs=50&seed=1')
 */
export const decode = (query: string, options: DecodeOptions = {}): E.Either<UrlError, Config> => {
  try {
    return E.right(decodeOrThrow(query, options))
  } catch (e) {
    if (e instanceof UrlError) return E.left(e)
    throw e
  }
}

/**
 * The configuration a query string spells, read but not checked (decode checks it too): a link
 * to a configuration that cannot run still opens, so the page can show its problems where they are.
 * @example parse('?data=spiral&classes=5') // right: spiral with 5 classes and a last dense of 3, which validate refuses
 */
export const parse = (query: string, options: DecodeOptions = {}): E.Either<UrlError, Config> => {
  try {
    return E.right(read(query, options))
  } catch (e) {
    if (e instanceof UrlError) return E.left(e)
    throw e
  }
}

const decodeOrThrow = (query: string, options: DecodeOptions): Config => {
  const config = read(query, options)
  const problems = validate(config)
  const first = problems[0]
  if (first !== undefined) {
    const param = paramOf(first)
    fail(param, param === 'net' || param === 'data' || first.where === 'data' ? first.message : first.message.slice(first.where.length + 2))
  }
  return config
}

/** The configuration a query string spells, or a UrlError naming the first parameter it cannot read. */
const read = (query: string, options: DecodeOptions): Config => {
  if (query.length > MAX_QUERY) fail('query', `the query is ${query.length} characters long, more than the ${MAX_QUERY} read`)
  const ignore = new Set(options.ignore ?? [])
  const given = new Map<string, string>()
  for (const [k, v] of new URLSearchParams(query)) {
    if (ignore.has(k)) continue
    if (!isOneOf(k, PARAMS)) fail(k, `unknown parameter (the parameters: ${PARAMS.join(', ')})`)
    if (given.has(k)) fail(k, 'is given twice')
    given.set(k, v)
  }
  const set: DataSetName = oneOf('data', given.get('data') ?? 'spiral', dataSets)
  const base = defaults(set)
  const get = <A>(k: string, read: (text: string) => A, fallback: A): A => {
    const text = given.get(k)
    return text === undefined ? fallback : read(text)
  }
  const data = readData(set, get)
  const netText = given.get('net')
  let layers = base.layers
  if (netText !== undefined) {
    const tokens = netText === '' ? [] : netText.split(',')
    if (tokens.length > LIMITS.layers) fail('net', `${tokens.length} layers, more than the playground limit of ${LIMITS.layers}`)
    layers = tokens.map((t, i) => readLayer(t, tokens.slice(0, i)))
  }
  const loss: LossName = get('loss', (t) => oneOf('loss', t, lossNames), base.loss)
  const optName: OptimizerName = get('opt', (t) => oneOf('opt', t, optimizerNames), base.optimizer.name)
  const optimizer = readOptimizer(optName, given)
  const config: Config = {
    data,
    layers,
    loss,
    optimizer,
    lr: get('lr', readLr, base.lr),
    batchSize: get('bs', (t) => readInt('bs', t, 'the batch size'), base.batchSize),
    epochs: get('epochs', (t) => readInt('epochs', t, 'epochs'), base.epochs),
    seed: get('seed', (t) => readInt('seed', t, 'the seed'), base.seed),
  }
  return config
}

const readData = (set: DataSetName, get: <A>(k: string, read: (text: string) => A, fallback: A) => A): DataConfig => {
  const d = defaultData(set)
  const int = (k: string, what: string) => (t: string) => readInt(k, t, what)
  const n = (k: string, what: string) => (t: string) => readNumber(k, t, what)
  const refuse = (k: string) => (): never => fail(k, `${set} has no ${k} setting`)
  const size = get('n', int('n', 'the number of examples'), d.size)
  switch (d.set) {
    case 'spiral':
    case 'blobs':
      get('factor', refuse('factor'), 0)
      get('test', refuse('test'), 0)
      return {
        set: d.set,
        size,
        classes: get('classes', int('classes', 'classes'), d.classes),
        noise: get('noise', n('noise', 'noise'), d.noise),
        seed: get('dseed', int('dseed', 'the data seed'), d.seed),
      }
    case 'circles':
      get('classes', refuse('classes'), 0)
      get('test', refuse('test'), 0)
      return {
        set: d.set,
        size,
        noise: get('noise', n('noise', 'noise'), d.noise),
        factor: get('factor', n('factor', 'factor'), d.factor),
        seed: get('dseed', int('dseed', 'the data seed'), d.seed),
      }
    case 'xor':
      for (const k of ['classes', 'factor', 'test']) get(k, refuse(k), 0)
      return {
        set: d.set,
        size,
        noise: get('noise', n('noise', 'noise'), d.noise),
        seed: get('dseed', int('dseed', 'the data seed'), d.seed),
      }
    case 'mnist':
      for (const k of ['classes', 'noise', 'factor', 'dseed']) get(k, refuse(k), 0)
      return { set: d.set, size, testSize: get('test', int('test', 'the number of test digits'), d.testSize) }
  }
}

const readOptimizer = (name: OptimizerName, given: ReadonlyMap<string, string>): OptimizerConfig => {
  const d = defaultOptimizer(name)
  const own = new Set(optimizerParams(d).map(([k]) => k))
  for (const k of ['mom', 'nesterov', 'wd', 'b1', 'b2', 'eps', 'decay', 'acc'])
    if (given.has(k) && !own.has(k)) fail(k, `${name} has no ${k} setting (its settings: ${[...own].join(', ')})`)
  const n = (k: string, fallback: number): number => {
    const t = given.get(k)
    return t === undefined ? fallback : readNumber(k, t)
  }
  switch (d.name) {
    case 'sgd': {
      const t = given.get('nesterov')
      return {
        name: d.name,
        momentum: n('mom', d.momentum),
        nesterov: t === undefined ? d.nesterov : readBool('nesterov', t),
        weightDecay: n('wd', d.weightDecay),
      }
    }
    case 'adamw':
      return { name: d.name, b1: n('b1', d.b1), b2: n('b2', d.b2), eps: n('eps', d.eps), weightDecay: n('wd', d.weightDecay) }
    case 'rmsprop':
      return { name: d.name, decay: n('decay', d.decay), eps: n('eps', d.eps), momentum: n('mom', d.momentum) }
    case 'adagrad':
      return { name: d.name, eps: n('eps', d.eps), initialAccumulator: n('acc', d.initialAccumulator) }
    default:
      return { name: d.name, b1: n('b1', d.b1), b2: n('b2', d.b2), eps: n('eps', d.eps) }
  }
}
