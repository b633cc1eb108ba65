import { describe, expect, test } from 'vitest'
import { importPeer, MissingPeerError, need, needAll } from '../../src/node/peer.ts'

// A specifier held in a variable, so neither tsc nor vite tries to resolve it ahead of time.
const load = (specifier: string) => () => import(/* @vite-ignore */ specifier)

describe('optional peers: a helper whose package is missing names it and the command that installs it', () => {
  test('a package that is installed loads, and need hands back its module', async () => {
    const fc = await importPeer('fast-check', load('fast-check'))
    expect(fc.ok).toBe(true)
    expect(typeof need('test', fc).default.assert).toBe('function')
  })
  test('a missing package: need throws a MissingPeerError naming it, the helper and the install command', async () => {
    const missing = await importPeer('no-such-package-chainrule', load('no-such-package-chainrule'))
    expect(missing.ok).toBe(false)
    expect(() => need('toPng', missing)).toThrow(MissingPeerError)
    expect(() => need('toPng', missing)).toThrow(
      "toPng needs the optional package 'no-such-package-chainrule', which is not installed. Install: npm install no-such-package-chainrule",
    )
  })
  test('needAll names every missing package and installs the whole set', async () => {
    const [here, a, b] = await Promise.all([
      importPeer('fast-check', load('fast-check')),
      importPeer('missing-a', load('missing-a')),
      importPeer('missing-b', load('missing-b')),
    ])
    expect(() => needAll('draw', [here])).not.toThrow()
    let error: unknown
    try {
      needAll('draw', [here, a, b])
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(MissingPeerError)
    expect((error as MissingPeerError).packages).toEqual(['missing-a', 'missing-b'])
    expect((error as Error).message).toBe(
      "draw needs the optional packages 'missing-a' and 'missing-b', which are not installed. Install: npm install fast-check missing-a missing-b",
    )
  })
  test('a package that is there but throws when loaded, or misses a dependency of its own, is reported with its error', async () => {
    const lacking = Object.assign(new Error("Cannot find package 'vega-canvas' imported from vega.js"), { code: 'ERR_MODULE_NOT_FOUND' })
    const half = await importPeer('vega', () => Promise.reject(lacking))
    expect(() => need('toSvg', half)).toThrow(
      "toSvg needs the optional package 'vega', which could not be loaded (vega: Cannot find package 'vega-canvas'",
    )
    const broken = await importPeer('broken', () => Promise.reject(new Error('native binding not found')))
    expect(() => need('svgToPng', broken)).toThrow(
      "svgToPng needs the optional package 'broken', which could not be loaded (broken: native binding not found). Install: npm install broken",
    )
  })
})
