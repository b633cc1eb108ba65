/**
 * Fuzzing the decoders: random JSON, random spec-like values, mutated valid checkpoints, and
 * random or truncated bytes thrown at IO.decodeCheckpoint / parseCheckpoint, IO.fromSpec and
 * Data.decodeIdx. Each property says: the decoder returns (never throws, and no exception is
 * swallowed by its last-resort catch), and a Right only ever comes from valid input (a rebuilt
 * spec equals its input; a loaded checkpoint saves again and loads back identical).
 *
 *   npx tsx bench/fuzz-decoders.ts                      # 5,000 cases per property
 *   npx tsx bench/fuzz-decoders.ts --runs=20000 --seed=7
 *
 * test/io/fuzz.test.ts runs the same properties with a few hundred cases each.
 *
 * Hostile sizes: every field that claims a size (a checkpoint's inShape, a spec's units, filters,
 * kernelSize, stride, dilation, padding, a stored tensor's shape, an IDX header's dims, and a spec
 * given to IO.summarize) set to 2^24..2^53, negative or fractional in an otherwise small, valid
 * input. Each must be answered within 100 ms and 50 MB of memory over what was in use before,
 * and a refusal must name the field. The main run prints the worst time and memory seen.
 */
import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { pathToFileURL } from 'node:url'
import { Data, Key, L, Optim, T, Train, Tree } from '../src/index.ts'
import * as IO from '../src/io/index.ts'
import { RandomNetwork } from '../laws/index.ts'

/** A named property: `run` checks it on `numRuns` cases from `seed` and throws on the first failure. */
export interface FuzzProperty {
  readonly name: string
  readonly run: (numRuns: number, seed: number) => void
}

/** Decoding failures that mean an exception escaped a check (a bug), not a reported problem. */
const LAST_RESORT = ['cannot decode the checkpoint:', 'building the network failed:']

const checkLeft = (e: IO.IoError): void => {
  if (!(e instanceof IO.IoError)) throw new Error(`a Left that is not an IoError: ${String(e)}`)
  if (e.message.length === 0) throw new Error('an IoError without a message')
  for (const s of LAST_RESORT) if (e.detail.startsWith(s)) throw new Error(`an exception escaped the checks: ${e.message}`)
}

// A small network with every kind of tree in its checkpoint: params, batch-norm state, a momentum trace.
const model = L.pipe(L.dense(3), L.batchNorm(), L.relu, L.dense(2, { bias: false }))
const optimizer = Optim.sgd({ lr: 0.1, momentum: 0.9 })
const ts0 = Train.initState(model, optimizer, Key.fromSeed(0), [2])
const trained = Train.trainStep(
  model,
  (pred) => ({ value: 0, grad: T.full(pred.shape, 0.1) }),
  optimizer,
)(ts0, {
  x: T.tensor([
    [1, 2],
    [3, -1],
  ]),
  y: T.zeros([2]),
})[0]
/** A valid training checkpoint's text. */
export const validText = IO.encodeCheckpoint(
  IO.trainingCheckpoint({ model, inShape: [2], state: trained, runKey: Key.fromSeed(9), metadata: { note: 'fuzz' } }),
)

// The same for a float32 model (its tensors 4 bytes a value) trained a step with Adam: float32 moments beside float64 counts.
const model32 = L.pipe(L.dense(3), L.relu, L.dense(2, { bias: false }))
const optimizer32 = Optim.adam({ lr: 0.01 })
const ts32 = Train.initState(model32, optimizer32, Key.fromSeed(0), [2], { dtype: 'float32' })
const trained32 = Train.trainStep(
  model32,
  (pred) => ({ value: 0, grad: T.asTensor(T.cast(T.full(pred.shape, 0.1), 'float32')) }),
  optimizer32,
)(ts32, {
  x: T.tensor([
    [1, 2],
    [3, -1],
  ]),
  y: T.zeros([2]),
})[0]
/** A valid float32 training checkpoint's text. */
export const validText32 = IO.encodeCheckpoint(
  IO.trainingCheckpoint({ model: model32, inShape: [2], state: trained32, runKey: Key.fromSeed(9), metadata: { note: 'fuzz' } }),
)

