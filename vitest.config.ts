import { defineConfig } from 'vitest/config'

export default defineConfig({
  // tsconfig.json's paths: `chainrule`, `chainrule/laws` and `chainrule/node` are the sources in src/ and laws/
  resolve: { tsconfigPaths: true },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/unpack-chromium.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
})
