/**
 * The examples' command line: their flags, read one way (`--epochs 3` or `--epochs=3`), each number
 * flag declared once with its range. A flag the example does not know, one without its value, or a
 * value out of its range stops the example before any work with the usage line, so a misspelt
 * `--epoch 1` is not silently ignored and `--epochs 0` is refused by name. `--help` prints the
 * example's own description, its usage and each flag's range and default. Also the timing lines the
 * MNIST examples end with.
 */
import { readFileSync } from 'node:fs'
import { basename, isAbsolute, relative, resolve } from 'node:path'

/**
 * A number flag: its default and its range, all bounds inclusive but `above` (a learning rate is
 * `above: 0`); `oneOf` lists the only values it may take.
 */
export interface NumberFlag {
  readonly default: number
  readonly integer?: boolean
  readonly min?: number
  readonly above?: number
  readonly max?: number
  readonly oneOf?: readonly number[]
}

/**
 * A flag's declaration: a number flag with its range, a string (the default), undefined (a string
 * flag with no default), or a list of the values a string flag may take (the first is its default).
 */
export type Flag = NumberFlag | string | undefined | readonly [string, ...string[]]
type Values<F extends Readonly<Record<string, Flag>>> = {
  readonly [K in keyof F]: F[K] extends readonly (infer C)[]
    ? C
    : F[K] extends NumberFlag
      ? number
      : F[K] extends string
        ? string
        : string | undefined
}

/** What a command line asks for: the values, `--help`, or a refusal saying why. */
export type Parsed<F extends Readonly<Record<string, Flag>>> =
  | { readonly kind: 'values'; readonly values: Values<F>; readonly positionals: readonly string[] }
  | { readonly kind: 'help' }
  | { readonly kind: 'refused'; readonly why: string }

/** What a number flag may be, in words: `an integer >= 1`, `a number > 0`, `1 or 2`. */
export const rule = (f: NumberFlag): string => {
  if (f.oneOf !== undefined) return f.oneOf.length === 1 ? String(f.oneOf[0]) : `${f.oneOf.slice(0, -1).join(', ')} or ${f.oneOf.at(-1)}`
  const kind = f.integer === true ? 'an integer' : 'a number'
  if (f.min !== undefined && f.max !== undefined) return `${kind} from ${f.min} to ${f.max}`
  const bounds = [
    ...(f.min === undefined ? [] : [`>= ${f.min}`]),
    ...(f.above === undefined ? [] : [`> ${f.above}`]),
    ...(f.max === undefined ? [] : [`<= ${f.max}`]),
  ]
  return bounds.length === 0 ? kind : `${kind} ${bounds.join(' and ')}`
}

/** Whether n is a value of the flag: finite, and within its range. */
const within = (f: NumberFlag, n: number): boolean =>
  Number.isFinite(n) &&
  (f.oneOf === undefined || f.oneOf.includes(n)) &&
  (f.integer !== true || Number.isInteger(n)) &&
  (f.min === undefined || n >= f.min) &&
  (f.above === undefined || n > f.above) &&
  (f.max === undefined || n <= f.max)

const isChoices = (d: Flag): d is readonly [string, ...string[]] => Array.isArray(d)
const isNumberFlag = (d: Flag): d is NumberFlag => typeof d === 'object' && !isChoices(d)

/**
 * Reads argv (the arguments after the script) against the declared flags: pure, so it can be tested
 * without a process. A usage line that names a flag the declarations lack, or lacks one they declare,
 * is the example's own bug and throws.
 * @example parseFlags(['--epochs', '0'], '[--epochs N]', { epochs: { default: 12, integer: true, min: 1 } })
 * // { kind: 'refused', why: "--epochs must be an integer >= 1, got '0'" }
 */
export const parseFlags = <const F extends Readonly<Record<string, Flag>>>(
  argv: readonly string[],
  usage: string,
  declared: F,
  positionals = 0,
): Parsed<F> => {
  const named = new Set([...usage.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!))
  const names = Object.keys(declared)
  if (named.size !== names.length || !names.every((n) => named.has(n)))
    throw new Error(`the usage line '${usage}' names --${[...named].join(', --')}, but the flags declared are --${names.join(', --')}`)
  const values: Record<string, string | number | undefined> = {}
  for (const [name, d] of Object.entries(declared)) {
    if (isNumberFlag(d) && !within(d, d.default)) throw new Error(`--${name}'s default ${d.default} is not ${rule(d)}`)
    values[name] = isNumberFlag(d) ? d.default : isChoices(d) ? d[0] : d
  }
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' }
  const refused = (why: string): Parsed<F> => ({ kind: 'refused', why })
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--')) {
      if (rest.length >= positionals) return refused(`unexpected argument '${a}'`)
      rest.push(a)
      continue
    }
    const eq = a.indexOf('=')
    const name = a.slice(2, eq < 0 ? undefined : eq)
    if (!Object.hasOwn(declared, name)) return refused(`unknown flag --${name}`)
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i]
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) return refused(`--${name} needs a value`)
    const d = declared[name]!
    if (isNumberFlag(d)) {
      // Number(' ') is 0 and Number('0x10') is 16: only a plain decimal reads as a number here
      const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value) ? Number(value) : NaN
      if (!within(d, n)) return refused(`--${name} must be ${rule(d)}, got '${value}'`)
      values[name] = n
    } else {
      if (isChoices(d) && !d.includes(value)) return refused(`--${name} must be one of ${d.join(', ')}, got '${value}'`)
      values[name] = value
    }
  }
  // the loop filled in a value of each flag's type for every key of F
  return { kind: 'values', values: values as Values<F>, positionals: rest }
}

