/**
 * Where JSON text stops being JSON, found by a small scanner that runs only after JSON.parse has
 * failed: parsers differ in how (and whether) they report the place, and a checkpoint cut off
 * mid-write should say so. The scanner walks the grammar (RFC 8259) without building anything, with an
 * explicit stack, so deep nesting costs no recursion.
 */

/** The first place the text is not JSON: its index (`text.length` when the text ends too soon) and what could have come there. */
export interface JsonSyntaxError {
  readonly at: number
  readonly expected: string
  /** True when the text is a prefix of JSON (nothing wrong but its end): cut off. */
  readonly truncated: boolean
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r'])
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't'])
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9'

/** The end of the number starting at `i` (-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?), or the first character that cannot continue it. */
const numberEnd = (s: string, i: number): number | JsonSyntaxError => {
  const missing = (k: number): JsonSyntaxError => ({ at: k, expected: 'a digit', truncated: k >= s.length })
  let k = s[i] === '-' ? i + 1 : i
  if (s[k] === '0') k++
  else if (isDigit(s[k])) while (isDigit(s[k])) k++
  else return missing(k)
  if (s[k] === '.') {
    if (!isDigit(s[++k])) return missing(k)
    while (isDigit(s[k])) k++
  }
  if (s[k] === 'e' || s[k] === 'E') {
    if (s[++k] === '+' || s[k] === '-') k++
    if (!isDigit(s[k])) return missing(k)
    while (isDigit(s[k])) k++
  }
  return k
}

/** The end of the string starting at `i` (a '"'), or the place it goes wrong. */
const stringEnd = (s: string, i: number): number | JsonSyntaxError => {
  for (let k = i + 1; k < s.length; k++) {
    const c = s[k]!
    if (c === '"') return k + 1
    if (c < ' ') return { at: k, expected: 'a closing quote (a control character must be escaped)', truncated: false }
    if (c === '\\') {
      const e = s[k + 1]
      if (e === undefined) break
      if (e === 'u') {
        for (let h = k + 2; h < k + 6; h++) {
          if (h >= s.length) return { at: s.length, expected: 'four hex digits', truncated: true }
          if (!/[0-9a-fA-F]/.test(s[h]!)) return { at: h, expected: 'four hex digits', truncated: false }
        }
        k += 5
      } else if (ESCAPES.has(e)) k++
      else return { at: k + 1, expected: 'an escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)', truncated: false }
    }
  }
  return { at: s.length, expected: 'a closing quote', truncated: true }
}

/** The end of the scalar (string, number, true, false, null) starting at `i`, or the place it goes wrong. */
const scalarEnd = (s: string, i: number): number | JsonSyntaxError => {
  const c = s[i]!
  if (c === '"') return stringEnd(s, i)
  if (c === '-' || isDigit(c)) return numberEnd(s, i)
  const word = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : undefined
  if (word === undefined) return { at: i, expected: 'a value (an object, array, string, number, true, false or null)', truncated: false }
  let k = i
  while (k < i + word.length && s[k] === word[k - i]) k++
  return k === i + word.length ? k : { at: k, expected: word, truncated: k >= s.length }
}

/**
 * The first syntax error of a text JSON.parse rejected, or undefined if the scanner finds none.
 * @example jsonSyntaxError('{"a": [1, 2') // { at: 11, expected: "',' or ']'", truncated: true }
 */
export const jsonSyntaxError = (s: string): JsonSyntaxError | undefined => {
  const stack: string[] = [] // the open brackets, '[' or '{'
  let want: 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'after' = 'value'
  const expected = (): string => {
    if (want === 'value') return 'a value'
    if (want === 'value-or-close') return "a value or ']'"
    if (want === 'key') return 'a property name in double quotes'
    if (want === 'key-or-close') return "a property name in double quotes or '}'"
    if (want === 'colon') return "':'"
    return stack.length === 0 ? 'the end of the text' : `',' or '${stack[stack.length - 1] === '[' ? ']' : '}'}'`
  }
  let i = 0
  for (;;) {
    while (i < s.length && WHITESPACE.has(s[i]!)) i++
    if (i >= s.length) return want === 'after' && stack.length === 0 ? undefined : { at: s.length, expected: expected(), truncated: true }
    const c = s[i]!
    if (want === 'after') {
      const close = stack[stack.length - 1] === '[' ? ']' : '}'
      if (stack.length > 0 && c === ',') want = close === ']' ? 'value' : 'key'
      else if (stack.length > 0 && c === close) stack.pop()
      else return { at: i, expected: expected(), truncated: false }
      i++
    } else if (want === 'colon') {
      if (c !== ':') return { at: i, expected: expected(), truncated: false }
      want = 'value'
      i++
    } else if ((want === 'value-or-close' && c === ']') || (want === 'key-or-close' && c === '}')) {
      stack.pop()
      want = 'after'
      i++
    } else if (want === 'key' || want === 'key-or-close') {
      if (c !== '"') return { at: i, expected: expected(), truncated: false }
      const end = stringEnd(s, i)
      if (typeof end !== 'number') return end
      want = 'colon'
      i = end
    } else if (c === '[' || c === '{') {
      stack.push(c)
      want = c === '[' ? 'value-or-close' : 'key-or-close'
      i++
    } else {
      const end = scalarEnd(s, i)
      if (typeof end !== 'number') return end
      want = 'after'
      i = end
    }
  }
}

/** The 1-based line and column of index `at` in the text (lines end at '\n'). */
export const lineAndColumn = (s: string, at: number): { readonly line: number; readonly column: number } => {
  let line = 1
  let start = 0
  for (let k = s.indexOf('\n'); k !== -1 && k < at; k = s.indexOf('\n', k + 1)) {
    line++
    start = k + 1
  }
  return { line, column: at - start + 1 }
}
