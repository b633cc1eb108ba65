import chromium from '@sparticuz/chromium'
import { chromium as playwright, type Browser } from 'playwright-core'

/**
 * Launches the headless Chromium that ships inside the @sparticuz/chromium npm package (no
 * download: `executablePath()` unpacks it to the temp directory), driven by playwright-core.
 *
 * The flags are ours, not the package's `Chromium.args`: those turn web security off and force
 * SharedArrayBuffer on, which would hide a page that is not cross-origin isolated. The network
 * flags stop Chromium's own background connections, which this offline machine refuses.
 */
export const launchChromium = async (): Promise<Browser> =>
  playwright.launch({
    executablePath: await chromium.executablePath(),
    args: [
      '--no-sandbox',
      '--headless=new',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
