/**
 * Element-wise passes of a CNN training step: ms per call of ReLU, leaky ReLU, max pooling and
 * average pooling, forward and backward, the previous implementations (copied below as they
 * were) against the current ones, on the activations of the MNIST CNN at batch 64
 * (conv 5x5x8 → relu → maxPool2d(2) → conv 5x5x16 → relu → maxPool2d(2), float64).
 *
 *   npx tsx bench/elementwise.ts               # the table
 *   npx tsx bench/elementwise.ts --rounds=31   # more rounds (default 15)
 *
 * Method: each case is warmed up, then old and new are timed in interleaved rounds (old, new,
 * new, old, …) so a noisy machine slows them alike; a sample is several calls (≥ ~20 ms),
 * divided by the count. Printed: median (min-max) ms per call over the rounds, and old/new of
 * the medians. Every call allocates its outputs, as the layers do. ReLU inputs have random
 * signs (normal), the pooling inputs are ReLU outputs (a quarter of the windows tie at 0).
 */
import { Key, L, T, type Tensor } from '../src/index.ts'
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward } from '../src/kernels/pool.ts'
import { planWindow, type Window2d } from '../src/kernels/window.ts'

const roundsArg = process.argv.find((s) => s.startsWith('--rounds='))
const ROUNDS = roundsArg === undefined ? 15 : Math.max(1, Number(roundsArg.slice('--rounds='.length)))
const SAMPLE_MS = 20
const ctx = { mode: 'train' as const, key: Key.fromSeed(0) }

// ---- the previous implementations, as they were -------------------------------------------

/** ReLU and leaky ReLU with a branch per value. */
const oldReluForward = (v: Float64Array): Float64Array => {
  const y = T.buffer(v.length)
  for (let i = 0; i < v.length; i++) y[i] = v[i]! > 0 ? v[i]! : 0
  return y
}
const oldReluBackward = (v: Float64Array, d: Float64Array): Float64Array => {
  const dx = T.buffer(v.length)
  for (let i = 0; i < v.length; i++) dx[i] = v[i]! > 0 ? d[i]! : 0
  return dx
}
const oldLeakyForward = (alpha: number, v: Float64Array): Float64Array => {
  const y = T.buffer(v.length)
  for (let i = 0; i < v.length; i++) y[i] = v[i]! > 0 ? v[i]! : alpha * v[i]!
  return y
}
const oldLeakyBackward = (alpha: number, v: Float64Array, d: Float64Array): Float64Array => {
  const dx = T.buffer(v.length)
  for (let i = 0; i < v.length; i++) dx[i] = v[i]! > 0 ? d[i]! : alpha * d[i]!
  return dx
}

/** Max-pool forward with branches (the general loop and the 2x2 stride-2 one). */
const oldMaxPoolForward = (g: Window2d, x: Float64Array, y: Float64Array, argmax: Int32Array): void => {
  const { N, C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  const inside = PT === 0 && PL === 0 && (OH - 1) * SH + (KH - 1) * DH < H && (OW - 1) * SW + (KW - 1) * DW < W
  if (inside && KH === 2 && KW === 2 && SH === 2 && SW === 2 && DH === 1 && DW === 1) {
    let q = 0
    for (let nc = 0; nc < N * C; nc++) {
      for (let oh = 0; oh < OH; oh++) {
        const top = nc * H * W + 2 * oh * W
        for (let ow = 0; ow < OW; ow++) {
          const k = top + 2 * ow
          let at = k
          if (x[k + 1]! > x[at]!) at = k + 1
          if (x[k + W]! > x[at]!) at = k + W
          if (x[k + W + 1]! > x[at]!) at = k + W + 1
          y[q] = x[at]!
          argmax[q] = at
          q++
        }
      }
    }
    return
  }
  let q = 0
  for (let nc = 0; nc < N * C; nc++) {
    const plane = nc * H * W
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let best = -Infinity
        let at = -1
        for (let i = 0; i < KH; i++) {
          const h = oh * SH - PT + i * DH
          if (!inside && (h < 0 || h >= H)) continue
          for (let j = 0; j < KW; j++) {
            const v = ow * SW - PL + j * DW
            if (!inside && (v < 0 || v >= W)) continue
            const k = plane + h * W + v
            const value = x[k]!
            if (value > best || at < 0) {
              best = value
              at = k
            }
          }
        }
        y[q] = best
        argmax[q] = at
        q++
      }
    }
  }
}

