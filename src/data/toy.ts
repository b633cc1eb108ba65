/**
 * Seeded 2-D toy data sets for classifiers, each a Dataset with x [N, 2] and y class indices
 * [N]. The same key always gives the same points. Rows come grouped by class, in class order,
 * so shuffle (or use shuffleSplit) before taking a validation split.
 */
import { buffer, fromData } from '../tensor/tensor.ts'
import { normal, split, uniform, type Key } from '../key.ts'
import { make, type Dataset } from './dataset.ts'
import { DataError } from './error.ts'
import { checkOptions } from '../options.ts'

const checkCount = (v: number, where: string, what: string): number => {
  if (!Number.isSafeInteger(v) || v < 1) throw new DataError(`${where}: ${what} must be a positive integer, got ${v}`)
  return v
}

/** The most examples a toy set holds: its x, [n, 2], must fit in one tensor (2^32 − 1 values). */
const MAX_POINTS = 2 ** 31 - 1

/** Throws a DataError naming `where` unless n examples fit in a toy set (checked before anything is allocated). */
const checkTotal = (n: number, where: string): number => {
  if (n > MAX_POINTS) throw new DataError(`${where}: ${n} examples are more than a data set of 2-D points holds (${MAX_POINTS})`)
  return n
}

const checkNonNegative = (v: number, where: string, what: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new DataError(`${where}: ${what} must be a finite number >= 0, got ${v}`)
  return v
}

/** Builds the Dataset from per-row (x0, x1, label), rows in order. */
const build = (n: number, row: (i: number, out: Float64Array) => number): Dataset => {
  const x = buffer(2 * n)
  const y = buffer(n)
  const point = buffer(2)
  for (let i = 0; i < n; i++) {
    y[i] = row(i, point)
    x[2 * i] = point[0]!
    x[2 * i + 1] = point[1]!
  }
  return make(fromData([n, 2], x), fromData([n], y))
}

/** Sizes of `parts` groups that share n as evenly as possible (the first n mod parts get one more). */
const shares = (n: number, parts: number): number[] =>
  Array.from({ length: parts }, (_, c) => Math.floor(n / parts) + (c < n % parts ? 1 : 0))

/** Group index of row i when rows are grouped in blocks of the given sizes. */
const groupOf = (sizes: readonly number[]): Int32Array => {
  const out = new Int32Array(sizes.reduce((s, v) => s + v, 0))
  let at = 0
  sizes.forEach((s, g) => {
    out.fill(g, at, at + s)
    at += s
  })
  return out
}

/** Options for `xor`. */
export interface XorOptions {
  /** Standard deviation of the Gaussian noise around each cluster centre (default 0.2). */
  readonly noise?: number
}

/**
 * XOR: four Gaussian clusters at (±1, ±1), n points shared evenly among them; class 0 where the
 * coordinates have the same sign, (-1, -1) and (1, 1), class 1 where they differ. No line
 * separates the classes, so a model needs a hidden layer.
 *
 * @example const ds = xor(Key.fromSeed(0), 200, { noise: 0.1 })   // x [200, 2], y [200]
 */
export const xor = (key: Key, n: number, options: XorOptions = {}): Dataset => {
  checkOptions('xor', options, ['noise'], { unknown: DataError })
  checkTotal(checkCount(n, 'xor', 'n'), 'xor')
  const noise = checkNonNegative(options.noise ?? 0.2, 'xor', 'noise')
  const centres = [
    [-1, -1],
    [1, 1],
    [-1, 1],
    [1, -1],
  ] as const
  const cluster = groupOf(shares(n, 4))
  const eps = normal(key, [n, 2], 0, noise).data
  return build(n, (i, p) => {
    const c = cluster[i] as 0 | 1 | 2 | 3
    p[0] = centres[c][0] + eps[2 * i]!
    p[1] = centres[c][1] + eps[2 * i + 1]!
    return c < 2 ? 0 : 1
  })
}

/** Options for `circles`. */
export interface CirclesOptions {
  /** Standard deviation of the Gaussian noise added to each coordinate (default 0.05). */
  readonly noise?: number
  /** Radius of the inner circle relative to the outer one, in (0, 1) (default 0.5). */
  readonly factor?: number
}

/**
 * Two concentric circles (as scikit-learn's make_circles): class 0 on the unit circle (the
 * first ceil(n/2) rows), class 1 on a circle of radius `factor`, at uniformly random angles.
 *
 * @example const ds = circles(Key.fromSeed(0), 300, { noise: 0.1, factor: 0.4 })
 */
