/**
 * Example 08: load a saved model and classify digits with it.
 *
 * The MNIST main job (examples/05, `npm start`) saves its trained network to out/mnist-mlp.json,
 * and a float32 run (`npm start -- --dtype float32`) to out/mnist-mlp-float32.json: the spec, the
 * exact params and some metadata, in chainrule's checkpoint format (docs/checkpoints.md). This
 * example loads one (out/mnist-mlp.json unless given a path; checking every field), says which file
 * and dtype it loaded, prints its summary, shows a few test digits as ASCII art with the predicted
 * and the true label, and measures the test accuracy of the loaded model, which is the accuracy the
 * job measured, since the params come back bit for bit. --from I and --count N pick the digits shown.
 *
 * Run: npx tsx examples/08-load-and-predict.ts [path, default out/mnist-mlp.json] [--count N] [--from I]
 */
import * as E from 'fp-ts/Either'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { IO, L, Loss, T, Train, Tree } from 'chainrule'
import { loadCheckpoint, loadMnist } from 'chainrule/node'
import { flags, shownPath } from './cli.ts'

const testImages = 10000 // MNIST's test set
const {
  values: args,
  positionals,
  refuse,
} = flags(
  '[path, default out/mnist-mlp.json] [--count N] [--from I]',
  {
    count: { default: 6, integer: true, min: 1, max: testImages },
    from: { default: 0, integer: true, min: 0, max: testImages - 1 },
  },
  1,
)
const { count, from } = args
if (from + count > testImages)
  refuse(`--from ${from} --count ${count} runs past the ${testImages} test images (the last is #${testImages - 1})`)
const path = positionals[0] ?? fileURLToPath(new URL('../out/mnist-mlp.json', import.meta.url))
const shown = shownPath(path)

if (!existsSync(path)) {
  const float32 = fileURLToPath(new URL('../out/mnist-mlp-float32.json', import.meta.url))
  console.error(
    positionals[0] === undefined
      ? `No saved model at ${shown}. Train and save one first with \`npm start\` (examples/05-mnist-mlp.ts), or pass a checkpoint path` +
          (existsSync(float32) ? ` (the float32 run's model is at ${shownPath(float32)}).` : '.')
      : `No file at ${shown}: check the path (relative paths start where you run the command), or train and save a model ` +
          'first with `npm start` (examples/05-mnist-mlp.ts).',
  )
  process.exit(1)
}

// Loading validates everything and returns an Either: a problem comes back as an IoError with
// its kind and the path of the first thing wrong (e.g. `params[1].W: expected 100352 values, ...`).
const loaded = loadCheckpoint(path)
if (E.isLeft(loaded)) {
  console.error(`Cannot load ${shown}: [${loaded.left.kind}] ${loaded.left.message}`)
  process.exit(1)
}
const { model, params, state, inShape, metadata } = loaded.right

// A checkpoint of another model loads fine but cannot classify digits: say so rather than fail inside predict.
const summary = IO.summarize(model, inShape)
const outShape = E.isRight(summary) ? summary.right.outShape : []
if (inShape.join() !== '1,28,28' || outShape.join() !== '10') {
  console.error(
    `${shown} maps [${inShape.join(', ')}] to [${outShape.join(', ')}]; this example needs a digit classifier, [1, 28, 28] to [10] ` +
      '(as examples/05-mnist-mlp.ts saves)',
  )
  process.exit(1)
}
console.log(`loaded ${shown} (${Tree.dtypeOfTree(params)})`)
console.log(`metadata: ${JSON.stringify(metadata)}\n`)
console.log(IO.summary(model, inShape))
console.log('')

const { test } = loadMnist({ train: 0 })
const n = test.x.shape[0]!

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
