/**
 * chainrule against a peer library on the same job: the MNIST MLP of `npm start` (bench/peers/mlp.ts),
 * trained from the same initial params on the same batches for the same steps by chainrule (float32
 * on one and two threads, float64 on two) and by jax-js (@jax-js/jax on its WebAssembly backend,
 * float32 and float64; one thread: Node has no Worker global for it). Each contestant runs in its own
 * child process, round by round in alternating order, so the machine's noise hits them alike; each
 * is timed over --steps steps after --warmup untimed ones (the defaults, 2,000 after 300, time the steady
 * state a training run lives in: V8 tiers JavaScript and WebAssembly up over the first few hundred steps). Prints min/median/max samples/s per
 * contestant, the ratio chainrule float32 / jax-js float32 (the median of the ratios within each
 * round), the losses and test accuracy each reached (so a fast contestant is seen to learn as well),
 * each child's peak memory, and the load average. Not a test.
 *
 * The peers are installed apart from the library (bench/peers/package.json and its lock, versions
 * pinned): this script runs `npm ci --prefix bench/peers` first when bench/peers/node_modules is
 * missing or does not match the lock.
 *
 *   npm run bench:peers
 *   npx tsx bench/peers.ts --rounds=5 --warmup=300 --steps=2000 [--no-f64-peer]
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RESULT_TAG, type RunResult } from './peers/mlp.ts'

const flag = (name: string, fallback: number): number => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`))
  return a === undefined ? fallback : Number(a.slice(name.length + 3))
}
const ROUNDS = flag('rounds', 5)
const WARMUP = flag('warmup', 300)
const STEPS = flag('steps', 2000)
const PEER_F64 = !process.argv.includes('--no-f64-peer')

const root = fileURLToPath(new URL('..', import.meta.url))
const peersDir = join(root, 'bench', 'peers')

/** True when every package of bench/peers/package-lock.json is installed at the locked version. */
const installed = (): boolean => {
  const lock = JSON.parse(readFileSync(join(peersDir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> }
  return Object.entries(lock.packages).every(([path, { version }]) => {
    if (path === '') return true
    const manifest = join(peersDir, path, 'package.json')
    return existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version === version
  })
}

if (!installed()) {
  console.log('installing the peers: npm ci --prefix bench/peers')
  const npm = spawnSync('npm', ['ci', '--prefix', peersDir, '--no-audit', '--no-fund'], { stdio: 'inherit' })
  if (npm.status !== 0 || !installed()) throw new Error('npm ci --prefix bench/peers failed')
}

interface Contestant {
  readonly name: string
  readonly script: 'chainrule.ts' | 'jax-js.ts'
  readonly args: readonly string[]
}
const contestants: Contestant[] = [
  { name: 'chainrule float32, 1 thread', script: 'chainrule.ts', args: ['--dtype=float32', '--threads=1'] },
  { name: 'chainrule float32, 2 threads', script: 'chainrule.ts', args: ['--dtype=float32', '--threads=2'] },
  { name: 'chainrule float64, 2 threads', script: 'chainrule.ts', args: ['--dtype=float64', '--threads=2'] },
  { name: 'jax-js float32', script: 'jax-js.ts', args: ['--dtype=float32'] },
  ...(PEER_F64 ? [{ name: 'jax-js float64', script: 'jax-js.ts', args: ['--dtype=float64'] } as const] : []),
]

/** Runs one contestant in a fresh Node process (through tsx) and returns what it reported. */
const run = (c: Contestant): RunResult => {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(peersDir, c.script), ...c.args, `--warmup=${WARMUP}`, `--steps=${STEPS}`],
    { cwd: root, encoding: 'utf8', maxBuffer: 2 ** 24 },
  )
  const line = child.stdout.split('\n').find((l) => l.startsWith(RESULT_TAG))
  if (child.status !== 0 || line === undefined)
    throw new Error(`${c.name} failed (exit ${child.status}):\n${child.stdout}\n${child.stderr}`)
  return JSON.parse(line.slice(RESULT_TAG.length)) as RunResult
}

const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}
const fmt = (v: number): string => Math.round(v).toLocaleString('en-US')

const loadBefore = load()
const results = new Map<string, RunResult[]>(contestants.map((c) => [c.name, []]))
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? contestants : [...contestants].reverse()
  for (const c of order) {
    const r = run(c)
    results.get(c.name)!.push(r)
    process.stderr.write(
      `round ${round + 1}/${ROUNDS}  ${c.name.padEnd(30)} ${fmt(r.samplesPerSecond).padStart(7)} samples/s  (load ${load()})\n`,
    )
  }
}

console.log(
  `\nMNIST MLP 784-128-64-10, batch 64, SGD (Nesterov momentum 0.9, weight decay 5e-4, lr 0.05): training samples/s over ${STEPS} ` +
    `timed steps after ${WARMUP} untimed, ${ROUNDS} interleaved rounds, each contestant in its own process; Node ${process.version}`,
)
console.log(
  'chainrule steps with Train.trainStep(..., { reuseBuffers: true }) (bench/peers/chainrule.ts; --pure there for the allocating step)',
)
console.log(`load average (1, 5, 15 min): ${loadBefore} before, ${load()} after`)
const widths = [30, 8, 8, 8, 32, 9, 9]
const row = (cells: readonly string[]): string =>
  cells.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
console.log(row(['contestant', 'median', 'min', 'max', `loss: step 1 / ${WARMUP + 1} / ${WARMUP + STEPS}`, 'test acc', 'peak RSS']))
for (const [name, rs] of results) {
  const rates = rs.map((r) => r.samplesPerSecond)
  const last = rs[rs.length - 1]!
  console.log(
    row([
      name,
      fmt(median(rates)),
      fmt(Math.min(...rates)),
      fmt(Math.max(...rates)),
      last.losses.map((l) => l.toFixed(5)).join(' / '),
      `${(100 * last.testAccuracy).toFixed(2)}%`,
      `${Math.round(median(rs.map((r) => r.maxRssKb)) / 1024)} MB`,
    ]),
  )
}
console.log('(losses and accuracy from the last round; peak RSS is the median over rounds of each child process, MNIST loading included)')

/** The ratio a / b within each round: min, median, max. */
const ratios = (a: string, b: string): number[] => results.get(a)!.map((r, i) => r.samplesPerSecond / results.get(b)![i]!.samplesPerSecond)
const spread = (xs: readonly number[]): string => `${median(xs).toFixed(2)}x (${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)})`
console.log('\nratios within each round, median (min..max):')
const one = ratios('chainrule float32, 1 thread', 'jax-js float32')
const two = ratios('chainrule float32, 2 threads', 'jax-js float32')
console.log(`  chainrule float32 1 thread  / jax-js float32: ${spread(one)}`)
console.log(`  chainrule float32 2 threads / jax-js float32: ${spread(two)}`)
console.log(`  chainrule float64 2 threads / jax-js float32: ${spread(ratios('chainrule float64, 2 threads', 'jax-js float32'))}`)
if (PEER_F64)
  console.log(`  chainrule float64 2 threads / jax-js float64: ${spread(ratios('chainrule float64, 2 threads', 'jax-js float64'))}`)
const target = (xs: readonly number[]): string => (median(xs) >= 1.5 ? 'met' : 'NOT met')
console.log(`target: chainrule float32 >= 1.5x jax-js float32: ${target(two)} on 2 threads (the default), ${target(one)} on 1 thread`)
