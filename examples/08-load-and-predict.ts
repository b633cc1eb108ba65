/**
 * Example 08: load a saved model and classify digits with it.
 *
 * The MNIST main job (examples/05, `npm start`) saves its trained network to out/mnist-mlp.json:
 * the spec, the exact params (float64, or float32 with --dtype float32) and some metadata, in chainrule's checkpoint format
 * (docs/checkpoints.md). This example loads it (checking every field), prints its summary, shows
 * a few test digits as ASCII art with the predicted and the true label, and measures the test
 * accuracy of the loaded model, which is the accuracy the job measured, since the params come
 * back bit for bit.
 *
 * Run: npx tsx examples/08-load-and-predict.ts [path, default out/mnist-mlp.json] [--count N] [--from I]
 */
import * as E from 'fp-ts/Either'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { IO, L, Loss, T, Train } from 'chainrule'
import { loadCheckpoint, loadMnist } from 'chainrule/node'
import { flags } from './cli.ts'

const { values: args, positionals } = flags('[path, default out/mnist-mlp.json] [--count N] [--from I]', { count: 6, from: 0 }, 1)
const path = positionals[0] ?? fileURLToPath(new URL('../out/mnist-mlp.json', import.meta.url))
const { count, from } = args

if (!existsSync(path)) {
  console.error(
    `No saved model at ${path}. Train and save one first with \`npm start\` (examples/05-mnist-mlp.ts), or pass a checkpoint path.`,
  )
  process.exit(1)
}

// Loading validates everything and returns an Either: a problem comes back as an IoError with
// its kind and the path of the first thing wrong (e.g. `params[1].W: expected 100352 values, ...`).
const loaded = loadCheckpoint(path)
if (E.isLeft(loaded)) {
  console.error(`Cannot load ${path}: [${loaded.left.kind}] ${loaded.left.message}`)
  process.exit(1)
}
const { model, params, state, inShape, metadata } = loaded.right
console.log(`loaded ${path}`)
console.log(`metadata: ${JSON.stringify(metadata)}\n`)
console.log(IO.summary(model, inShape))
console.log('')

const { test } = loadMnist({ train: 0 })
const n = test.x.shape[0] as number
if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(from) && from >= 0 && from + count <= n)) {
  console.error(`--from and --count must pick digits within the ${n} test images`)
  process.exit(1)
}

// Predict a few digits: the model's output is logits; softmax turns them into probabilities.
const x = T.sliceRows(test.x, from, from + count)
const probs = L.softmaxRows(Train.predict(model, params, state, x))
const predicted = T.argmaxRows(probs)

/** A 28×28 image as 14 lines of ASCII (each character averages two pixel rows). */
const ascii = (k: number): string[] => {
  const shades = ' .:-=+*#%@'
  const px = x.data
  const base = k * 784
  const lines: string[] = []
  for (let r = 0; r < 28; r += 2) {
    let line = ''
    for (let c = 0; c < 28; c++) {
      const v = ((px[base + r * 28 + c] as number) + (px[base + (r + 1) * 28 + c] as number)) / 2
      line += shades[Math.min(shades.length - 1, Math.floor(v * shades.length))]
    }
    lines.push(line)
  }
  return lines
}

const perRow = 3
for (let start = 0; start < count; start += perRow) {
  const ks = Array.from({ length: Math.min(perRow, count - start) }, (_, j) => start + j)
  const pictures = ks.map(ascii)
  for (let line = 0; line < 14; line++) console.log(pictures.map((p) => `|${p[line]}|`).join('  '))
  const cell = (text: string): string => ` ${text}`.padEnd(30)
  console.log(
    ks
      .map((k) =>
        cell(`#${from + k}: predicted ${predicted[k]} (${(100 * (probs.data[k * 10 + (predicted[k] as number)] as number)).toFixed(1)}%)`),
      )
      .join('  '),
  )
  console.log(
    ks.map((k) => cell(`     true ${test.y.data[from + k]}: ${predicted[k] === test.y.data[from + k] ? 'right' : 'WRONG'}`)).join('  '),
  )
  console.log('')
}

const result = Train.evaluate(model, params, state, test, { loss: Loss.softmaxCrossEntropy })
const saved = metadata['testAccuracy']
console.log(`test accuracy of the loaded model: ${(100 * (result.accuracy ?? 0)).toFixed(2)}% on ${n} images`)
if (typeof saved === 'number')
  console.log(
    `test accuracy recorded when it was saved: ${(100 * saved).toFixed(2)}% (${saved === result.accuracy ? 'identical' : 'DIFFERENT'})`,
  )