/** A Right must be a checkpoint that saves again and loads back to the same text. */
const checkRight = (ck: IO.Checkpoint): void => {
  const text = IO.encodeCheckpoint(ck) // throws if anything in it is invalid
  const again = IO.parseCheckpoint(text)
  if (E.isLeft(again)) throw new Error(`a loaded checkpoint does not load back: ${again.left.message}`)
  if (IO.encodeCheckpoint(again.right) !== text) throw new Error('a loaded checkpoint does not round-trip')
}

const decodeChecked = (u: unknown): E.Either<IO.IoError, IO.Checkpoint> => {
  const r = IO.decodeCheckpoint(u)
  if (E.isLeft(r)) checkLeft(r.left)
  else checkRight(r.right)
  return r
}

const parseChecked = (text: string | Uint8Array): E.Either<IO.IoError, IO.Checkpoint> => {
  const r = IO.parseCheckpoint(text)
  if (E.isLeft(r)) checkLeft(r.left)
  else checkRight(r.right)
  return r
}

// ---- mutations of a valid checkpoint document ----------------------------------------------

type Path = readonly (string | number)[]

const pathsOf = (v: unknown, here: Path = [], out: Path[] = []): Path[] => {
  out.push(here)
  if (Array.isArray(v)) v.forEach((c, i) => pathsOf(c, [...here, i], out))
  else if (typeof v === 'object' && v !== null) for (const [k, c] of Object.entries(v)) pathsOf(c, [...here, k], out)
  return out
}

const get = (v: unknown, p: Path): unknown => p.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], v)

/** A mutation: what to do at the n-th path of the document (n taken modulo the number of paths). */
export type Mutation =
  | { readonly op: 'delete'; readonly at: number }
  | { readonly op: 'replace'; readonly at: number; readonly value: unknown }
  | { readonly op: 'char'; readonly at: number; readonly pos: number; readonly ch: string }
  | { readonly op: 'cut'; readonly at: number; readonly pos: number }
  | { readonly op: 'number'; readonly at: number; readonly value: number }

/** Applies a mutation in place to a JSON value (not its root); returns the path it touched and the old value there. */
export const applyMutation = (doc: unknown, m: Mutation): { readonly path: Path; readonly old: unknown } => {
  const paths = pathsOf(doc).slice(1) // never the root itself
  if (paths.length === 0) return { path: [], old: doc }
  const p = paths[m.at % paths.length]!
  const parent = get(doc, p.slice(0, -1)) as Record<string | number, unknown>
  const key = p[p.length - 1]!
  const old = parent[key]
  switch (m.op) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1)
      else delete parent[key]
      break
    case 'replace':
      parent[key] = m.value
      break
    case 'char':
      if (typeof old === 'string' && old.length > 0) {
        const i = m.pos % old.length
        parent[key] = old.slice(0, i) + m.ch + old.slice(i + 1)
      }
      break
    case 'cut':
      if (typeof old === 'string' && old.length > 0) parent[key] = old.slice(0, m.pos % old.length)
      break
    case 'number':
      if (typeof old === 'number') parent[key] = m.value
      break
  }
  return { path: p, old }
}

/**
 * Applies a mutation to a fresh copy of the valid checkpoint document; says whether the result
 * must be rejected by the decoder (mustFail) or, if it decodes, by trainState (mustNotResume).
 * Mutations that may leave a valid checkpoint (a metadata edit, a base64 character swapped for
 * another valid one) are allowed either way: then the Right must itself be valid.
 */
