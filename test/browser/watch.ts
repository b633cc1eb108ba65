import type { Browser, Page } from 'playwright-core'

/** A page opened in a real browser, with what went wrong on it so far: console errors, uncaught exceptions, failed or refused requests. */
export interface Watched {
  readonly page: Page
  readonly problems: string[]
}

/** Opens a new page of the given width (default 1280) and records every console error, page error and failed request on it. */
export const watchedPage = async (browser: Browser, width = 1280, height = 900): Promise<Watched> => {
  const page = await browser.newPage({ viewport: { width, height } })
  const problems: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`))
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`))
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`)
  })
  return { page, problems }
}

/** How far the page scrolls sideways: the document's scroll width minus its visible width (0 when nothing overflows). */
export const sidewaysOverflow = (page: Page): Promise<number> =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
