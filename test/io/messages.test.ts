import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, test } from 'vitest'
import { defaultSeed } from '../../laws/index.ts'
import { Key, L, T } from '../../src/index.ts'
import * as IO from '../../src/io/index.ts'
import { jsonSyntaxError, lineAndColumn } from '../../src/io/json-syntax.ts'
import { layerPath } from '../../src/io/layer-path.ts'
import { loadCheckpoint, saveModel } from '../../src/node/index.ts'
import { thrown } from '../support/thrown.ts'

// The messages a new user meets when a checkpoint will not load: each names the bad value, where
// the text goes wrong, or the stored tensor that disagrees with the spec.

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const left = <A>(r: E.Either<IO.IoError, A>): IO.IoError => {
  if (E.isRight(r)) throw new Error('expected a Left, got a Right')
  return r.left
}

const model = L.pipe(L.dense(4), L.tanh, L.dense(2))
const init = L.initialize(model, Key.fromSeed(0), [3])
const text = IO.encodeCheckpoint(IO.modelCheckpoint(model, [3], init.params, init.state, { note: 'é "quoted"', n: -1.5e-3, ok: true }))
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test pokes at the JSON freely
const doc = (): Record<string, any> => JSON.parse(text)

describe('a bad inShape shows the value and the bad entry', () => {
  test.each([
    [[-2], 'got [-2]: inShape[0] is -2'],
    [[1, 0, 28], 'got [1, 0, 28]: inShape[1] is 0'],
    [[3, 1.5], 'got [3, 1.5]: inShape[1] is 1.5'],
    [[3, '4'], 'got [3, "4"]: inShape[1] is "4"'],
    [new Array(33).fill(1), 'got an array of 33, more than 32 axes'],
    ['3', 'got "3"'],
  ])('inShape %j', (inShape, detail) => {
    const e = left(IO.decodeCheckpoint({ ...doc(), inShape }))
    expect([e.kind, e.path]).toEqual(['invalid', 'inShape'])
    expect(e.message).toBe(`inShape: expected a shape (an array of at most 32 positive integers), ${detail}`)
  })
  test('modelCheckpoint given params where inShape goes (inShape left out) says so at once, not at encode', () => {
    const loose = IO.modelCheckpoint as unknown as (...args: unknown[]) => unknown
    expect(() => loose(model, init.params, init.state)).toThrow(
      new TypeError(
        "modelCheckpoint(model, inShape, params, state, metadata?): inShape, the second argument, must be one example's shape " +
          'such as [784], got an array of 3 (params? was inShape left out?)',
      ),
    )
    expect(() => loose(model, '3', init.params, init.state)).toThrow(
      /inShape, the second argument, must be one example's shape such as \[784\], got string 3$/,
    )
  })
  test('encoding names the bad entry too', () => {
    expect(() => IO.encodeCheckpoint(IO.modelCheckpoint(model, [3, -1], init.params, init.state))).toThrow(
      'inShape: expected a shape (an array of at most 32 positive integers), got [3, -1]: inShape[1] is -1',
    )
  })
})

