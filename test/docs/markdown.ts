/**
 * The fenced code blocks of a Markdown file, for the docs tests.
 *
 * A block's info string is its language and then words: ```ts run, ```ts check,
 * ```ts quote=src/layers/pipe.ts. Only ``` fences are read (up to three spaces of indentation,
 * as inside a list item); the content is dedented by the fence's own indentation.
 */

/** One fenced block: where it is, what its info string says, and its lines. */
export interface Block {
  /** The Markdown file, relative to the repository. */
  readonly file: string
  /** 1-based line of the block's first content line. */
  readonly line: number
  readonly lang: string
  /** The words after the language: `run`, `check`, `quote=path`. */
  readonly attrs: readonly string[]
  /** The nearest heading above the block (without its #s), '' if none. */
  readonly heading: string
  readonly lines: readonly string[]
}

/** The fenced code blocks of `text`, in order. Throws on a fence that is never closed. */
export const codeBlocks = (file: string, text: string): Block[] => {
  const lines = text.split('\n')
  const blocks: Block[] = []
  let heading = ''
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})```(.*)$/.exec(lines[i]!)
    if (open === null) {
      const h = /^#{1,6}\s+(.*)$/.exec(lines[i]!)
      if (h !== null) heading = h[1]!.trim()
      continue
    }
    const indent = open[1]!.length
    const [lang = '', ...attrs] = open[2]!
      .trim()
      .split(/\s+/)
      .filter((w) => w !== '')
    const body: string[] = []
    let j = i + 1
    while (j < lines.length && !/^ {0,3}```\s*$/.test(lines[j]!)) body.push(lines[j++]!)
    if (j === lines.length) throw new Error(`${file}:${i + 1}: a code fence is opened and never closed`)
    blocks.push({
      file,
      line: i + 2,
      lang,
      attrs,
      heading,
      lines: body.map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))),
    })
    i = j
  }
  return blocks
}

/** The lines with their common leading indentation removed (blank lines ignored for the measure) and trailing spaces cut. */
export const dedent = (lines: readonly string[]): string[] => {
  const indents = lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length)
  const cut = indents.length === 0 ? 0 : Math.min(...indents)
  return lines.map((l) => l.slice(Math.min(cut, l.length)).trimEnd())
}

/** True when `quote` appears in `source` as consecutive whole lines, the same up to a common leading indentation. */
export const quotedIn = (quote: readonly string[], source: string): boolean => {
  const want = dedent(quote)
  const lines = source.split('\n')
  for (let start = 0; start + want.length <= lines.length; start++) {
    if (lines[start]!.trim() !== want[0]!.trim()) continue
    const window = dedent(lines.slice(start, start + want.length))
    if (window.every((l, k) => l === want[k])) return true
  }
  return false
}
