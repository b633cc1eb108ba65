import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { build, type Plugin } from 'esbuild'
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// chainrule as a user gets it: `npm pack` (which runs the build), the tarball installed into a
// fresh project outside the repository (so nothing resolves to the repo's own node_modules),
// then used from plain Node, CommonJS, tsc, vitest, esbuild, and without optional packages.
// The consumer's files are in ./consumer; tsc, vitest and esbuild are the repository's,
// run against the consumer's project. Installing reuses npm's cache (--prefer-offline).

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const fixtures = join(repo, 'test/package/consumer')
const bin = (tool: string): string => join(repo, 'node_modules', tool)

/** The environment without what `npm test` and vitest set for themselves (npm_* config such as the local prefix, VITEST_*), no colours. */
const cleanEnv = (): NodeJS.ProcessEnv => {
  const keep = new Set([
    'npm_config_cache',
    'npm_config_registry',
    'npm_config_userconfig',
    'npm_config_globalconfig',
    'npm_config_cafile',
    'npm_config_proxy',
    'npm_config_https_proxy',
    'npm_config_noproxy',
  ])
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !(/^(npm_|vitest|INIT_CWD$|NODE_OPTIONS$|NODE_ENV$|TEST$|FORCE_COLOR$)/i.test(k) && !keep.has(k)),
    ),
  )
  return { ...env, NO_COLOR: '1' }
}

let dir = ''
let packed: { readonly filename: string; readonly files: readonly { readonly path: string }[] } = { filename: '', files: [] }

const run = (file: string, args: readonly string[], options: ExecFileSyncOptions = {}): string =>
  execFileSync(file, args, { cwd: dir, encoding: 'utf8', env: cleanEnv(), stdio: 'pipe', timeout: 120_000, ...options }).toString()

/** Runs a command expected to succeed; on failure, its output is the assertion's message. */
const ok = (file: string, args: readonly string[]): string => {
  try {
    return run(file, args)
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: unknown; stderr?: unknown }
    throw new Error(`${[file, ...args].join(' ')} failed:\n${String(stdout ?? '')}${String(stderr ?? '')}`)
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'chainrule-consumer-'))
  const out = run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repo })
  ;[packed] = JSON.parse(out.slice(out.search(/^\[/m))) as [typeof packed]
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  for (const f of readdirSync(fixtures)) copyFileSync(join(fixtures, f), join(dir, f))
  // chainrule/laws needs fast-check (an optional peer); nothing else is installed besides chainrule
  const fastCheck = (JSON.parse(readFileSync(bin('fast-check/package.json'), 'utf8')) as { version: string }).version
  ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, packed.filename), `fast-check@${fastCheck}`])
}, 300_000)

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

describe('the packed tarball', () => {
  test('holds the build, the sources its maps point to, README, LICENSE, CHANGELOG and the docs, and nothing else', () => {
    const paths = packed.files.map((f) => f.path)
    const top = new Set(paths.map((p) => p.split('/')[0]))
    expect([...top].sort()).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'dist', 'docs', 'laws', 'package.json', 'src'])
    expect(paths.filter((p) => /(^|\/)(test|bench|\.ci)\/|\.test\.ts$/.test(p))).toEqual([])
    for (const entry of [
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/laws/index.js',
      'dist/laws/index.d.ts',
      'dist/src/node/index.js',
      'dist/src/node/index.d.ts',
    ])
      expect(paths).toContain(entry)
  })
  test("every relative link of the README, and every link between the docs' pages, names a file that ships", () => {
    const shipped = new Set(packed.files.map((f) => f.path))
    const root = join(dir, 'node_modules/chainrule')
    const missing: string[] = []
    for (const page of [...shipped].filter((p) => p === 'README.md' || /^docs\/[^/]+\.md$/.test(p))) {
      const text = readFileSync(join(root, page), 'utf8').replace(/```[\s\S]*?```/g, '')
      for (const m of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        const target = join(dirname(page), m[1]!).split('\\').join('/')
        if (/^[a-z]+:/.test(m[1]!)) continue
        // the docs' own pictures stay in the repository (1.1 MB); the README's ship with it
        if (page !== 'README.md' && target.startsWith('docs/img/')) continue
        if (!shipped.has(target)) missing.push(`${page} → ${m[1]!}`)
      }
    }
    expect(missing).toEqual([])
  })
  test('every source map and declaration map names files that ship, and every relative import of the build resolves to one', () => {
    const shipped = new Set(packed.files.map((f) => f.path))
    const root = join(dir, 'node_modules/chainrule')
    const missing: string[] = []
    for (const path of shipped) {
      const at = (specifier: string): string => join(dirname(path), specifier).split('\\').join('/')
      if (path.endsWith('.map')) {
        const map = JSON.parse(readFileSync(join(root, path), 'utf8')) as { sources: string[] }
        for (const s of map.sources) if (!shipped.has(at(s))) missing.push(`${path} → ${s}`)
      } else if (path.startsWith('dist/') && /\.(js|d\.ts)$/.test(path)) {
        const code = readFileSync(join(root, path), 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '') // without comments (their examples)
        for (const m of code.matchAll(/(?:from|import)\s*\(?\s*['"](\.\.?\/[^'"]+)['"]/g)) {
          if (!shipped.has(at(m[1]!))) missing.push(`${path} imports ${m[1]!}`)
        }
      }
    }
    expect(missing).toEqual([])
  })
})