describe('text that is not JSON: cut off, or where it goes wrong', () => {
  test('every prefix of a checkpoint is reported as cut off after its length, in characters', () => {
    for (let n = 1; n < text.length; n += 7) {
      const e = left(IO.parseCheckpoint(text.slice(0, n)))
      expect(e.kind).toBe('not-json')
      const head = `the text ends after ${n.toLocaleString('en-US')} characters, in the middle of the JSON (expecting `
      expect(e.message.startsWith(head)).toBe(true)
      expect(e.message).toMatch(/: it looks cut off \(an interrupted write or copy\?\)$/)
    }
  })
  test('an error inside the text gives its line, column and character, and what was expected there', () => {
    const lines = text.split('\n')
    const k = lines.findIndex((l) => l.includes('"inShape"'))
    lines[k] = lines[k]!.replace('"inShape":', '"inShape" x') // line k + 1, the x where ':' belongs
    const bad = lines.join('\n')
    const column = lines[k]!.indexOf(' x') + 2
    const at = bad.indexOf(' x') + 1
    const e = left(IO.parseCheckpoint(bad))
    expect(e.message).toBe(`the text is not valid JSON at line ${k + 1}, column ${column} (character ${at}): expected ':', got "x"`)
    expect(e.cause).toBeInstanceOf(SyntaxError) // the parser's own error is kept
  })
  test('text that is not JSON at all, empty text, and bytes of other formats say what they are', () => {
    expect(left(IO.parseCheckpoint('epoch,loss\n1,0.5\n')).message).toBe(
      `the text is not JSON: it starts with "epoch,loss\\n1,0.5" (a checkpoint is a JSON object, starting with '{')`,
    )
    expect(left(IO.parseCheckpoint('')).message).toBe('the text is empty, so not a JSON checkpoint')
    expect(left(IO.parseCheckpoint(' \n')).message).toBe('the text is empty (only whitespace), so not a JSON checkpoint')
    expect(left(IO.parseCheckpoint(gzipSync(text))).message).toMatch(/^the bytes are gzip-compressed: decompress it first/)
    const utf16 = new Uint8Array([0xff, 0xfe, ...[...'{}'].flatMap((c) => [c.charCodeAt(0), 0])])
    expect(left(IO.parseCheckpoint(utf16)).message).toMatch(/^the bytes are UTF-16 text .*save it as UTF-8$/)
    expect(left(IO.parseCheckpoint(new Uint8Array([0x7b, 0xff, 0x7d]))).message).toBe(
      'the bytes are not valid UTF-8 text, so not a JSON checkpoint',
    )
  })
  test('the scanner finds an error exactly when JSON.parse does, at the position V8 reports when it reports one', () => {
    const mutation = fc.record({
      at: fc.nat(),
      op: fc.constantFrom('delete', 'replace', 'insert'),
      char: fc.constantFrom(...'{}[]",:0123456789-+.eEtrufalsn \n\\ux'),
    })
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.nat(text.length), (ms, cut) => {
        const chars = [...text.slice(0, 300 + cut)]
        for (const m of ms) {
          const i = m.at % (chars.length + 1)
          if (m.op === 'delete') chars.splice(i, 1)
          else chars.splice(i, m.op === 'replace' ? 1 : 0, m.char)
        }
        const s = chars.join('')
        let parserError: string | undefined
        try {
          JSON.parse(s)
        } catch (e) {
          parserError = (e as Error).message
        }
        const found = jsonSyntaxError(s)
        expect(found === undefined).toBe(parserError === undefined)
        const position = parserError === undefined ? null : /at position (\d+)/.exec(parserError)
        if (found !== undefined && position !== null) expect(found.at).toBe(Number(position[1]))
      }),
      { seed: defaultSeed(), numRuns: 3000 },
    )
  })
  test('lines and columns count from 1', () => {
    expect(lineAndColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 })
    expect(lineAndColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 })
  })
})

describe('a spec edited after saving names the stored tensor it disagrees with', () => {
  const edited = (net: L.AnyLayer, inShape: number[], at: number): IO.IoError => {
    const p = L.initialize(net, Key.fromSeed(0), inShape)
    const d = JSON.parse(IO.encodeCheckpoint(IO.modelCheckpoint(net, inShape, p.params, p.state)))
    d.spec.children[at].units += 1
    return left(IO.decodeCheckpoint(d))
  }
  test('units changed before a residual that can no longer take it: shape-mismatch at params[0].W, the residual after', () => {
    const e = edited(L.pipe(L.dense(4), L.residual(L.pipe(L.dense(4), L.relu))), [3], 0)
    expect([e.kind, e.path]).toEqual(['shape-mismatch', 'params[0].W'])
    expect(e.message).toMatch(
      new RegExp(
        '^' +
          escape(
            'params[0].W: shape [3, 4] in the checkpoint, but the spec makes [3, 5] (pipe[0].dense at spec.children[0]: units 5 on input [3]); ',
          ) +
          escape("inShape is [3]; with the spec's shapes, the network fails further on: pipe[1].residual: ") +
          escape('the body must keep the shape of its input'),
      ),
    )
  })
  test('units changed before a reshape, and inside a branch: the edited layer is named', () => {
    const e = edited(L.pipe(L.relu, L.dense(12), L.reshape([3, 4])), [3], 1)
    expect([e.kind, e.path]).toEqual(['shape-mismatch', 'params[1].W'])
    expect(e.message).toContain('pipe[2].reshape: cannot reshape an example of 13 values to [3, 4]')
    const net = L.pipe(L.branches('sum', L.dense(4), L.dense(4)), L.dense(2))
    const p = L.initialize(net, Key.fromSeed(0), [3])
    const d = JSON.parse(IO.encodeCheckpoint(IO.modelCheckpoint(net, [3], p.params, p.state)))
    d.spec.children[0].children[1].units = 5
    const b = left(IO.decodeCheckpoint(d))
    expect([b.kind, b.path]).toEqual(['shape-mismatch', 'params[0][1].W'])
    expect(b.message).toContain('sum needs equal shapes')
  })
  test('an input shape the first layer cannot take stays bad-input-shape: no stored tensor is to blame', () => {
    const net = L.pipe(L.conv2d(2, 3), L.flatten, L.dense(2))
    const p = L.initialize(net, Key.fromSeed(0), [1, 5, 5])
    const d = JSON.parse(IO.encodeCheckpoint(IO.modelCheckpoint(net, [1, 5, 5], p.params, p.state)))
    d.inShape = [25]
    const e = left(IO.decodeCheckpoint(d))
    expect([e.kind, e.path]).toEqual(['bad-input-shape', 'inShape'])
  })
})

