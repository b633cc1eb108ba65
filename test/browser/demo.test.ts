import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { readdirSync, readlinkSync } from 'node:fs'
import { request, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { assets, bundleDemo, HEADERS, portArg, serve } from '../../scripts/browser.ts'

// The browser demo (`npm run browser`): its script must bundle for the browser, and its server
// must answer the page, the bundle and the MNIST files with the headers of cross-origin
// isolation, and nothing else. (demo-page.test.ts opens the page in a real browser.)

/** Where a file descriptor points ('' if it closed meanwhile). */
const readlinkSafe = (path: string): string => {
  try {
    return readlinkSync(path)
  } catch {
    return ''
  }
}

let bundle = ''
let server: Server
let port = 0

/** A raw request (the path is sent as given, not normalised the way fetch would). */
const get = (
  path: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end()
  })

beforeAll(async () => {
  bundle = await bundleDemo()
  server = await serve(assets(bundle), 0)
  port = (server.address() as AddressInfo).port
}, 60_000)

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('the browser demo', () => {
  test('bundles for the browser platform (a Node built-in anywhere in it would fail the build)', () => {
    expect(bundle.length).toBeGreaterThan(100_000) // the library, vega and vega-lite
    expect(bundle).not.toMatch(/from\s*"node:/)
  })

  test('serves the page, the bundle and the MNIST files, cross-origin isolated', async () => {
    const page = await get('/')
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.body.toString()).toContain('<script type="module" src="main.js"></script>')
    for (const [name, value] of Object.entries(HEADERS)) expect(page.headers[name.toLowerCase()]).toBe(value)
    const js = await get('/main.js')
    expect(js.status).toBe(200)
    expect(js.body.toString()).toBe(bundle)
    const labels = await get('/mnist/t10k-labels-idx1-ubyte')
    expect(labels.status).toBe(200)
    expect(labels.body.length).toBe(8 + 10_000)
    expect([...labels.body.subarray(0, 8)]).toEqual([0, 0, 8, 1, 0, 0, 0x27, 0x10]) // IDX: ubyte, 1 dim, 10,000
    const head = await get('/', 'HEAD')
    expect(head.status).toBe(200)
    expect(head.body.length).toBe(0)
  })

  test('answers nothing outside its table: other paths 404, other methods 405', async () => {
    for (const path of [
      '/package.json',
      '/../package.json',
      '/mnist/../../package.json',
      '/mnist/..%2f..%2fpackage.json',
      '/mnist/',
      '/examples/browser/main.ts',
      '/main.js/',
      '/%2e%2e/package.json',
    ]) {
      const r = await get(path)
      expect(r.status, path).toBe(404)
      expect(r.body.toString()).toMatch(/^nothing at \S+: this server has \/, \/index.html, \/main.js, \/mnist\//)
      expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp')
    }
    // not a path at all: '//x' would be a host name to a URL parser, '*' is OPTIONS' target
    for (const target of ['//main.js', '//etc/passwd', '*']) {
      const r = await get(target)
      expect(r.status, target).toBe(400)
      expect(r.body.toString()).toBe(`not a path: ${target}\n`)
    }
    // the query and fragment are not part of the path
    expect((await get('/main.js?v=2')).status).toBe(200)
    // the absolute form (what a proxy sends) is read for a local host only
    expect((await get(`http://localhost:${port}/main.js`)).status).toBe(200)
    expect((await get('http://evil.example/main.js')).status).toBe(400)
    const post = await get('/', 'POST')
    expect(post.status).toBe(405)
    expect(post.body.toString()).toBe('POST is not served here: only GET and HEAD\n')
  })

  test('answers only requests addressed to localhost (a rebound DNS name gets a 403)', async () => {
    for (const host of ['localhost', `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`])
      expect((await get('/', 'GET', { host })).status, host).toBe(200)
    for (const host of ['evil.example', `evil.example:${port}`, 'localhost.evil.example', '127.0.0.1.nip.io']) {
      const r = await get('/', 'GET', { host })
      expect(r.status, host).toBe(403)
      expect(r.body.toString()).toBe(`this server answers only requests to localhost, not to ${host}\n`)
    }
  })

  test('a request that names no host (HTTP/1.0) gets a 403 that says so', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end('GET / HTTP/1.0\r\n\r\n'))
      let text = ''
      socket.on('data', (d: Buffer) => void (text += d.toString()))
      socket.on('end', () => resolve(text))
      socket.on('error', reject)
    })
    expect(answer).toMatch(/^HTTP\/1\.1 403 /)
    expect(answer).toContain('this server answers only requests to localhost, and this request named no host')
  })

  test.runIf(process.platform === 'linux')('a client that hangs up mid-download leaves no file open on the server', async () => {
    const openMnist = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSafe(`/proc/self/fd/${fd}`).includes('train-images-idx3-ubyte')
        } catch {
          return false
        }
      }).length
    const before = openMnist()
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/mnist/train-images-idx3-ubyte' }, (res) => {
          res.once('data', () => {
            req.destroy() // hang up after the first chunk of 47 MB
            resolve()
          })
        })
        req.on('error', (e) => ((e as { code?: string }).code === 'ECONNRESET' ? resolve() : reject(e)))
        req.end()
      })
    }
    // the server notices each hang-up a moment later: wait until it has, up to 5 s
    for (let waited = 0; openMnist() > before && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50))
    expect(openMnist()).toBe(before)
  })

  test('a missing MNIST file is a 500 that names it', async () => {
    const broken = await serve(assets(bundle, '/nonexistent-dir'), 0)
    const saved = port
    port = (broken.address() as AddressInfo).port
    try {
      const r = await get('/mnist/train-labels-idx1-ubyte')
      expect(r.status).toBe(500)
      expect(r.body.toString()).toMatch(/^cannot read \/mnist\/train-labels-idx1-ubyte: ENOENT.*\/nonexistent-dir\/train-labels-idx1-ubyte/)
    } finally {
      port = saved
      await new Promise<void>((resolve) => broken.close(() => resolve()))
    }
  })

  test('--port takes an integer in 0..65535, and says what was wrong otherwise', () => {
    expect(portArg([])).toBe(8080)
    expect(portArg(['--port', '9000'])).toBe(9000)
    expect(portArg(['--port=9001'])).toBe(9001)
    for (const bad of [['--port'], ['--port', 'abc'], ['--port', '-1'], ['--port', '70000'], ['--port', '80.5']]) {
      expect(() => portArg(bad)).toThrow(`--port must be an integer in 0..65535, got ${bad[1] ?? 'nothing'}`)
    }
    expect(() => portArg(['--port='])).toThrow('--port must be an integer in 0..65535, got nothing')
    expect(() => portArg(['--port=x1'])).toThrow('--port must be an integer in 0..65535, got x1')
    expect(() => portArg(['-p', '9000'])).toThrow('unknown argument -p: the only one is --port N')
    expect(() => portArg(['--port', '9000', '--open'])).toThrow('unknown argument --open: the only one is --port N')
  })

  test('a port in use is an error the caller sees', async () => {
    await expect(serve(assets(bundle), port)).rejects.toThrow(/EADDRINUSE/)
  })
})
