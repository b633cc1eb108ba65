/**
 * Builds the package into dist/: tsc emits JavaScript, declarations, declaration maps and
 * source maps for src/ and laws/ (tsconfig.build.json), then the relative imports of the
 * declarations are given the extension of the files that ship. tsc rewrites `./x.ts` to
 * `./x.js` in the JavaScript but keeps `./x.ts` in the declarations; TypeScript reads either,
 * other tools reading .d.ts files expect `.js`. The swap keeps every line's length, so the
 * declaration maps stay exact.
 *
 *   npm run build     (also run by `npm pack` and `npm publish`, through `prepack`)
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')

/** `from './a.ts'`, `import('../b.ts')`: a relative specifier ending in .ts, in either quotes. */
const RELATIVE_TS = /((?:from|import)\s*\(?\s*)(['"])(\.\.?\/[^'"]*)\.ts\2/g

/** A declaration file's text with its relative `.ts` imports pointing at `.js` (doc comment lines, examples included, left as written). */
export const jsSpecifiers = (text: string): string =>
  text
    .split('\n')
    .map((line) => (/^\s*(\*|\/\/|\/\*)/.test(line) ? line : line.replace(RELATIVE_TS, '$1$2$3.js$2')))
    .join('\n')

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]))

rmSync(dist, { recursive: true, force: true })
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
})
let rewritten = 0
for (const file of files(dist).filter((f) => f.endsWith('.d.ts'))) {
  const text = readFileSync(file, 'utf8')
  const fixed = jsSpecifiers(text)
  if (fixed !== text) {
    writeFileSync(file, fixed)
    rewritten++
  }
}
console.log(`build: dist/ written; relative imports of ${rewritten} declaration files point at .js`)