describe('a layer is named by its layer path, then the JSON path of its spec: pipe[0].dense at spec.children[0]', () => {
  const net = L.pipe(L.dense(4), L.residual(L.pipe(L.dense(4), L.tanh)), L.branches('concat', L.dense(2), L.relu), L.dense(2))
  const p = L.initialize(net, Key.fromSeed(0), [3])
  const netText = IO.encodeCheckpoint(IO.modelCheckpoint(net, [3], p.params, p.state))
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test pokes at the JSON freely
  const netDoc = (): Record<string, any> => JSON.parse(netText)

  test('each spec path gives the layer path the summary shows for that layer', () => {
    const specPaths: string[] = []
    const walk = (spec: { children?: unknown[]; body?: unknown }, at: string): void => {
      specPaths.push(at)
      const join = (s: string): string => (at === '' ? s : `${at}.${s}`)
      if (spec.body !== undefined) walk(spec.body as typeof spec, join('body'))
      spec.children?.forEach((c, i) => walk(c as typeof spec, join(`children[${i}]`)))
    }
    walk(net.spec as { children?: unknown[] }, '')
    const rows = IO.summarize(net, [3])
    if (E.isLeft(rows)) throw rows.left
    expect(specPaths.map((at) => layerPath(net, at))).toEqual(rows.right.rows.map((r) => r.path))
    expect(layerPath(net, 'children[9]')).toBeUndefined()
  })

  test('a shape mismatch names the edited layer and the layers that set its input the same way', () => {
    const d = netDoc()
    d.spec.children[3].units = 5
    expect(left(IO.decodeCheckpoint(d)).message).toBe(
      'params[3].W: shape [6, 2] in the checkpoint, but the spec makes [6, 5] (pipe[3].dense at spec.children[3]: units 5 on input [6]; ' +
        'that input\'s size is set by pipe[2].branches at spec.children[2], branches(merge="concat"), on an input set by ' +
        'pipe[0].dense at spec.children[0], dense(units=4, init="he", bias=true)); inShape is [3]',
    )
  })

  test('inside a residual, the layer path runs through it', () => {
    const d = netDoc()
    d.spec.children[1].body.children[0].units = 7
    const e = left(IO.decodeCheckpoint(d))
    expect([e.kind, e.path]).toEqual(['shape-mismatch', 'params[1][0].W'])
    expect(e.message).toContain('(pipe[1].residual.pipe[0].dense at spec.children[1].body.children[0]: units 7 on input [4])')
  })

  test("a layer's params of another structure name the layer; a combinator's list does not guess one", () => {
    const d = netDoc()
    delete d.params[0].b
    expect(left(IO.decodeCheckpoint(d)).message).toBe(
      'params[0]: a record {W} in the checkpoint, but the spec makes a record {W, b} (pipe[0].dense at spec.children[0])',
    )
    const swapped = netDoc()
    swapped.params[1] = swapped.params[0]
    expect(left(IO.decodeCheckpoint(swapped)).message).toBe(
      'params[1]: a record {W, b} in the checkpoint, but the spec makes an array of 2',
    )
  })

  test('an input shape the first layer cannot take names it by layer path, then where its spec is', () => {
    const d = netDoc()
    d.inShape = [5, 2]
    const e = left(IO.decodeCheckpoint(d))
    expect(e.message).toMatch(/^inShape: the network cannot take this input shape: pipe\[0\]\.dense: input shape: /)
    expect(e.message).toMatch(/ \(at spec\.children\[0\]: dense\(units=4, init="he", bias=true\)\)$/)
  })

  test('a misspelt layer kind gets "did you mean"; a custom kind does not', () => {
    const d = netDoc()
    d.spec.children[2].children[0].kind = 'dnse'
    const e = left(IO.decodeCheckpoint(d))
    expect([e.kind, e.path]).toEqual(['unknown-kind', 'spec.children[2].children[0]'])
    expect(e.message).toMatch(
      /^spec\.children\[2\]\.children\[0\]: unknown layer kind "dnse" \(did you mean "dense"\?\); this registry knows /,
    )
    d.spec.children[2].children[0].kind = 'BatchNorm'
    expect(left(IO.decodeCheckpoint(d)).message).toContain('unknown layer kind "BatchNorm" (did you mean "batchNorm"?)')
    d.spec.children[2].children[0].kind = 'swish'
    expect(left(IO.decodeCheckpoint(d)).message).toContain('unknown layer kind "swish"; this registry knows')
  })
})