describe('installed in a fresh project', () => {
  test('plain node (ESM, no TypeScript, no bundler) imports chainrule and trains XOR to 100%', () => {
    expect(ok('node', ['xor.mjs'])).toContain('accuracy: 100%')
  })

  test("docs/install.md's first ten lines run as written and print what they say", () => {
    const doc = readFileSync(join(repo, 'docs/install.md'), 'utf8')
    const block = /## The first ten lines\n+```js\n([\s\S]*?)```/.exec(doc)?.[1]
    expect(block?.trimEnd().split('\n').length).toBeLessThanOrEqual(10)
    writeFileSync(join(dir, 'first.mjs'), block!)
    const said = /console\.log\(.*\) \/\/ (.*)$/m.exec(block!)?.[1]
    expect(ok('node', ['first.mjs']).trim()).toBe(said)
  })

  test("require('chainrule') and require('chainrule/laws') work; require('chainrule/node') is refused as not exported (it is import-only)", () => {
    const out = ok('node', ['require.cjs'])
    expect(out).toContain('require: output shape [4,3]; checkLayer function')
    expect(out).toContain('require chainrule/node: ERR_PACKAGE_PATH_NOT_EXPORTED')
  })

  test('a CommonJS package (npm init\'s "type": "commonjs") under tsc nodenext gets chainrule and chainrule/laws, and TS2307 for chainrule/node', () => {
    const cjs = join(dir, 'cjs')
    mkdirSync(cjs, { recursive: true })
    writeFileSync(join(cjs, 'package.json'), JSON.stringify({ name: 'cjs', private: true, type: 'commonjs' }))
    const compilerOptions = { module: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: [] }
    writeFileSync(join(cjs, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['core.ts'] }))
    writeFileSync(
      join(cjs, 'core.ts'),
      "import { L } from 'chainrule'\nimport { checkLayer } from 'chainrule/laws'\nexport const check = () => checkLayer(L.relu, { inShape: [3] })\n",
    )
    ok('node', [bin('typescript/bin/tsc'), '-p', join(cjs, 'tsconfig.json')])
    writeFileSync(join(cjs, 'tsconfig.node.json'), JSON.stringify({ compilerOptions, files: ['node.ts'] }))
    writeFileSync(join(cjs, 'node.ts'), "import { saveModel } from 'chainrule/node'\nexport const save = saveModel\n")
    let said = ''
    try {
      run('node', [bin('typescript/bin/tsc'), '-p', join(cjs, 'tsconfig.node.json')])
    } catch (e) {
      said = String((e as { stdout?: unknown }).stdout ?? '')
    }
    expect(said).toMatch(/error TS2307: Cannot find module 'chainrule\/node'/)
  })

  test.each([
    ['nodenext', { module: 'nodenext' }],
    ['node16', { module: 'node16', moduleResolution: 'node16' }],
    ['bundler', { module: 'preserve', moduleResolution: 'bundler' }],
  ])("tsc with tsc --init's strict defaults and moduleResolution %s type-checks a consumer's file", (name, options) => {
    if (!existsSync(join(dir, 'tsconfig.json'))) ok('node', [bin('typescript/bin/tsc'), '--init'])
    const init = readFileSync(join(dir, 'tsconfig.json'), 'utf8')
    expect(init).toMatch(/"strict": true/)
    expect(init).toMatch(/"exactOptionalPropertyTypes": true/)
    writeFileSync(
      join(dir, `tsconfig.${name}.json`),
      JSON.stringify({ extends: './tsconfig.json', compilerOptions: { ...options, noEmit: true }, files: ['check.ts'] }),
    )
    ok('node', [bin('typescript/bin/tsc'), '-p', `tsconfig.${name}.json`])
  })

  test('a consumer that exports its model and initialized params, inferred, emits its own declarations (no TS2883)', () => {
    writeFileSync(
      join(dir, 'exported.ts'),
      [
        "import { Key, L } from 'chainrule'",
        'export const model = L.pipe(L.flatten, L.dense(8), L.relu, L.residual(L.dense(8)), L.branches("concat", L.dense(2), L.dense(3)))',
        'export const init = L.initialize(model, Key.fromSeed(0), [1, 2, 2])',
        "export const init32 = L.initialize(model, Key.fromSeed(0), [1, 2, 2], { dtype: 'float32' })",
        '',
      ].join('\n'),
    )
    const compilerOptions = {
      module: 'nodenext',
      strict: true,
      skipLibCheck: true,
      declaration: true,
      emitDeclarationOnly: true,
      outDir: 'declared',
      types: [],
    }
    writeFileSync(join(dir, 'tsconfig.declare.json'), JSON.stringify({ compilerOptions, files: ['exported.ts'] }))
    ok('node', [bin('typescript/bin/tsc'), '-p', 'tsconfig.declare.json'])
    const declared = readFileSync(join(dir, 'declared', 'exported.d.ts'), 'utf8')
    expect(declared).toMatch(/export declare const init: L\.Init<readonly \[readonly \[\], L\.DenseParams, readonly \[\], /)
    expect(declared).not.toMatch(/dist\/src/)
  })

  test("the consumer's own vitest file runs chainrule/laws on its custom layer, which catches a wrong vjp", () => {
    const out = ok('node', [bin('vitest/vitest.mjs'), 'run', '--root', dir, '--dir', dir])
    expect(out).toMatch(/Tests\s+2 passed/)
  })

  test('esbuild bundles the core for the browser with no Node built-in, and the bundle trains XOR', async () => {
    const nodeImports: string[] = []
    const builtins = new Set(builtinModules)
    const forbid: Plugin = {
      name: 'forbid-node-builtins',
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => {
          if (args.path.startsWith('node:') || builtins.has(args.path) || builtins.has(args.path.split('/')[0]!))
            nodeImports.push(`${args.path} (from ${args.importer})`)
          return undefined
        })
      },
    }
    const out = join(dir, 'bundle.mjs')
    const result = await build({
      absWorkingDir: dir,
      entryPoints: ['xor.mjs'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      outfile: out,
      logLevel: 'silent',
      plugins: [forbid],
    })
    expect(result.errors).toEqual([])
    expect(nodeImports).toEqual([])
    expect(readFileSync(out, 'utf8')).not.toMatch(/from\s*['"]chainrule/)
    expect(ok('node', ['bundle.mjs'])).toContain('accuracy: 100%')
  })

  test('chainrule/node without its optional packages loads, and each helper that needs one names what to install', () => {
    for (const peer of ['vega', 'vega-lite', '@resvg/resvg-js', 'cli-progress'])
      expect(existsSync(join(dir, 'node_modules', peer))).toBe(false)
    const said = new Map(
      ok('node', ['peers.mjs'])
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
    )
    const missing = (names: string, install: string): string =>
      `needs the optional ${names}, which ${names.includes(' and ') ? 'are' : 'is'} not installed. Install: npm install ${install}`
    const drawPng = missing("packages 'vega', 'vega-lite' and '@resvg/resvg-js'", 'vega vega-lite @resvg/resvg-js')
    expect(said.get('toVega')).toBe(`MissingPeerError [vega-lite] toVega ${missing("package 'vega-lite'", 'vega-lite')}`)
    expect(said.get('toSvg')).toBe(
      `MissingPeerError [vega,vega-lite] toSvg ${missing("packages 'vega' and 'vega-lite'", 'vega vega-lite')}`,
    )
    expect(said.get('toPng')).toBe(`MissingPeerError [vega,vega-lite,@resvg/resvg-js] toPng ${drawPng}`)
    expect(said.get('writePlot png')).toBe(`MissingPeerError [vega,vega-lite,@resvg/resvg-js] writePlot ${drawPng}`)
    expect(said.get('progress')).toBe(`MissingPeerError [cli-progress] progress ${missing("package 'cli-progress'", 'cli-progress')}`)
    for (const works of ['progress plain', 'writePlot json', 'lossCurve', 'formatEpoch']) expect(said.get(works)).toBe('ok')
    expect(said.get('spec.json has $schema')).toBe('true')
  })
})
