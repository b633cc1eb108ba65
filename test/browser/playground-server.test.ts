import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { HEADERS, PLAIN_HEADERS } from '../../scripts/browser.ts'
import { layerSources, playgroundArgs, servePlayground } from '../../scripts/playground.ts'
import { build } from 'esbuild'

// The playground's server (`npm run playground`): its command line, its fixed table, its headers
// with and without isolation, and the layer sources it inlines in the bundle.

let isolated: Server
let plain: Server
const at = (s: Server, path: string): string => `http://127.0.0.1:${(s.address() as AddressInfo).port}${path}`

beforeAll(async () => {
  ;[isolated, plain] = await Promise.all([servePlayground(0, true), servePlayground(0, false)])
})

afterAll(async () => {
  for (const s of [isolated, plain]) await new Promise<void>((resolve) => (s === undefined ? resolve() : s.close(() => resolve())))
})

describe('the playground server', () => {
  test('reads --port, --no-isolation and --out in any order, and refuses anything else', () => {
    expect(playgroundArgs([])).toEqual({ port: 8080, isolated: true, out: undefined })
    expect(playgroundArgs(['--port', '0', '--no-isolation'])).toEqual({ port: 0, isolated: false, out: undefined })
    expect(playgroundArgs(['--out', 'site', '--port=9000'])).toEqual({ port: 9000, isolated: true, out: 'site' })
    expect(() => playgroundArgs(['--out'])).toThrow(/--out needs a directory/)
    expect(() => playgroundArgs(['--verbose'])).toThrow(/unknown argument --verbose/)
  })

  test('serves the page, its bundle and the MNIST files, with the isolation headers or without them', async () => {
    for (const [server, headers] of [
      [isolated, HEADERS],
      [plain, PLAIN_HEADERS],
    ] as const) {
      const page = await fetch(at(server, '/'))
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('<script type="module" src="main.js"></script>')
      for (const name of ['Cross-Origin-Opener-Policy', 'Cross-Origin-Embedder-Policy'])
        expect(page.headers.get(name) ?? undefined).toBe(headers[name])
      const js = await fetch(at(server, '/main.js'))
      expect(js.status).toBe(200)
      expect((await js.text()).length).toBeGreaterThan(100_000)
      expect((await fetch(at(server, '/mnist/t10k-labels-idx1-ubyte'))).status).toBe(200)
      expect((await fetch(at(server, '/playground/ui/main.tsx'))).status).toBe(404)
    }
  })

  test("inlines every layer file's text as the module virtual:layer-sources", async () => {
    const result = await build({
      stdin: { contents: "import s from 'virtual:layer-sources'; export default s", resolveDir: '.' },
      bundle: true,
      write: false,
      format: 'esm',
      plugins: [layerSources],
      logLevel: 'silent',
    })
    const text = result.outputFiles[0]!.text
    expect(text).toContain('src/layers/dense.ts')
    expect(text).toContain('dx = dy')
  })
})