/** The example's header comment, without its `Run:` line (which the usage line repeats). */
const description = (file: string): string => {
  const header = /^\/\*\*\n([\s\S]*?)\n \*\//.exec(readFileSync(file, 'utf8'))?.[1] ?? ''
  return header
    .split('\n')
    .map((line) => line.replace(/^ \*( |$)/, ''))
    .filter((line) => !line.startsWith('Run: '))
    .join('\n')
    .trim()
}

/** A path as a person would type it from here: relative to the working directory when inside it, else absolute. */
export const shownPath = (path: string): string => {
  const rel = relative(process.cwd(), path)
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? resolve(path) : rel
}

/** Each flag's range or choices and its default, one line each, for `--help`. */
const flagLines = (declared: Readonly<Record<string, Flag>>): string[] =>
  Object.entries(declared).map(([name, d]) => {
    const what = isNumberFlag(d)
      ? `${rule(d)} (default ${d.default})`
      : isChoices(d)
        ? `${d.join(' or ')} (default ${d[0]})`
        : d === undefined
          ? '(default: as described above)'
          : `(default ${isAbsolute(d) ? shownPath(d) : d})`
    return `  --${name.padEnd(8)} ${what}`
  })

/**
 * The flags of process.argv with their defaults filled in, and up to `positionals` other arguments;
 * also `refuse`, which stops the example with a reason and the usage line (for a rule that joins
 * two flags). `--help` prints the description and each flag and exits.
 * @example const { values } = flags('[--epochs N] [--out DIR]', { epochs: { default: 12, integer: true, min: 1 }, out: undefined })
 */
export const flags = <const F extends Readonly<Record<string, Flag>>>(
  usage: string,
  declared: F,
  positionals = 0,
): { readonly values: Values<F>; readonly positionals: readonly string[]; readonly refuse: (why: string) => never } => {
  const file = process.argv[1] ?? 'example'
  const script = basename(file)
  const usageLine = `usage: npx tsx examples/${script}${usage === '' ? '' : ` ${usage}`}`
  const refuse = (why: string): never => {
    const help = `--help describes the example${Object.keys(declared).length === 0 ? '' : ' and each flag'}`
    console.error(`${script}: ${why}\n${usageLine}\n(${help})`)
    process.exit(2)
  }
  const parsed = parseFlags(process.argv.slice(2), usage, declared, positionals)
  if (parsed.kind === 'help') {
    const lines = flagLines(declared)
    console.log(`${description(file)}\n\n${usageLine}${lines.length === 0 ? '' : `\n${lines.join('\n')}`}`)
    process.exit(0)
  }
  if (parsed.kind === 'refused') return refuse(parsed.why)
  return { values: parsed.values, positionals: parsed.positionals, refuse }
}

const plural = (n: number, word: string): string => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`

/**
 * Two lines: the wall time of a fit (with its callbacks: drawing the plots after each epoch) beside
 * the time spent training, and the throughput over the training time of all epochs.
 */
export const timing = (epochs: number, samples: number, wallSeconds: number, trainSeconds: number): string =>
  [
    `wall time: ${wallSeconds.toFixed(1)}s for ${plural(epochs, 'epoch')} (training ${trainSeconds.toFixed(1)}s; the rest draws the plots after each epoch)`,
    `training throughput: ${Math.round((epochs * samples) / trainSeconds).toLocaleString('en-US')} samples/s ` +
      `(${plural(epochs * samples, 'sample')} in ${trainSeconds.toFixed(1)}s of training; each epoch's line shows its own)`,
  ].join('\n')

/** The process's peak resident memory so far (the data, the model, and the runtime), in MB. */
export const peakMemory = (): string =>
  `peak memory: ${Math.round(process.resourceUsage().maxRSS / 1024).toLocaleString('en-US')} MB (the process at its largest: data, model and runtime)`