export const mutate = (
  m: Mutation,
  text = validText,
): { readonly doc: unknown; readonly mustFail: boolean; readonly mustNotResume: boolean } => {
  const doc: unknown = JSON.parse(text)
  const { path: p, old } = applyMutation(doc, m)
  const key = p[p.length - 1]
  const inMetadata = p[0] === 'metadata' || (p[0] === 'training' && p[1] === 'optimizer')
  const inOptState = p[0] === 'training' && p[1] === 'optState'
  const changed = (cond: boolean): { readonly doc: unknown; readonly mustFail: boolean; readonly mustNotResume: boolean } => ({
    doc,
    mustFail: cond,
    mustNotResume: false,
  })
  switch (m.op) {
    case 'delete': {
      // Deleting anything outside free-form metadata breaks a structure or a required field, except
      // the optional parts (the training part, its runKey and optimizer description). The optimizer
      // state's structure is checked against the optimizer when resuming.
      const optional =
        (p.length === 1 && key === 'training') || (p[0] === 'training' && p.length === 2 && (key === 'runKey' || key === 'optimizer'))
      return { doc, mustFail: !inMetadata && !optional && !inOptState, mustNotResume: inOptState }
    }
    case 'replace':
      return changed(false)
    case 'char':
      // A base64 character swapped for one outside the alphabet is always caught.
      return changed(typeof old === 'string' && old.length > 0 && key === 'data' && !/[A-Za-z0-9+/=]/.test(m.ch))
    case 'cut':
      // Cutting a tensor's base64 short always leaves too few bytes (or a bad length).
      return changed(typeof old === 'string' && old.length > 0 && key === 'data')
    case 'number':
      return changed(typeof old === 'number' && (!Number.isFinite(m.value) || (p[0] === 'version' && m.value !== 1)))
  }
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({
    op: fc.constant('char' as const),
    at: fc.nat(),
    pos: fc.nat(),
    ch: fc.oneof(fc.constantFrom('A', '/', '=', '!', ' ', '\u00e9', '-', '_'), fc.string({ minLength: 1, maxLength: 1 })),
  }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat(), pos: fc.nat() }),
  fc.record({
    op: fc.constant('number' as const),
    at: fc.nat(),
    value: fc.oneof(fc.double(), fc.integer({ min: -3, max: 3 }), fc.constantFrom(NaN, Infinity, 1e300)),
  }),
)

// ---- spec-like values ------------------------------------------------------------------------

const kinds = [...Object.keys(IO.builtins), 'swish', '', 'Dense', 'toString', '__proto__']
const fields = [
  'units',
  'init',
  'bias',
  'alpha',
  'merge',
  'children',
  'body',
  'filters',
  'kernelSize',
  'stride',
  'padding',
  'dilation',
  'size',
  'shape',
  'dropProb',
  'momentum',
  'eps',
  'extra',
]

/** Values shaped like specs: a kind (mostly a real one) and fields (mostly real names) with plausible or random values. */
export const specLike: fc.Arbitrary<unknown> = fc.letrec<{ spec: unknown; value: unknown }>((tie) => ({
  spec: fc
    .tuple(fc.constantFrom(...kinds), fc.array(fc.tuple(fc.constantFrom(...fields), tie('value')), { maxLength: 5 }))
    .map(([kind, fs]) => {
      const o: Record<string, unknown> = { kind }
      for (const [k, v] of fs) o[k] = v
      return o
    }),
  value: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'spec' },
    fc.constantFrom('he', 'glorot', 'lecun', 'zeros', 'sum', 'concat', 'valid', 'same', true, false, null),
    fc.integer({ min: -2, max: 6 }),
    fc.constantFrom(0.5, 0.99, 1, 1e-5, -0.1),
    fc.constantFrom([1, 1], [2, 2], [3, 1], [0, 1], [1, -1], [2]),
    fc.jsonValue({ maxDepth: 1 }),
    tie('spec'),
    fc.array(tie('spec'), { maxLength: 3 }),
  ),
})).spec

const specChecked = (u: unknown): void => {
  const r = IO.fromSpec(u)
  if (E.isLeft(r)) return checkLeft(r.left)
  const d = IO.jsonDiff(r.right.spec, u, 'spec')
  if (d !== undefined) throw new Error(`fromSpec built a network whose spec differs from its input at ${d.path}`)
  for (const shape of [[2], [1, 5, 5]]) {
    let init: L.Init<Tree.Tree, Tree.Tree>
    try {
      init = r.right.init(Key.fromSeed(0), shape) // may reject the shape with a ShapeError, and nothing else
    } catch (e) {
      if (e instanceof L.ShapeError) continue
      throw e
    }
    r.right.forward(init.params, init.state, T.zeros([1, ...shape]), { mode: 'train', key: Key.fromSeed(0) })
  }
}

// ---- the properties ------------------------------------------------------------------------

const property = <A>(name: string, arb: fc.Arbitrary<A>, check: (a: A) => void): FuzzProperty => ({
  name,
  run: (numRuns, seed) =>
    fc.assert(
      fc.property(arb, (a) => void check(a)),
      { numRuns, seed },
    ),
})