describe('a value in the wrong place is named, with what goes there', () => {
  test('a layer factory where the network goes: did you forget to call it?', () => {
    const e = thrown(Error, () => IO.encodeCheckpoint(IO.modelCheckpoint(L.dense as never, [3], init.params, init.state)))
    expect(e).toBeInstanceOf(IO.IoError)
    expect(e.message).toBe('model: expected the network, a layer such as L.pipe(...), got a function: did you forget to call dense(…)?')
    expect(thrown(Error, () => IO.toSpec(L.dense as never)).message).toBe(
      'toSpec: its argument is not a layer: did you forget to call dense(…)?',
    )
    expect(left(IO.fromSpec(L.relu)).message).toBe(
      'spec: expected a layer spec { kind, ... }, got a layer: pass its spec, layer.spec (or IO.toSpec(layer))',
    )
    expect(left(IO.fromSpec(L.dense)).message).toBe(
      'spec: expected a layer spec { kind, ... }, got a function: did you forget to call dense(…)?',
    )
  })
  test('a model checkpoint without its model names the model', () => {
    const e = thrown(Error, () => IO.encodeCheckpoint({ inShape: [3], params: init.params, state: init.state } as never))
    expect(e.message).toBe('model: expected the network, a layer such as L.pipe(...), got nothing')
  })
  test("a spec's JSON text where the spec goes: parse it first", () => {
    expect(left(IO.fromSpec(JSON.stringify(model.spec))).message).toBe(
      'spec: expected a layer spec { kind, ... }, got the text of one: parse it first, JSON.parse(text)',
    )
  })
  test('a parsed checkpoint given to parseCheckpoint: use decodeCheckpoint', () => {
    const e = left(IO.parseCheckpoint(doc() as never))
    expect(e.kind).toBe('not-json')
    expect(e.message).toBe(
      "parseCheckpoint takes a checkpoint's text or bytes, got an object {format, version, metadata, inShape, spec, params, ...}; " +
        'for a value already parsed, use decodeCheckpoint',
    )
    expect(E.isRight(IO.decodeCheckpoint(doc()))).toBe(true)
  })
  test('a layer where a registry entry goes: wrap it in a builder', () => {
    const e = thrown(Error, () => IO.extend(IO.builtins, { swish: L.relu as never }))
    expect(e).toBeInstanceOf(TypeError)
    expect(e.message).toBe(
      'extend: the entry for "swish" must be a builder, a function from the spec to the layer such as { swish: () => myLayer }, ' +
        'got a layer (wrap it: () => layer)',
    )
    expect(thrown(Error, () => IO.extend(IO.builtins, { swish: 3 as never })).message).toMatch(/, got 3$/)
  })
})

