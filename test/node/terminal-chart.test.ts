import { describe, expect, test } from 'vitest'
import { lineChart, lossCurve } from '../../src/node/terminal-chart.ts'

/** The dot rows of a braille chart: which dots (x, y) are set, from the characters. */
const dotsOf = (rows: readonly string[]): Set<string> => {
  const bits = [
    [0x01, 0x08],
    [0x02, 0x10],
    [0x04, 0x20],
    [0x40, 0x80],
  ]
  const set = new Set<string>()
  rows.forEach((row, r) => {
    ;[...row].forEach((ch, c) => {
      const code = ch.codePointAt(0)! - 0x2800
      if (code <= 0 || code > 0xff) return
      bits.forEach((pair, i) => pair.forEach((b, j) => code & b && set.add(`${2 * c + j},${4 * r + i}`)))
    })
  })
  return set
}

describe('lineChart: a braille line chart in the terminal', () => {
  test('has the title, height rows, an x axis and labels; the plot is width characters wide', () => {
    const lines = lineChart([3, 2, 1], { width: 20, height: 6, title: 'falling', xLabel: 'step' }).split('\n')
    expect(lines[0]).toBe('falling')
    expect(lines).toHaveLength(1 + 6 + 2)
    expect(lines[1]).toMatch(/^ *3 ┤/)
    expect(lines[6]).toMatch(/^ *1 ┤/)
    expect(lines[7]).toBe(`     └${'─'.repeat(20)}`) // under the widest label, '2.17'
    expect(lines[8]).toMatch(/^ {6}1 +step +3$/)
    for (const l of lines.slice(1, 7)) expect([...l.slice(6)].length).toBeLessThanOrEqual(20)
  })
  test('a falling line runs from the top-left dot to the bottom-right dot, connected', () => {
    const lines = lineChart([10, 0], { width: 10, height: 3 }).split('\n')
    const dots = dotsOf(lines.slice(0, 3).map((l) => l.slice(l.search(/[┤│]/) + 1)))
    expect(dots.has('0,0')).toBe(true)
    expect(dots.has('19,11')).toBe(true)
    // connected: every dot column 0..19 has a dot
    for (let x = 0; x < 20; x++) expect([...dots].some((d) => d.startsWith(`${x},`))).toBe(true)
  })
  test('long series are averaged per dot column; ascii charset draws stars', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i < 500 ? 1 : 0))
    const chart = lineChart(values, { width: 10, height: 4, charset: 'ascii' })
    expect(chart).toContain('*')
    expect(chart).not.toMatch(/[\u2800-\u28ff]/)
    const rows = chart
      .split('\n')
      .slice(0, 4)
      .map((l) => l.slice(l.search(/[┤│]/) + 1))
    expect(rows[0]!.slice(0, 5)).toBe('*****') // the first half is at the top
    expect(rows[3]!.slice(5, 10)).toBe('*****') // the second half at the bottom
  })
  test('log scale labels the real values; a series without positive values says so', () => {
    const chart = lineChart([100, 10, 1, 0.1], { width: 12, height: 5, log: true })
    expect(chart.split('\n')[0]).toMatch(/^ *100 ┤/)
    expect(chart.split('\n')[2]).toMatch(/^3\.16 ┤/) // the middle row: 10^0.5, halfway on a log axis
    expect(chart.split('\n')[4]).toMatch(/^ *0\.1 ┤/)
    expect(lineChart([0, -1], { log: true, title: 't' })).toContain('no positive finite values')
  })
})

describe('lossCurve', () => {
  test('draws the per-step loss of a history with its step range', () => {
    const steps = Array.from({ length: 300 }, (_, i) => ({ step: i + 1, epoch: 0, loss: 2 / (1 + i), accuracy: undefined }))
    const chart = lossCurve({ steps, epochs: [] })
    expect(chart.split('\n')[0]).toMatch(/^training loss per step \(each dot column: the mean of 3 steps\); last step 0\.00667$/)
    expect(chart.split('\n').at(-1)).toMatch(/1 +step +300$/)
    expect(lossCurve({ steps: [], epochs: [] })).toContain('no steps')
  })
})