/** Max-pool backward (unchanged since): zero dx, then add each dy at its argmax. */
const oldMaxPoolBackward = (dy: Float64Array, argmax: Int32Array, dx: Float64Array): void => {
  dx.fill(0)
  for (let q = 0; q < dy.length; q++) {
    const k = argmax[q]!
    if (k >= 0) dx[k] = dx[k]! + dy[q]!
  }
}

/** Average pooling with the general window loops only. */
const oldAvgPoolForward = (g: Window2d, x: Float64Array, y: Float64Array): void => {
  const { N, C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  const scale = 1 / (KH * KW)
  let q = 0
  for (let nc = 0; nc < N * C; nc++) {
    const plane = nc * H * W
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let sum = 0
        for (let i = 0; i < KH; i++) {
          const h = oh * SH - PT + i * DH
          if (h < 0 || h >= H) continue
          for (let j = 0; j < KW; j++) {
            const v = ow * SW - PL + j * DW
            if (v < 0 || v >= W) continue
            sum += x[plane + h * W + v]!
          }
        }
        y[q++] = sum * scale
      }
    }
  }
}
const oldAvgPoolBackward = (g: Window2d, dy: Float64Array, dx: Float64Array): void => {
  const { N, C, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW } = g
  const scale = 1 / (KH * KW)
  dx.fill(0)
  let q = 0
  for (let nc = 0; nc < N * C; nc++) {
    const plane = nc * H * W
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const share = dy[q++]! * scale
        for (let i = 0; i < KH; i++) {
          const h = oh * SH - PT + i * DH
          if (h < 0 || h >= H) continue
          for (let j = 0; j < KW; j++) {
            const v = ow * SW - PL + j * DW
            if (v < 0 || v >= W) continue
            const k = plane + h * W + v
            dx[k] = dx[k]! + share
          }
        }
      }
    }
  }
}

// ---- cases ------------------------------------------------------------------------------------

interface Case {
  readonly label: string
  readonly old: () => unknown
  readonly now: () => unknown
  /** Part of one MNIST CNN training step (summed at the end). */
  readonly step?: boolean
}

const reluCases = (label: string, shape: number[], step: boolean): Case[] => {
  const x = Key.normal(Key.fromSeed(1), shape)
  const dy = Key.normal(Key.fromSeed(2), shape)
  const { tape } = L.relu.forward(L.none, L.none, x, ctx)
  return [
    { label: `relu forward ${label}`, step, old: () => oldReluForward(x.data), now: () => L.relu.forward(L.none, L.none, x, ctx) },
    { label: `relu backward ${label}`, step, old: () => oldReluBackward(x.data, dy.data), now: () => L.relu.vjp(L.none, tape, dy) },
  ]
}

const leakyCases = (label: string, shape: number[]): Case[] => {
  const alpha = 0.01
  const layer = L.leakyRelu(alpha)
  const x = Key.normal(Key.fromSeed(1), shape)
  const dy = Key.normal(Key.fromSeed(2), shape)
  const { tape } = layer.forward(L.none, L.none, x, ctx)
  return [
    { label: `leakyRelu forward ${label}`, old: () => oldLeakyForward(alpha, x.data), now: () => layer.forward(L.none, L.none, x, ctx) },
    { label: `leakyRelu backward ${label}`, old: () => oldLeakyBackward(alpha, x.data, dy.data), now: () => layer.vjp(L.none, tape, dy) },
  ]
}