const MUTATED = 'a Left, or a Right that is itself valid; breaking mutations → a Left'

/** Every fuzz property. */
export const properties: readonly FuzzProperty[] = [
  property('random JSON → decodeCheckpoint: a Left, never a throw', fc.jsonValue({ maxDepth: 4 }), (u) => {
    if (E.isRight(decodeChecked(u))) throw new Error('random JSON decoded as a checkpoint')
  }),
  property(
    'random fields under a valid header → decodeCheckpoint: a Left',
    fc.dictionary(fc.constantFrom('metadata', 'inShape', 'spec', 'params', 'state', 'training', 'other'), fc.jsonValue({ maxDepth: 3 })),
    (fields) => {
      if (E.isRight(decodeChecked({ format: 'chainrule-checkpoint', version: 1, ...fields })))
        throw new Error('random fields decoded as a checkpoint')
    },
  ),
  property(
    'random text and bytes → parseCheckpoint: a Left',
    fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 })),
    (s) => {
      if (E.isRight(parseChecked(s))) throw new Error('random input parsed as a checkpoint')
    },
  ),
  property('a truncated checkpoint (text or bytes) → a Left', fc.tuple(fc.nat(), fc.boolean()), ([n, asBytes]) => {
    const full = validText.trimEnd()
    const cut = full.slice(0, n % full.length)
    if (E.isRight(parseChecked(asBytes ? new TextEncoder().encode(cut) : cut)))
      throw new Error(`a checkpoint cut at ${cut.length} of ${full.length} characters loaded`)
  }),
  ...(
    [
      ['', validText, optimizer],
      [' (float32)', validText32, optimizer32],
    ] as const
  ).map(([dtype, text, opt]) =>
    property(`a mutated valid checkpoint${dtype} → ${MUTATED}`, mutation, (m) => {
      const { doc, mustFail, mustNotResume } = mutate(m, text)
      const r = decodeChecked(doc)
      if (mustFail && E.isRight(r)) throw new Error(`an invalid mutation was accepted: ${JSON.stringify(m)}`)
      if (E.isRight(r) && r.right.training !== undefined) {
        // Resuming checks the optimizer state against the optimizer: a structural change must not pass.
        const resumed = IO.trainState(r.right, opt)
        if (E.isLeft(resumed)) checkLeft(resumed.left)
        else if (mustNotResume === true) throw new Error(`a broken optimizer state was accepted for resuming: ${JSON.stringify(m)}`)
      }
    }),
  ),
  property('random spec-like values → fromSpec: a Left, or a network whose spec is exactly the input', specLike, specChecked),
  property('random JSON → fromSpec: never a throw', fc.jsonValue({ maxDepth: 4 }), specChecked),
  property(
    'a mutated valid spec (of a random network) → fromSpec: a Left, or a network whose spec is exactly the input',
    fc.tuple(RandomNetwork.randomNetwork(3), mutation),
    ([net, m]) => {
      const spec: unknown = JSON.parse(JSON.stringify(net.layer.spec))
      applyMutation(spec, m)
      specChecked(spec)
    },
  ),
  property('random bytes → decodeIdx: never a throw', fc.uint8Array({ maxLength: 64 }), (b) => {
    const r = Data.decodeIdx(b)
    if (E.isLeft(r) && !(r.left instanceof Data.IdxError)) throw new Error('a Left that is not an IdxError')
  }),
]

// ---- hostile sizes --------------------------------------------------------------------------

/** The values a size-claiming field is set to: huge (2^24..2^53), negative, fractional. */
export const hostileValues: readonly number[] = [
  2 ** 24,
  2 ** 25,
  2 ** 26,
  2 ** 28,
  2 ** 31,
  2 ** 32 + 1,
  2 ** 40,
  2 ** 53,
  -1,
  -(2 ** 31),
  0.5,
  2 ** 24 + 0.5,
]

/**
 * One hostile input: `run` decodes it and returns a refusal's message, or undefined when the input
 * is accepted (a summary of a valid spec claiming big sizes); `names` is what the message must mention.
 */
export interface HostileCase {
  readonly name: string
  readonly names: RegExp
  readonly run: () => string | undefined
}

