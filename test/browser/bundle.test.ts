import { describe, expect, test } from 'vitest'
import { build, type Plugin } from 'esbuild'
import { builtinModules } from 'node:module'

// The core (everything outside src/node/) must run in a browser: bundling it for the browser
// platform must succeed and must not pull in a single Node built-in, directly or through a
// dependency. The plugin sees every import esbuild resolves and records the Node ones.

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, m.split('/')[0] as string]))

/** An esbuild plugin that records (and fails) every import of a Node built-in: `node:*` or a bare name such as fs, path, os, crypto, url, module, buffer, stream. */
const forbidNodeBuiltins = (found: string[]): Plugin => ({
  name: 'forbid-node-builtins',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.split('/')[0] as string
      if (args.path.startsWith('node:') || NODE_BUILTINS.has(args.path) || (NODE_BUILTINS.has(bare) && !bare.startsWith('@'))) {
        found.push(`${args.path} (imported by ${args.importer})`)
        return { errors: [{ text: `Node built-in '${args.path}' imported by ${args.importer}: the core must stay browser-safe` }] }
      }
      return undefined
    })
  },
})

const bundle = async (entry: string): Promise<{ errors: number; nodeImports: string[]; bytes: number }> => {
  const nodeImports: string[] = []
  try {
    const r = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      logLevel: 'silent',
      plugins: [forbidNodeBuiltins(nodeImports)],
    })
    return { errors: r.errors.length, nodeImports, bytes: r.outputFiles[0]?.contents.length ?? 0 }
  } catch (e) {
    return { errors: (e as { errors?: unknown[] }).errors?.length ?? 1, nodeImports, bytes: 0 }
  }
}

describe('the core bundles for the browser without Node built-ins', () => {
  test('the plugin recognises built-ins by both spellings', () => {
    for (const name of [
      'fs',
      'node:fs',
      'path',
      'os',
      'child_process',
      'worker_threads',
      'crypto',
      'url',
      'module',
      'buffer',
      'stream',
      'fs/promises',
    ]) {
      expect(NODE_BUILTINS.has(name) || name.startsWith('node:')).toBe(true)
    }
  })
  test('src/index.ts (the public barrel)', async () => {
    const r = await bundle('src/index.ts')
    expect(r.nodeImports).toEqual([])
    expect(r.errors).toBe(0)
    expect(r.bytes).toBeGreaterThan(10_000)
  })
  test('src/plot/index.ts (chart specs)', async () => {
    const r = await bundle('src/plot/index.ts')
    expect(r.nodeImports).toEqual([])
    expect(r.errors).toBe(0)
  })
  test('the check has teeth: src/node/index.ts (Node only) is rejected, naming the imports', async () => {
    const r = await bundle('src/node/index.ts')
    expect(r.errors).toBeGreaterThan(0)
    expect(r.nodeImports.some((m) => m.startsWith('node:fs') || m.startsWith('fs'))).toBe(true)
  })
})
