import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { dataSets, defaults, LIMITS, validate, type Config } from '../../playground/core/config.ts'
import { decode, encode, MAX_QUERY, parse } from '../../playground/core/url.ts'
import { config } from './arbitrary.ts'

const decoded = (query: string): Config => {
  const r = decode(query)
  if (E.isLeft(r)) throw r.left
  return r.right
}

const error = (query: string): { param: string; message: string } => {
  const r = decode(query)
  if (E.isRight(r)) throw new Error(`decode accepted ${query}`)
  return { param: r.left.param, message: r.left.message }
}

describe('url: the configuration in a query string', () => {
  test('law 12 (codecs round-trip): decode(encode(c)) equals c for arbitrary valid configurations, every number bit for bit', () => {
    fc.assert(
      fc.property(config, (c) => {
        expect(decoded(encode(c))).toStrictEqual(c)
      }),
      { numRuns: 300 },
    )
  })

  test('the queries are compact and readable: the defaults of spiral, and a small change', () => {
    expect(encode(defaults('spiral'))).toBe('data=spiral&net=dense:16,relu,dense:16,relu,dense:3&opt=adam&lr=0.01&bs=32&epochs=200&seed=0')
    const c: Config = {
      ...defaults('mnist'),
      optimizer: { name: 'sgd', momentum: 0.9, nesterov: false, weightDecay: 0 },
      lr: { kind: 'cosineDecay', init: 0.1, floor: 0 },
    }
    expect(encode(c)).toBe(
      'data=mnist&net=conv2d:8:3,relu,maxPool2d:2,flatten,dense:10&opt=sgd&mom=0.9&lr=cosineDecay:0.1:0&bs=32&epochs=3&seed=0',
    )
  })

  test.each(dataSets)('the defaults of %s round-trip', (set) => {
    expect(decoded(`?${encode(defaults(set))}`)).toStrictEqual(defaults(set))
  })

  test('omitted parameters take the defaults of the data set', () => {
    expect(decoded('data=xor')).toStrictEqual(defaults('xor'))
    expect(decoded('')).toStrictEqual(defaults('spiral'))
  })

  test('numbers keep every bit: 0.1 + 0.2, 1e-300, 5e-324 and -0 survive', () => {
    for (const value of [0.1 + 0.2, 1e-300, 5e-324, 1 / 3]) {
      const c: Config = { ...defaults('spiral'), lr: { kind: 'constant', value } }
      expect(Object.is(decoded(encode(c)).lr.kind === 'constant' && (decoded(encode(c)).lr as { value: number }).value, value)).toBe(true)
    }
    const c: Config = { ...defaults('circles'), data: { set: 'circles', size: 200, noise: -0, factor: 0.5, seed: 0 } }
    expect(Object.is((decoded(encode(c)).data as { noise: number }).noise, -0)).toBe(true)
  })

  test.each([
    ['data=moons', 'data', "must be one of spiral, circles, xor, blobs, mnist, got 'moons'"],
    ['net=dense:16,swish,dense:3', 'net', "unknown layer 'swish', the 2nd in net"],
    [
      'net=dense:99999999999999999999,relu,dense:3',
      'net',
      'units must be an integer from 1 to 1024 (the playground limit), got 100000000000000000000',
    ],
    ['net=dense:0x10,relu,dense:3', 'net', "dense 1: units must be a number, got '0x10'"],
    ['net=dense:16.5,relu,dense:3', 'net', "dense 1: units must be a whole number, got '16.5'"],
    ['net=dense,relu,dense:3', 'net', 'dense 1 needs its units, e.g. dense:16'],
    ['net=dense:16,relu,dense:4', 'net', 'the network ends with output 4 per example, but spiral has 3 classes'],
    ['data=mnist&net=conv2d:8:5,maxPool2d:4,conv2d:4:9,flatten,dense:10', 'net', 'conv2d 2: kernel 9 is larger than its 6×6 input'],
    ['lr=Infinity', 'lr', "the learning rate must be a number, got 'Infinity'"],
    ['lr=-0.1', 'lr', 'the learning rate must be a number > 0, got -0.1'],
    ['lr=warmupCosine:0.1:10:1', 'lr', 'warmupCosine: floor must be <= peak (0.1), got 1'],
    ['lr=cosineDecay:0.1', 'lr', "cosineDecay takes init:floor, got 'cosineDecay:0.1'"],
    ['bs=1000', 'bs', 'must be an integer from 1 to 300 (the training examples), got 1000'],
    ['epochs=1e9', 'epochs', 'must be an integer from 1 to 10000 (the playground limit), got 1000000000'],
    ['n=1e6', 'n', 'size must be an integer from 2 to 5000 (the playground limit), got 1000000'],
    ['n=301', 'n', 'size 301 is not a multiple of its 3 classes'],
    ['opt=adam&mom=0.9', 'mom', 'adam has no mom setting (its settings: b1, b2, eps)'],
    ['opt=sgd&mom=1', 'opt', 'sgd: momentum must be in [0, 1), got 1'],
    ['opt=sgd&nesterov=yes', 'nesterov', "nesterov must be 1 or 0, got 'yes'"],
    ['bs=8&bs=16', 'bs', 'is given twice'],
    ['foo=1', 'foo', 'unknown parameter'],
    ['data=xor&classes=3', 'classes', 'xor has no classes setting'],
    ['seed=-1', 'seed', 'must be an integer from 0 to 2147483647, got -1'],
  ])('%s is refused, naming ?%s', (query, param, message) => {
    const e = error(query)
    expect(e.param).toBe(param)
    expect(e.message).toContain(message)
    expect(e.message.startsWith(`?${param}: `)).toBe(true)
  })

  test('a hostile query costs little: too long, too many layers or a huge number are refused before anything is built', () => {
    expect(error(`net=${'relu,'.repeat(2000)}dense:3`).message).toContain(`more than the ${MAX_QUERY} read`)
    expect(error(`net=${'relu,'.repeat(LIMITS.layers)}dense:3`).message).toContain(
      `${LIMITS.layers + 1} layers, more than the playground limit of ${LIMITS.layers}`,
    )
    expect(error(`lr=0.${'1'.repeat(40)}`).message).toContain('more than the 32 a number may have')
    expect(error('net=dense:1024,relu,dense:1024,relu,dense:1024,dense:3').message).toContain(
      'parameters, more than the playground limit of 1000000',
    )
  })

  test('a network too heavy to train in a page is refused with the limit named (multiply-adds of one example counted by hand)', () => {
    // conv 5×5 1→32 on 28×28 'same': 32·784·25 = 627200; conv 7×7 32→64: 64·784·32·49 = 78675968;
    // max-pool 4 reads 64·7·7·16 = 50176; flatten 3136; dense 3136→10: 31360. In all 79387840.
    expect(error('data=mnist&net=conv2d:32:5:1:same,conv2d:64:7:1:same,maxPool2d:4,flatten,dense:10').message).toBe(
      "?net: layers: one example's forward pass takes 79387840 multiply-adds, more than the playground limit of 50000000",
    )
  })

  test('parse reads a configuration validate refuses (to show its problems), and spells the same one again; decode refuses it', () => {
    const q = 'data=spiral&classes=5&net=dense:16,relu,dense:16,relu,dense:3&opt=adam&lr=0.01&bs=32&epochs=200&seed=0'
    const r = parse(q)
    if (E.isLeft(r)) throw r.left
    expect(r.right.data).toMatchObject({ set: 'spiral', classes: 5 })
    expect(validate(r.right).map((p) => p.message)).toEqual([
      'layers: the network ends with output 3 per example, but spiral has 5 classes: end with a dense of 5',
    ])
    expect(E.isLeft(decode(q))).toBe(true)
    const none: Config = { ...defaults('xor'), layers: [] }
    const again = parse(encode(none))
    expect(E.isRight(again) && again.right).toStrictEqual(none)
    expect(E.isLeft(parse('data=spiral&net=swish:3'))).toBe(true) // what it cannot read at all it still refuses
  })

  test('parameters the page owns can be skipped by name', () => {
    expect(E.isRight(decode('data=xor&mode=step', { ignore: ['mode'] }))).toBe(true)
    expect(error('data=xor&mode=step').param).toBe('mode')
  })
})