const convModel = L.pipe(L.conv2d(2, 3, { padding: 1 }), L.relu, L.maxPool2d(2), L.flatten, L.dense(2))
const convText = IO.encodeCheckpoint(
  IO.modelCheckpoint(convModel, [1, 6, 6], ...((i) => [i.params, i.state] as const)(convModel.init(Key.fromSeed(0), [1, 6, 6]))),
)

const refusal = (r: E.Either<{ readonly message: string }, unknown>): string | undefined => (E.isLeft(r) ? r.left.message : undefined)

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the cases poke at the JSON freely
type Doc = Record<string, any>

/** A valid checkpoint text with `edit` applied to its document, parsed. */
const editedCheckpoint = (text: string, edit: (d: Doc) => void) => (): string | undefined => {
  const doc = JSON.parse(text) as Doc
  edit(doc)
  return refusal(IO.parseCheckpoint(JSON.stringify(doc)))
}

const idxBytes = (dims: readonly number[]): Uint8Array => {
  const b = new Uint8Array(4 + 4 * dims.length + 16)
  b[2] = 0x08
  b[3] = dims.length
  const view = new DataView(b.buffer)
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d >>> 0))
  return b
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A message naming `field`: as a checked field (`field: expected ...`) or with the claimed value (`field 4096`, `field=[4096,4096]`). */
const naming = (field: string, value: string): RegExp => new RegExp(`${field}(\\[\\d+\\])?(: expected|\\W{1,3}${escapeRegExp(value)})`)

/** Every hostile case: each size-claiming field of each decoder, at each hostile value. */
export const hostileCases = (): readonly HostileCase[] =>
  hostileValues.flatMap((v): HostileCase[] => [
    { name: `checkpoint inShape [${v}]`, names: /inShape/, run: editedCheckpoint(validText, (d) => (d.inShape = [v])) },
    {
      name: `checkpoint units ${v}`,
      names: naming('units', `${v}`),
      run: editedCheckpoint(validText, (d) => (d.spec.children[0].units = v)),
    },
    {
      name: `checkpoint tensor shape [${v}, 3]`,
      names: naming('shape', `[${v}, 3]`),
      run: editedCheckpoint(validText, (d) => (d.params[0].W.shape = [v, 3])),
    },
    // A float32 tensor's claim is counted at 4 bytes a value; relabelled float64, at 8.
    {
      name: `float32 checkpoint tensor shape [${v}, 3]`,
      names: naming('shape', `[${v}, 3]`),
      run: editedCheckpoint(validText32, (d) => (d.params[0].W.shape = [v, 3])),
    },
    {
      name: `float32 checkpoint tensor shape [${v}, 3] as float64`,
      names: naming('shape', `[${v}, 3]`),
      run: editedCheckpoint(validText32, (d) => ((d.params[0].W.shape = [v, 3]), (d.params[0].W.dtype = 'float64'))),
    },
    { name: `float32 checkpoint inShape [${v}]`, names: /inShape/, run: editedCheckpoint(validText32, (d) => (d.inShape = [v])) },
    { name: `conv checkpoint inShape [1, ${v}, ${v}]`, names: /inShape/, run: editedCheckpoint(convText, (d) => (d.inShape = [1, v, v])) },
    {
      name: `conv checkpoint filters ${v}`,
      names: naming('filters', `${v}`),
      run: editedCheckpoint(convText, (d) => (d.spec.children[0].filters = v)),
    },
    {
      name: `conv checkpoint kernelSize [${v}, ${v}]`,
      names: naming('kernelSize', `[${v},${v}]`),
      run: editedCheckpoint(convText, (d) => (d.spec.children[0].kernelSize = [v, v])),
    },
    {
      name: `conv checkpoint padding [${v}, ${v}]`,
      names: naming('padding', `[${v},${v}]`),
      run: editedCheckpoint(convText, (d) => (d.spec.children[0].padding = [v, v])),
    },
    {
      name: `conv checkpoint stride [${v}, 1]`,
      names: naming('stride', `[${v},1]`),
      run: editedCheckpoint(convText, (d) => (d.spec.children[0].stride = [v, 1])),
    },
    {
      name: `conv checkpoint dilation [1, ${v}]`,
      names: naming('dilation', `[1,${v}]`),
      run: editedCheckpoint(convText, (d) => (d.spec.children[0].dilation = [1, v])),
    },
    {
      name: `conv checkpoint pool size ${v}`,
      names: naming('size', `[${v},${v}]`),
      run: editedCheckpoint(convText, (d) => (d.spec.children[2].size = [v, v])),
    },
    {
      name: `summary of dense(${v}) on [${v}]`,
      names: /units|inShape/,
      run: () =>
        refusal(
          IO.summarize({ kind: 'pipe', children: [{ kind: 'dense', units: v, init: 'he', bias: true }] }, [Math.abs(Math.round(v)) || 1]),
        ),
    },
    // IDX dims are uint32: a negative or fractional value arrives as its uint32 bit pattern.
    {
      name: `IDX dims [${v >>> 0}, 28, 28]`,
      names: naming('dims', `[${v >>> 0}, 28, 28]`),
      run: () => refusal(Data.decodeIdx(idxBytes([v >>> 0, 28, 28]))),
    },
  ])

