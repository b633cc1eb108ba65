/** The examples' flag parser (examples/cli.ts): each number flag's range, declared once, refuses a bad value by name. */
import { describe, expect, test } from 'vitest'
import { parseFlags, rule } from '../../examples/cli.ts'

// the flags of examples/07-mnist-cnn.ts, as it declares them
const usage = '[--epochs N] [--train N] [--lr X] [--threads 1|2] [--dtype float64|float32] [--out DIR]'
const declared = {
  epochs: { default: 8, integer: true, min: 1 },
  train: { default: 60000, integer: true, min: 64, max: 60000 },
  lr: { default: 0.05, above: 0 },
  threads: { default: 2, oneOf: [1, 2] },
  dtype: ['float64', 'float32'],
  out: undefined,
} as const
const parse = (...argv: string[]) => parseFlags(argv, usage, declared)

describe('number flags read within their declared ranges', () => {
  test('no flags: every default', () => {
    expect(parse()).toEqual({
      kind: 'values',
      values: { epochs: 8, train: 60000, lr: 0.05, threads: 2, dtype: 'float64', out: undefined },
      positionals: [],
    })
  })
  test('values in range, as `--flag value` and as `--flag=value`, in decimal and exponent notation', () => {
    const parsed = parse('--epochs', '1', '--train=640', '--lr', '1e-3', '--threads=1', '--dtype', 'float32', '--out', 'x')
    expect(parsed).toEqual({
      kind: 'values',
      values: { epochs: 1, train: 640, lr: 0.001, threads: 1, dtype: 'float32', out: 'x' },
      positionals: [],
    })
    expect(parse('--lr=.5', '--train', '64', '--epochs', '+3')).toMatchObject({ values: { lr: 0.5, train: 64, epochs: 3 } })
  })
  test.each([
    [['--epochs', '0'], "--epochs must be an integer >= 1, got '0'"],
    [['--epochs', '-1'], "--epochs must be an integer >= 1, got '-1'"],
    [['--epochs', '1.5'], "--epochs must be an integer >= 1, got '1.5'"],
    [['--epochs', ' '], "--epochs must be an integer >= 1, got ' '"], // Number(' ') would be 0
    [['--epochs', '0x10'], "--epochs must be an integer >= 1, got '0x10'"], // Number('0x10') would be 16
    [['--epochs', 'Infinity'], "--epochs must be an integer >= 1, got 'Infinity'"],
    [['--train', '10'], "--train must be an integer from 64 to 60000, got '10'"], // fewer examples than a batch
    [['--train', '1e9'], "--train must be an integer from 64 to 60000, got '1e9'"],
    [['--lr', '0'], "--lr must be a number > 0, got '0'"],
    [['--lr', 'NaN'], "--lr must be a number > 0, got 'NaN'"],
    [['--lr=-0.1'], "--lr must be a number > 0, got '-0.1'"],
    [['--threads', '3'], "--threads must be 1 or 2, got '3'"],
    [['--dtype', 'f32'], "--dtype must be one of float64, float32, got 'f32'"],
    [['--epochs', '--train', '640'], '--epochs needs a value'],
    [['--epochs='], '--epochs needs a value'],
    [['--out'], '--out needs a value'],
    [['--epoch', '1'], 'unknown flag --epoch'],
    [['x'], "unexpected argument 'x'"],
  ])('%j is refused: %s', (argv, why) => {
    expect(parse(...argv)).toEqual({ kind: 'refused', why })
  })
  test('--help (or -h) anywhere asks for the help, even beside a bad value', () => {
    expect(parse('--epochs', '0', '--help')).toEqual({ kind: 'help' })
    expect(parse('-h')).toEqual({ kind: 'help' })
  })
  test('positionals up to the number the example takes', () => {
    const flags = { count: { default: 6, integer: true, min: 1 } }
    expect(parseFlags(['m.json', '--count', '2'], '[path] [--count N]', flags, 1)).toEqual({
      kind: 'values',
      values: { count: 2 },
      positionals: ['m.json'],
    })
    expect(parseFlags(['a', 'b'], '[path] [--count N]', flags, 1)).toEqual({ kind: 'refused', why: "unexpected argument 'b'" })
  })
})

describe("an example's own mistakes throw: the usage line and the declarations agree, and each default is in its range", () => {
  test('a flag declared but missing from the usage line, or named there but not declared', () => {
    expect(() => parseFlags([], '[--epochs N]', { epochs: { default: 1, min: 1 }, out: undefined })).toThrow(
      "the usage line '[--epochs N]' names --epochs, but the flags declared are --epochs, --out",
    )
    expect(() => parseFlags([], '[--epochs N] [--lr X]', { epochs: { default: 1, min: 1 } })).toThrow('names --epochs, --lr')
  })
  test('a default outside its own range', () => {
    expect(() => parseFlags([], '[--epochs N]', { epochs: { default: 0, integer: true, min: 1 } })).toThrow(
      "--epochs's default 0 is not an integer >= 1",
    )
  })
})

test('a range in words, as the refusals and --help say it', () => {
  expect(rule({ default: 1 })).toBe('a number')
  expect(rule({ default: 1, integer: true, min: 1 })).toBe('an integer >= 1')
  expect(rule({ default: 1, above: 0, max: 10 })).toBe('a number > 0 and <= 10')
  expect(rule({ default: 64, integer: true, min: 64, max: 60000 })).toBe('an integer from 64 to 60000')
  expect(rule({ default: 2, oneOf: [1, 2, 4] })).toBe('1, 2 or 4')
})