describe('checkpoint files (Node): paths that are not files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainrule-messages-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const save = (path: string): void => saveModel(path, { model, inShape: [3], params: init.params, state: init.state })

  test('a file cut off halfway: the file, its length, and that it looks cut off', () => {
    const path = join(dir, 'half.json')
    save(path)
    const bytes = readFileSync(path)
    writeFileSync(path, bytes.subarray(0, bytes.length >> 1))
    const expecting = jsonSyntaxError(bytes.subarray(0, bytes.length >> 1).toString())!.expected
    const e = left(loadCheckpoint(path))
    expect(e.kind).toBe('not-json')
    expect(e.message).toBe(
      `the file ${path} ends after ${(bytes.length >> 1).toLocaleString('en-US')} characters, in the middle of the JSON ` +
        `(expecting ${expecting}): the file looks cut off (an interrupted write or copy?)`,
    )
  })
  test('a missing directory, a directory given for a file, a file of another format', () => {
    const missing = left(loadCheckpoint(join(dir, 'nope', 'deeper', 'model.json')))
    expect([missing.kind, missing.message]).toEqual([
      'io',
      `${join(dir, 'nope', 'deeper', 'model.json')}: cannot read the checkpoint file: ` +
        `no such file: the directory ${join(dir, 'nope')} does not exist`,
    ])
    save(join(dir, 'inside', 'model.json'))
    expect(left(loadCheckpoint(join(dir, 'inside'))).message).toBe(
      `${join(dir, 'inside')}: cannot read the checkpoint file: ` +
        'it is a directory, not a file: give the path of a file (it holds model.json)',
    )
    writeFileSync(join(dir, 'run.csv'), 'epoch,loss\n1,0.5\n')
    const csv = left(loadCheckpoint(join(dir, 'run.csv'))).message
    expect(csv.startsWith(`the file ${join(dir, 'run.csv')} is not JSON: it starts with`)).toBe(true)
  })
  test('saving to a directory, or under a file, says which and writes nothing; loading from under a file names it too', () => {
    mkdirSync(join(dir, 'adir'))
    expect(() => save(join(dir, 'adir'))).toThrow(`${join(dir, 'adir')}: cannot save: it is a directory, not a file`)
    writeFileSync(join(dir, 'afile'), 'x')
    expect(() => save(join(dir, 'afile', 'model.json'))).toThrow(
      `cannot save: ${join(dir, 'afile')} is a file, not a directory: nothing can be inside it`,
    )
    expect(readFileSync(join(dir, 'afile'), 'utf8')).toBe('x')
    expect(left(loadCheckpoint(join(dir, 'afile', 'model.json'))).message).toBe(
      `${join(dir, 'afile', 'model.json')}: cannot read the checkpoint file: ` +
        `${join(dir, 'afile')} is a file, not a directory: nothing can be inside it`,
    )
  })
  test('a custom layer loaded without its registry: says a checkpoint stores its spec and where the registry goes', () => {
    const swish = L.define({
      name: 'swish',
      forward: (_p, x) => ({ y: T.map((v) => v * L.logistic(v))(x), tape: x }),
      vjp: (_p, _x, dy) => ({ dx: dy, dp: L.none }),
    })
    const net = L.pipe(L.dense(3), swish)
    const p = L.initialize(net, Key.fromSeed(0), [2])
    const path = join(dir, 'swish.json')
    saveModel(path, { model: net, inShape: [2], params: p.params, state: p.state })
    const e = left(loadCheckpoint(path))
    expect([e.kind, e.path]).toEqual(['unknown-kind', 'spec.children[1]'])
    expect(e.message).toContain("A checkpoint stores a custom layer's spec, not its code")
    expect(e.message).toContain(
      'give loadCheckpoint or parseCheckpoint (fromSpec: its second argument) a registry that rebuilds it from the ' +
        "spec's settings, e.g. { registry: IO.extend(IO.builtins, IO.registryOf(myKind)) } with " +
        'myKind = IO.layerKind(IO.specOf("swish", { ...codecs of its settings }), (spec) => myLayer(spec...)), as docs/adding-a-layer.md shows',
    )
    expect(E.isRight(loadCheckpoint(path, { registry: IO.extend(IO.builtins, { swish: () => swish }) }))).toBe(true)
  })
})
