import { afterAll, beforeAll, expect, test } from 'vitest'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser } from 'playwright-core'
import { assets, bundleDemo, serve } from '../../scripts/browser.ts'
import { launchChromium } from '../support/chromium.ts'
import { sidewaysOverflow, watchedPage } from './watch.ts'

// The browser demo (`npm run browser`) in a real browser: it loads without an error, cross-origin
// isolated with two threads, shows no empty status box before a run, and trains the spiral on a 420-pixel screen without
// scrolling sideways.

let browser: Browser
let server: Server
let url = ''

beforeAll(async () => {
  const [b, s] = await Promise.all([launchChromium(), bundleDemo().then((js) => serve(assets(js), 0))])
  browser = b
  server = s
  url = `http://localhost:${(server.address() as AddressInfo).port}/`
})

afterAll(async () => {
  await browser?.close()
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())))
})

test('the demo loads with no error, cross-origin isolated, with two threads and no empty status box', async () => {
  const { page, problems } = await watchedPage(browser)
  await page.goto(url)
  await page.waitForFunction(() => document.getElementById('engine')?.textContent?.startsWith('kernels'))
  expect(await page.textContent('#engine')).toContain('threads: 2')
  expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true)
  // the status lines under the buttons are empty before a run, and take no room
  expect(await page.evaluate(() => document.getElementById('spiral-status')!.getBoundingClientRect().height)).toBe(0)
  expect(problems).toEqual([])
  await page.close()
})

test('at 420 px the spiral demo trains to 90% or more, and with its three charts drawn the page does not scroll sideways', async () => {
  const { page, problems } = await watchedPage(browser, 420)
  await page.goto(`${url}?run=spiral`)
  await page.waitForFunction(() => document.getElementById('spiral-status')?.textContent?.startsWith('done'), undefined, {
    timeout: 90_000,
  })
  const accuracy = Number(/accuracy ([\d.]+)%/.exec((await page.textContent('#spiral-status')) ?? '')?.[1])
  expect(accuracy).toBeGreaterThanOrEqual(90)
  expect(await page.locator('#spiral-gradients svg, #spiral-boundary svg, #spiral-history svg').count()).toBe(3)
  expect(await page.textContent('#spiral-gradients')).toContain('dense 1 (2→64)') // the legend names layers as a person would
  expect(await sidewaysOverflow(page)).toBe(0)
  expect(problems).toEqual([])
  await page.close()
})
