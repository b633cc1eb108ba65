import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Train, Tree, type T } from 'chainrule'
import { dataSets, defaultLr, defaultOptimizer, defaults, lrKinds, optimizerNames, type Config } from '../../playground/core/config.ts'
import { build, codeOf, fitOptions } from '../../playground/core/build.ts'
import { statusText } from '../../playground/ui/status.ts'
import { mnistBytes } from './support.ts'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const bits = (t: T.Tensor): string => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex')

/** The configurations whose code is type-checked: every data set, optimizer, schedule and loss, and layers of each kind. */
const checked: [string, Config][] = [
  ...dataSets.map((s): [string, Config] => [s, defaults(s)]),
  ...optimizerNames.map((name): [string, Config] => [`xor-${name}`, { ...defaults('xor'), optimizer: defaultOptimizer(name) }]),
  ...lrKinds.map((kind): [string, Config] => [`xor-${kind}`, { ...defaults('xor'), lr: defaultLr(kind, 0.05) }]),
  [
    'spiral-mse-layers',
    {
      ...defaults('spiral'),
      loss: 'mse',
      optimizer: { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-4 },
      layers: [
        { kind: 'dense', units: 8 },
        { kind: 'batchNorm' },
        { kind: 'leakyRelu', alpha: 0.2 },
        { kind: 'dropout', rate: 0.25 },
        { kind: 'dense', units: 8 },
        { kind: 'elu', alpha: 0.5 },
        { kind: 'dense', units: 8 },
        { kind: 'sigmoid' },
        { kind: 'dense', units: 3 },
      ],
    },
  ],
  [
    'mnist-mse-conv',
    {
      ...defaults('mnist'),
      loss: 'crossEntropy',
      layers: [
        { kind: 'conv2d', filters: 4, kernel: 5, stride: 2, padding: 'same' },
        { kind: 'tanh' },
        { kind: 'avgPool2d', size: 2, stride: 1 },
        { kind: 'conv2d', filters: 2, kernel: 3, stride: 1, padding: 1 },
        { kind: 'maxPool2d', size: 3, stride: 3 },
        { kind: 'flatten' },
        { kind: 'dense', units: 10 },
        { kind: 'softmax' },
      ],
    },
  ],
]

/** The configurations whose code is also run with tsx and compared with build's run (short runs). */
const ran: [string, Config, boolean][] = [
  [
    'run-blobs-mse-schedule',
    { ...defaults('blobs'), loss: 'mse', lr: { kind: 'warmupCosine', peak: 0.05, warmupSteps: 5, floor: 0.001 }, epochs: 3 },
    false,
  ],
  ['run-mnist', { ...defaults('mnist'), data: { set: 'mnist', size: 96, testSize: 32 }, epochs: 1 }, true],
]

/** What a run prints after the generated code: the final params' bits and the first step's loss. */
const report = [
  "import { Tree as ReportTree } from 'chainrule'",
  'const hex = (t: { data: Float64Array }): string => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString("hex")',
  "console.log(`PARAMS ${ReportTree.leaves(state.params).map(hex).join(',')}`)",
  'console.log(`FIRST ${history.steps[0]!.loss}`)',
].join('\n')

let dir = ''
let compiled: { status: number | null; output: string } = { status: null, output: '' }

beforeAll(() => {
  dir = mkdtempSync(join(root, '.tmp-playground-code-'))
  for (const [name, c] of checked) writeFileSync(join(dir, `${name}.ts`), codeOf(c))
  for (const [name, c] of ran) writeFileSync(join(dir, `${name}.ts`), `${codeOf(c)}\n${report}\n`)
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: relative(dir, join(root, 'tsconfig.json')), include: ['./*.ts'] }))
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(dir, 'tsconfig.json')], { cwd: root, encoding: 'utf8' })
  compiled = { status: r.status, output: `${r.stdout}${r.stderr}` }
})

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

describe('codeOf: the TypeScript a user writes for the configuration', () => {
  test(`the code of ${checked.length + ran.length} configurations type-checks with the repository's strict settings`, () => {
    expect(compiled.output, compiled.output).toBe('')
    expect(compiled.status).toBe(0)
  })

  test.each(ran)('%s: run with tsx, it trains the same network as build, bit for bit (final params and first loss)', (name, c, mnist) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, `${name}.ts`)], { cwd: root, encoding: 'utf8', timeout: 100_000 })
    expect(r.status, r.stderr).toBe(0)
    const printed = (tag: string): string => new RegExp(`^${tag} (.*)$`, 'm').exec(r.stdout)![1]!
    const run = build(c, mnist ? mnistBytes() : undefined)
    const { state, history } = Train.fit(fitOptions(run))
    expect(printed('PARAMS')).toBe(Tree.leaves(state.params).map(bits).join(','))
    expect(printed('FIRST')).toBe(String(history.steps[0]!.loss))
    // it ends with the line the page's Train mode shows for the same run, in the same format
    const onTrain = Train.evaluate(run.model, state.params, state.state, run.data, { loss: run.loss })
    const onTest = run.test === undefined ? undefined : Train.evaluate(run.model, state.params, state.state, run.test, { loss: run.loss })
    const done = {
      kind: 'done',
      epochs: c.epochs,
      stopped: false,
      loss: onTrain.loss,
      accuracy: onTrain.accuracy,
      test: onTest?.accuracy,
    } as const
    expect(r.stdout).toContain(`${statusText(done, c.epochs)}\n`)
  })

  test('the code reads as the network: the pipe of the layers, one per line, with shapes', () => {
    const code = codeOf(defaults('mnist'))
    expect(code).toContain("import { loadMnist } from 'chainrule/node'")
    expect(code).toContain('  L.conv2d(8, 3), // conv2d 1: 1×28×28 → 8×26×26')
    expect(code).toContain('const optimizer = Optim.adam({ lr })')
    expect(code).toContain('Train.fit({ model, loss, optimizer, data, epochs, batchSize, key: Key.fromSeed(0) })')
  })
})