/** What running one case cost: its time, and how much the resident set's peak and the live heap grew. */
export interface HostileCost {
  readonly ms: number
  readonly peakMB: number
  readonly heapMB: number
  readonly message: string | undefined
}

/** Runs a hostile case and measures it. */
export const measure = (c: HostileCase): HostileCost => {
  const peak0 = process.resourceUsage().maxRSS
  const mem0 = process.memoryUsage()
  const t0 = performance.now()
  const message = c.run()
  const ms = performance.now() - t0
  const mem1 = process.memoryUsage()
  const peakMB = (process.resourceUsage().maxRSS - peak0) / 1024
  const heapMB = (mem1.heapUsed + mem1.arrayBuffers - mem0.heapUsed - mem0.arrayBuffers) / 2 ** 20
  return { ms, peakMB, heapMB, message }
}

/** Checks a measured case against the limits: a refusal naming the field (or an acceptance where allowed), in time and memory. */
export const checkHostile = (c: HostileCase, cost: HostileCost, limits = { ms: 100, mb: 50 }): void => {
  if (cost.ms > limits.ms) throw new Error(`${c.name}: took ${cost.ms.toFixed(0)} ms (limit ${limits.ms} ms)`)
  if (cost.peakMB > limits.mb || cost.heapMB > limits.mb)
    throw new Error(`${c.name}: used ${Math.max(cost.peakMB, cost.heapMB).toFixed(0)} MB more (limit ${limits.mb} MB)`)
  if (cost.message === undefined) {
    if (!c.name.startsWith('summary')) throw new Error(`${c.name}: accepted`)
  } else if (!c.names.test(cost.message)) throw new Error(`${c.name}: the message does not name the field (${c.names}): ${cost.message}`)
}

const main = (): void => {
  const arg = (name: string, fallback: number): number => {
    const a = process.argv.find((s) => s.startsWith(`--${name}=`))
    return a === undefined ? fallback : Number(a.slice(name.length + 3))
  }
  const runs = arg('runs', 5000)
  const seed = arg('seed', 42)
  console.log(`fuzzing the decoders: ${runs.toLocaleString('en-US')} cases per property, seed ${seed}`)
  let failed = 0
  for (const p of properties) {
    const started = performance.now()
    try {
      p.run(runs, seed)
      console.log(`  ok    ${p.name}  (${((performance.now() - started) / 1000).toFixed(1)}s)`)
    } catch (e) {
      failed++
      console.log(`  FAIL  ${p.name}\n${e instanceof Error ? e.message : String(e)}`)
    }
  }
  let worst = { ms: 0, mb: 0 }
  const cases = hostileCases()
  for (const c of cases) {
    const cost = measure(c)
    worst = { ms: Math.max(worst.ms, cost.ms), mb: Math.max(worst.mb, cost.peakMB, cost.heapMB) }
    try {
      checkHostile(c, cost)
    } catch (e) {
      failed++
      console.log(`  FAIL  ${e instanceof Error ? e.message : String(e)}`)
    }
  }
  console.log(`  hostile sizes: ${cases.length} cases, worst ${worst.ms.toFixed(1)} ms and ${worst.mb.toFixed(1)} MB over baseline`)
  console.log(
    failed === 0
      ? `all ${properties.length} properties hold on ${(runs * properties.length).toLocaleString('en-US')} cases`
      : `${failed} properties failed`,
  )
  if (failed > 0) process.exitCode = 1
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main()