/** Pooling kernels called as the layers call them: fresh output buffers each time. */
const poolCases = (
  label: string,
  [N, C, H, W]: [number, number, number, number],
  k: number,
  s: number,
  p: number,
  step: boolean,
): Case[] => {
  const plan = planWindow({ kernel: [k, k], stride: [s, s], dilation: [1, 1], padding: p }, C, H, W, N)
  if (typeof plan === 'string') throw new Error(plan)
  const g = plan.window
  const x: Tensor = L.relu.forward(L.none, L.none, Key.normal(Key.fromSeed(3), [N, C, H, W]), ctx).y
  const n = N * C * g.OH * g.OW
  const dy = Key.normal(Key.fromSeed(4), [n]).data
  const argmax = new Int32Array(n)
  maxPoolForward(g, x.data, new Float64Array(n), argmax)
  const name = `${k}x${k} s${s}${p > 0 ? ` p${p}` : ''} ${label}`
  return [
    {
      label: `maxPool ${name} forward`,
      step,
      old: () => oldMaxPoolForward(g, x.data, T.buffer(n), new Int32Array(n)),
      now: () => maxPoolForward(g, x.data, T.buffer(n), new Int32Array(n)),
    },
    {
      label: `maxPool ${name} backward`,
      step,
      old: () => oldMaxPoolBackward(dy, argmax, T.buffer(x.data.length)),
      now: () => maxPoolBackward(g, dy, argmax, T.buffer(x.data.length)),
    },
    {
      label: `avgPool ${name} forward`,
      old: () => oldAvgPoolForward(g, x.data, T.buffer(n)),
      now: () => avgPoolForward(g, x.data, T.buffer(n)),
    },
    {
      label: `avgPool ${name} backward`,
      old: () => oldAvgPoolBackward(g, dy, T.buffer(x.data.length)),
      now: () => avgPoolBackward(g, dy, T.buffer(x.data.length)),
    },
  ]
}

const cases: Case[] = [
  ...reluCases('[64, 8, 28, 28]', [64, 8, 28, 28], true),
  ...reluCases('[64, 16, 14, 14]', [64, 16, 14, 14], true),
  ...leakyCases('[64, 8, 28, 28]', [64, 8, 28, 28]),
  ...poolCases('[64, 8, 28, 28]', [64, 8, 28, 28], 2, 2, 0, true),
  ...poolCases('[64, 16, 14, 14]', [64, 16, 14, 14], 2, 2, 0, true),
  ...poolCases('[64, 8, 28, 28]', [64, 8, 28, 28], 3, 2, 1, false),
]

// ---- timing -----------------------------------------------------------------------------------

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** ms per call of f, over `calls` calls. */
const sample = (f: () => unknown, calls: number): number => {
  const t0 = performance.now()
  for (let i = 0; i < calls; i++) f()
  return (performance.now() - t0) / calls
}

const fmt = (xs: readonly number[]): string => `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}-${Math.max(...xs).toFixed(3)})`

console.log(`Element-wise passes, ms per call: median (min-max) over ${ROUNDS} interleaved rounds; Node ${process.version}`)
const widths = [42, 24, 24, 7]
console.log(['case', 'old', 'new', 'old/new'].map((h, i) => (i === 0 ? h.padEnd(widths[i]!) : h.padStart(widths[i]!))).join('  '))
let stepOld = 0
let stepNew = 0
for (const c of cases) {
  for (let i = 0; i < 20; i++) (c.old(), c.now()) // warm up (and let V8 optimise both)
  const calls = Math.max(1, Math.ceil(SAMPLE_MS / Math.max(sample(c.old, 3), sample(c.now, 3))))
  const old: number[] = []
  const now: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) (old.push(sample(c.old, calls)), now.push(sample(c.now, calls)))
    else (now.push(sample(c.now, calls)), old.push(sample(c.old, calls)))
  }
  if (c.step === true) ((stepOld += median(old)), (stepNew += median(now)))
  console.log(
    [
      c.label.padEnd(widths[0]!),
      fmt(old).padStart(widths[1]!),
      fmt(now).padStart(widths[2]!),
      `${(median(old) / median(now)).toFixed(2)}x`.padStart(widths[3]!),
    ].join('  '),
  )
}
console.log(
  `MNIST CNN step (both relus and both 2x2 max-pools, forward + backward): old ${stepOld.toFixed(2)} ms, new ${stepNew.toFixed(2)} ms (${(stepOld / stepNew).toFixed(2)}x)`,
)
