/**
 * One contestant of bench/peers.ts: chainrule trains the MNIST MLP of bench/peers/mlp.ts for
 * --warmup untimed and --steps timed steps (Train.trainStep with reuseBuffers: true, as a user
 * after speed writes it; --pure for the default allocating step; the default kernels, --threads 1|2,
 * --dtype float32|float64), then reports samples/s, losses and test accuracy on one line.
 *
 * Run alone: npx tsx bench/peers/chainrule.ts --dtype=float32 --threads=2 --warmup=50 --steps=300 [--pure]
 */
import { Kernels, Loss, Train } from '../../src/index.ts'
import { BATCH, initialState, mnistBatches, model, optimizer, parseArgs, report } from './mlp.ts'

const args = parseArgs(process.argv.slice(2))
Kernels.use('fast')
if (!(await Kernels.useThreads(args.threads))) throw new Error(`two threads unavailable: ${Kernels.threadsUnavailable()}`)
const { batches, test } = mnistBatches(args.warmup + args.steps, args.dtype)
// Each state is passed once and dropped: the step may reuse the buffers of the states before.
const step = Train.trainStep(model, Loss.softmaxCrossEntropy, optimizer, { reuseBuffers: !process.argv.includes('--pure') })

let ts = initialState(args.dtype)
const losses: number[] = []
for (let i = 0; i < args.warmup; i++) {
  const [next, metrics] = step(ts, batches[i]!)
  ts = next
  if (i === 0) losses.push(metrics.loss)
}
const t0 = performance.now()
for (let i = args.warmup; i < args.warmup + args.steps; i++) {
  const [next, metrics] = step(ts, batches[i]!)
  ts = next
  if (i === args.warmup || i === args.warmup + args.steps - 1) losses.push(metrics.loss)
}
const seconds = (performance.now() - t0) / 1000

const { accuracy } = Train.evaluate(model, ts.params, ts.state, test, { loss: Loss.softmaxCrossEntropy })
await Kernels.useThreads(1)
report({
  samplesPerSecond: (args.steps * BATCH) / seconds,
  losses: [losses[0]!, losses[1]!, losses[2]!],
  testAccuracy: accuracy ?? NaN,
  maxRssKb: process.resourceUsage().maxRSS,
})
