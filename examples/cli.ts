/**
 * The examples' command line: their flags, read one way (`--epochs 3` or `--epochs=3`; a flag the
 * example does not know, or one without its value, stops it with the list of its flags, so a
 * misspelt `--epoch 1` is not silently ignored), and the timing lines the MNIST examples end with.
 */
import { basename } from 'node:path'

/**
 * A flag's default: a number (the value must parse as one), a string, undefined (a string flag with
 * no default), or a list of the values a flag may take (the first is its default).
 */
type Default = number | string | undefined | readonly [string, ...string[]]
type Values<F extends Readonly<Record<string, Default>>> = {
  readonly [K in keyof F]: F[K] extends number
    ? number
    : F[K] extends string
      ? string
      : F[K] extends readonly (infer C)[]
        ? C
        : string | undefined
}

/**
 * The flags of process.argv with their defaults filled in, and up to `positionals` other arguments.
 * @example const { values } = flags('[--epochs N] [--out DIR]', { epochs: 12, out: undefined })
 */
export const flags = <const F extends Readonly<Record<string, Default>>>(
  usage: string,
  defaults: F,
  positionals = 0,
): { readonly values: Values<F>; readonly positionals: readonly string[] } => {
  const script = basename(process.argv[1] ?? 'example')
  const refuse = (why: string): never => {
    console.error(`${script}: ${why}\nusage: npx tsx examples/${script} ${usage}`)
    process.exit(2)
  }
  const values: Record<string, Default> = {}
  for (const [name, d] of Object.entries(defaults)) values[name] = Array.isArray(d) ? d[0] : d
  const rest: string[] = []
  const argv = process.argv.slice(2)
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--')) {
      if (rest.length >= positionals) refuse(`unexpected argument '${a}'`)
      rest.push(a)
      continue
    }
    const eq = a.indexOf('=')
    const name = a.slice(2, eq < 0 ? undefined : eq)
    if (!Object.hasOwn(defaults, name)) refuse(`unknown flag --${name}`)
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i]
    if (value === undefined || value === '') refuse(`--${name} needs a value`)
    if (typeof defaults[name] === 'number') {
      const n = Number(value)
      if (!Number.isFinite(n)) refuse(`--${name} must be a number, got '${value}'`)
      values[name] = n
    } else {
      const choices = defaults[name]
      if (Array.isArray(choices) && !choices.includes(value)) refuse(`--${name} must be one of ${choices.join(', ')}, got '${value}'`)
      values[name] = value
    }
  }
  // the loop filled in a value of each flag's type for every key of F
  return { values: values as Values<F>, positionals: rest }
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
      `(${plural(epochs * samples, 'sample')} in ${trainSeconds.toFixed(1)}s of training; the progress bar shows each epoch's own)`,
  ].join('\n')

/** The process's peak resident memory so far (the data, the model, and the runtime), in MB. */
export const peakMemory = (): string =>
  `peak memory: ${Math.round(process.resourceUsage().maxRSS / 1024).toLocaleString('en-US')} MB (the process at its largest: data, model and runtime)`
