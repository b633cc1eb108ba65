import { afterAll, beforeAll, expect, test } from 'vitest'
import type { Browser } from 'playwright-core'
import { launchChromium } from '../support/chromium.ts'

// The real browser the page tests drive: it starts offline, runs a script, and a page that is
// not served with the isolation headers is not cross-origin isolated (our flags do not force it).

let browser: Browser

beforeAll(async () => {
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
})

test('headless Chromium runs a page script, and an about:blank page is not cross-origin isolated', async () => {
  const page = await browser.newPage()
  await page.setContent('<p id="sum"></p><script>document.getElementById("sum").textContent = String(2 + 3)</script>')
  expect(await page.textContent('#sum')).toBe('5')
  expect(await page.evaluate(() => [globalThis.crossOriginIsolated, typeof SharedArrayBuffer])).toEqual([false, 'undefined'])
  await page.close()
})
