import chromium from '@sparticuz/chromium'

/** Vitest global setup: unpack Chromium once, before any test file runs, so parallel browser tests never race to unpack it. */
export default async (): Promise<void> => {
  await chromium.executablePath()
}