export const circles = (key: Key, n: number, options: CirclesOptions = {}): Dataset => {
  checkOptions('circles', options, ['noise', 'factor'], { unknown: DataError })
  checkTotal(checkCount(n, 'circles', 'n'), 'circles')
  const noise = checkNonNegative(options.noise ?? 0.05, 'circles', 'noise')
  const factor = options.factor ?? 0.5
  if (!(factor > 0 && factor < 1)) throw new DataError(`circles: factor must be in (0, 1), got ${factor}`)
  const [kAngle, kNoise] = split(key, 2) as [Key, Key]
  const angle = uniform(kAngle, [n], 0, 2 * Math.PI).data
  const eps = normal(kNoise, [n, 2], 0, noise).data
  const outer = Math.ceil(n / 2)
  return build(n, (i, p) => {
    const label = i < outer ? 0 : 1
    const r = label === 0 ? 1 : factor
    const t = angle[i]!
    p[0] = r * Math.cos(t) + eps[2 * i]!
    p[1] = r * Math.sin(t) + eps[2 * i + 1]!
    return label
  })
}

/** Options for `spirals`. */
export interface SpiralsOptions {
  /** Number of arms, one class each (default 3). */
  readonly classes?: number
  /** Points per arm (default 100). */
  readonly perClass?: number
  /** Standard deviation of the Gaussian noise on each point's angle, in radians (default 0.2). */
  readonly noise?: number
  /**
   * How many full turns each arm makes. Unset, the arms are cs231n's exactly: class j sweeps the
   * angles 4j to 4j + 4 radians. Set, each arm sweeps 2π × turns radians, and arm j starts at
   * 2πj / classes, so the arms are evenly spaced.
   */
  readonly turns?: number
}

/**
 * The cs231n spiral (https://cs231n.github.io/neural-networks-case-study/): `classes` arms, each
 * `perClass` points whose radius runs evenly from 0 to 1 while the angle sweeps along the arm,
 * with Gaussian noise on the angle. Not linearly separable; a small MLP learns it.
 *
 * @example const ds = spirals(Key.fromSeed(0), { classes: 3, perClass: 100 })   // x [300, 2]
 */
export const spirals = (key: Key, options: SpiralsOptions = {}): Dataset => {
  checkOptions('spirals', options, ['classes', 'perClass', 'noise', 'turns'], { unknown: DataError })
  const k = checkCount(options.classes ?? 3, 'spirals', 'classes')
  const m = checkCount(options.perClass ?? 100, 'spirals', 'perClass')
  checkTotal(k * m, 'spirals')
  const noise = checkNonNegative(options.noise ?? 0.2, 'spirals', 'noise')
  const turns = options.turns === undefined ? undefined : checkNonNegative(options.turns, 'spirals', 'turns')
  const span = turns === undefined ? 4 : 2 * Math.PI * turns
  const start = (j: number): number => (turns === undefined ? 4 * j : (2 * Math.PI * j) / k)
  const eps = normal(key, [k * m], 0, noise).data
  return build(k * m, (i, p) => {
    const j = Math.floor(i / m)
    const s = m === 1 ? 0 : (i - j * m) / (m - 1) // runs 0..1 along the arm
    const t = start(j) + span * s + eps[i]!
    p[0] = s * Math.sin(t)
    p[1] = s * Math.cos(t)
    return j
  })
}

/** Options for `blobs`. */
export interface BlobsOptions {
  /** The cluster centres as [x, y] points, or how many to draw uniformly from [-10, 10]². */
  readonly centers: number | readonly (readonly [number, number])[]
  /** Points per centre. */
  readonly perCenter: number
  /** Standard deviation of each isotropic Gaussian cluster (default 1). */
  readonly std?: number
}

/**
 * Isotropic Gaussian clusters (as scikit-learn's make_blobs), one class per centre: rows
 * perCenter × j .. perCenter × (j + 1) - 1 belong to centre j.
 *
 * @example const ds = blobs(Key.fromSeed(0), { centers: [[0, 0], [3, 3]], perCenter: 50, std: 0.5 })
 */
export const blobs = (key: Key, options: BlobsOptions): Dataset => {
  checkOptions('blobs', options, ['centers', 'perCenter', 'std'], { unknown: DataError })
  const m = checkCount(options.perCenter, 'blobs', 'perCenter')
  const std = checkNonNegative(options.std ?? 1, 'blobs', 'std')
  const [kCentres, kNoise] = split(key, 2) as [Key, Key]
  let centres: readonly (readonly [number, number])[]
  if (typeof options.centers === 'number') {
    const k = checkCount(options.centers, 'blobs', 'centers')
    const c = uniform(kCentres, [k, 2], -10, 10).data
    centres = Array.from({ length: k }, (_, j) => [c[2 * j]!, c[2 * j + 1]!] as const)
  } else {
    centres = options.centers
    if (centres.length < 1) throw new DataError('blobs: centers must list at least one point')
    centres.forEach((c, j) => {
      if (!Array.isArray(c) || c.length !== 2 || !c.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new DataError(`blobs: centers[${j}] must be a point [x, y] of finite numbers, got ${JSON.stringify(c)}`)
      }
    })
  }
  const n = checkTotal(centres.length * m, 'blobs')
  const eps = normal(kNoise, [n, 2], 0, std).data
  return build(n, (i, p) => {
    const j = Math.floor(i / m)
    const c = centres[j]!
    p[0] = c[0] + eps[2 * i]!
    p[1] = c[1] + eps[2 * i + 1]!
    return j
  })
}
