import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { bundlePlayground, playgroundAssets } from '../../scripts/playground.ts'
import { HEADERS, serve } from '../../scripts/browser.ts'
import { launchChromium } from '../support/chromium.ts'
import { watchedPage } from '../browser/watch.ts'

// What a learner reads on the playground's page, in a real headless Chromium: what "(kink)" in a
// gradient check means, a layer's problem said once in the numbering of its row, and the source
// the Step mode shows for a layer whose file only hands arrays to kernels.

let browser: Browser
let server: Server
let url = ''

beforeAll(async () => {
  const [b, js] = await Promise.all([launchChromium(), bundlePlayground()])
  browser = b
  server = await serve(playgroundAssets(js), 0, HEADERS)
  url = `http://localhost:${(server.address() as AddressInfo).port}/`
})

afterAll(async () => {
  await browser?.close()
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())))
})

/** Opens the page at a query and waits until it has asked for its threads. */
const open = async (page: Page, query: string): Promise<void> => {
  await page.goto(`${url}${query}`)
  await page.waitForFunction(() => window.__playground?.['threads'] !== undefined)
}

/** The Step mode at a stage, by its title. */
const stage = async (page: Page, title: string): Promise<void> => {
  await page.getByRole('button', { name: title, exact: true }).click()
  await expect.poll(() => page.textContent('#stage-title')).toBe(title)
}

describe('the playground as a learner reads it', () => {
  test('a gradient check row marked (kink) is explained under its table: what a kink is, and the one-sided differences its error uses', async () => {
    const { page, problems } = await watchedPage(browser, 420)
    await open(page, '?data=mnist&n=64&test=10&mode=step')
    await stage(page, 'backward: maxPool2d 1 (2×2)') // relu's zeros tie in many windows
    const rows = await page.locator('.stage table tbody tr').allTextContents()
    const marked = rows.filter((r) => r.includes('(kink)'))
    expect(marked.length).toBeGreaterThan(0)
    const note = page.locator('#kink-note')
    expect(await note.isVisible()).toBe(true)
    const text = (await note.textContent()) ?? ''
    expect(text).toContain('no derivative')
    expect(text).toContain('is not the derivative there')
    expect(text).toContain('(φ(θ) − φ(θ − h))/h')
    // one line per marked row, with its two one-sided slopes
    const lines = await note.locator('li').allTextContents()
    expect(lines.length).toBe(marked.length)
    for (const [i, line] of lines.entries()) {
      expect(marked[i]!.startsWith(line.split(':')[0]!)).toBe(true)
      expect(line).toMatch(/left .+, right .+: the vjp gave .+, nearer the (left|right) \(error .+\)/)
    }
    // the note is in the page's flow, under the table: nothing to hover
    const [table, below] = await Promise.all([page.locator('.stage table').boundingBox(), note.boundingBox()])
    expect(below!.y).toBeGreaterThan(table!.y + table!.height - 1)
    // a stage whose check has no kink has no note
    await stage(page, 'backward: dense 1 (1352→10)')
    expect(await page.locator('#kink-note').count()).toBe(0)
    expect(problems).toEqual([])
    await page.close()
  })

  test('a gradient check says what φ and its error are, and its four columns fit a phone without scrolling sideways', async () => {
    const { page, problems } = await watchedPage(browser, 420)
    await open(page, '?data=mnist&n=64&test=10&mode=step')
    for (const title of ['backward: relu 1', 'backward: dense 1 (1352→10)']) {
      await stage(page, title)
      const what = (await page.locator('#check-what').textContent())!.replace(/\s+/g, ' ')
      expect(what).toContain('φ = Σ dy ⊙ y')
      expect(what).toContain('∂φ/∂x = dx')
      expect(what).toContain('The error is |analytic − numeric| / max(1, |analytic|, |numeric|)')
      const [scroll, client] = await page.locator('.stage .table-wrap').evaluate((w) => [w.scrollWidth, w.clientWidth])
      expect(scroll, title).toBeLessThanOrEqual(client!)
    }
    expect(problems).toEqual([])
    await page.close()
  })

  test('the training history says what its per-step and per-epoch points measure, and how they differ from the line at the top', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, '?epochs=3&mode=train')
    await page.getByRole('button', { name: 'Train' }).click()
    await page.waitForFunction(() => (window.__playground?.['train'] as { kind?: string } | undefined)?.kind === 'done', undefined, {
      timeout: 60_000,
    })
    expect(await page.textContent('#train-status')).toContain('training accuracy')
    const note = (await page.locator('#history-note').textContent())!.replace(/\s+/g, ' ')
    expect(note).toContain("Per step: the loss and accuracy on that step's batch")
    expect(note).toContain("Per epoch: their mean over the epoch's examples")
    expect(note).toContain('the line at the top measures the params it ended with on every training example')
    expect(problems).toEqual([])
    await page.close()
  })

  test('the loss stage shows the target’s class labels as labels: each example’s class and one-hot row, no colour scale', async () => {
    const { page, problems } = await watchedPage(browser)
    for (const [query, title] of [
      ['?data=spiral&mode=step', 'loss: softmaxCrossEntropy'],
      ['?data=spiral&loss=mse&mode=step', 'loss: mse'],
    ] as const) {
      await open(page, query)
      await stage(page, title)
      const exposedTarget = await page.evaluate(
        () => (window.__playground?.['step'] as { stage: { target: { shape: number[]; data: number[] } } }).stage.target,
      )
      const n = exposedTarget.shape[0]!
      const classes =
        exposedTarget.shape.length === 1
          ? exposedTarget.data
          : Array.from({ length: n }, (_, i) => exposedTarget.data.slice(3 * i, 3 * i + 3).indexOf(1))
      const table = page.getByRole('table', { name: /^target, shape/ })
      expect(await table.evaluate((t) => t.tagName)).toBe('TABLE')
      const rows = table.locator('tbody tr')
      expect(await rows.count()).toBe(Math.min(8, n))
      for (let i = 0; i < Math.min(8, n); i++) {
        const cells = await rows.nth(i).locator('th, td').allTextContents()
        expect(cells, `${title} row ${i}`).toEqual([String(classes[i]), ...[0, 1, 2].map((k) => (k === classes[i] ? '1' : '0'))])
      }
      // labels are not magnitudes: no cell of the target is painted on a colour scale
      const painted = await table
        .locator('td, th')
        .evaluateAll((cells) => cells.filter((c) => (c as HTMLElement).style.background !== '').length)
      expect(painted).toBe(0)
      expect(await page.locator('section.stage [role="table"][aria-label^="target"]').count()).toBe(0)
    }
    expect(problems).toEqual([])
    await page.close()
  })

  test('every checked value is found, outlined, in dx and dW to 4 digits; its analytic and numeric show the digit where they part', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, '?data=spiral&mode=step')
    await stage(page, 'backward: dense 2 (16→16)')
    type Row = { where: string; index: number[]; analytic: number; numeric: number }
    const rows = await page.evaluate(() => (window.__playground?.['step'] as { stage: { check: Row[] } }).stage.check)
    const shown = await page
      .locator('.stage table tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')))
    expect(shown.length).toBe(rows.length)
    let found = 0
    for (const [i, r] of rows.entries()) {
      const [, analytic, numeric] = shown[i]!
      // the two columns read differently where the values differ in their first 10 digits, and each is its value
      if (r.analytic.toPrecision(10) !== r.numeric.toPrecision(10)) expect(analytic, `row ${i}`).not.toBe(numeric)
      expect(Number(analytic)).toBeCloseTo(r.analytic, 5)
      expect(Number(numeric)).toBeCloseTo(r.numeric, 5)
      // the checked coordinate's cell in its matrix, numbered and outlined even past the top-left 8 rows and 10 columns
      const name = r.where === 'dx' ? 'dx (out)' : `d${r.where}`
      const cell = page
        .getByRole('table', { name: new RegExp(`^${name.replace(/[()]/g, '\\$&')}, shape`) })
        .locator(`[role="cell"][title^="[${r.index.join(', ')}] = "]`)
      expect(await cell.count(), `${r.where}[${r.index.join(', ')}]`).toBe(1)
      expect(Number(await cell.textContent()), `${r.where}[${r.index.join(', ')}]`).toBe(Number(r.analytic.toPrecision(4)))
      expect(await cell.getAttribute('class')).toBe('marked')
      found++
    }
    expect(found).toBe(rows.length)
    expect(problems).toEqual([])
    await page.close()
  })

  test('the chain rule at a checked coordinate is written out: dx[n, i] = Σⱼ dy[n, j] · W[i, j], each factor found on the page', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, '?data=spiral&mode=step')
    await stage(page, 'backward: dense 2 (16→16)')
    const first = page.locator('#chain-rule details').first()
    expect(await first.getAttribute('open')).not.toBeNull()
    const summary = (await first.locator('summary').textContent()) ?? ''
    const [, n, i] = /^dx\[(\d+), (\d+)\] = Σₖ dy\[k\] · ∂y\[k\]\/∂x\[\d+, \d+\]: 16 terms$/.exec(summary) ?? []
    expect(n, summary).toBeDefined()
    const lines = await first.locator('li.mono').allTextContents()
    expect(lines.at(-1)).toMatch(/^sum of all 16: /)
    const terms = lines.slice(0, -1)
    expect(terms.length).toBe(6) // the six largest of dense 2's 16 outputs in row n
    const cellOf = async (table: string, at: string): Promise<number> =>
      Number(
        await page
          .getByRole('table', { name: new RegExp(`^${table.replace(/[()]/g, '\\$&')}, shape`) })
          .locator(`[role="cell"][title^="[${at}] = "]`)
          .first()
          .getAttribute('title')
          .then((t) => t!.split(' = ')[1]),
      )
    const parsed = terms.map((t) => {
      const m = /^dy\[(\d+), (\d+)\] · ∂y\[\1, \2\]\/∂x\[(\d+), (\d+)\] = (\S+) × (\S+) = (\S+)$/.exec(t)
      expect(m, t).not.toBeNull()
      expect(m![1]).toBe(n) // y[n, j] alone depends on x[n, i]
      return { j: m![2]!, dy: Number(m![5]), local: Number(m![6]), product: Number(m![7]) }
    })
    for (const t of parsed) {
      expect(Number(t.product.toPrecision(3))).toBe(Number((t.dy * t.local).toPrecision(3)))
      expect(t.dy).toBe(Number((await cellOf('dy (in)', `${n}, ${t.j}`)).toPrecision(4)))
    }
    // dy is a table to a screen reader: row by row, each cell in a row, the rows and columns numbered by their headers
    const dy = page.getByRole('table', { name: /^dy \(in\), shape/ })
    expect(await dy.locator('[role="cell"]:not([role="row"] > *)').count()).toBe(0)
    expect(await dy.getByRole('columnheader').allTextContents()).toEqual(expect.arrayContaining(['0', '1', '9']))
    expect(await dy.getByRole('rowheader').count()).toBe((await dy.getByRole('row').count()) - 1)
    // ∂y[n, j]/∂x[n, i] is W[i, j], as the forward stage shows W
    await stage(page, 'forward: dense 2 (16→16)')
    for (const t of parsed) expect(t.local).toBeCloseTo(Number((await cellOf('W', `${i}, ${t.j}`)).toPrecision(4)), 3)
    expect(problems).toEqual([])
    await page.close()
  })

  test('the loss stage works the first example’s gradient by hand, (softmax(z) − onehot(y))/N, each factor found in its tables', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, '?data=spiral&mode=step')
    await stage(page, 'loss: softmaxCrossEntropy')
    const cell = async (table: string, at: string): Promise<number> =>
      Number(
        await page
          .getByRole('table', { name: new RegExp(`^${table.replace(/[()]/g, '\\$&')}, shape`) })
          .locator(`[role="cell"][title^="[${at}] = "]`)
          .textContent(),
      )
    const target = Number((await page.locator('.stage table tbody tr').first().locator('th, td').first().textContent()) ?? '')
    const lines = await page.locator('#loss-by-hand li').allTextContents()
    expect(lines.length).toBe(3)
    for (const [c, line] of lines.entries()) {
      const m = /^∂L\/∂z\[0, (\d)\] = \(softmax\(z\)\[0, \1\] − onehot\(y\)\[0, \1\]\) \/ 32 = \((\S+) − ([01])\) \/ 32 = (\S+)$/.exec(line)
      expect(m, line).not.toBeNull()
      expect(Number(m![1])).toBe(c)
      expect(Number(m![2])).toBe(await cell('softmax(z): the prediction as probabilities', `0, ${c}`))
      expect(Number(m![3])).toBe(c === target ? 1 : 0)
      expect(Number(m![4])).toBe(await cell('∂loss/∂prediction', `0, ${c}`))
      expect(Number(m![4])).toBeCloseTo((Number(m![2]) - Number(m![3])) / 32, 5)
    }
    expect(problems).toEqual([])
    await page.close()
  })

  test('a step that cannot be taken (its loss goes non-finite) leaves the steps before it to read, and says which and why', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, '?data=spiral&opt=sgd&lr=1e200&epochs=5&mode=step&step=3&stage=loss')
    await expect.poll(() => page.locator('#view-note').textContent()).toContain('Step 2 of the run cannot be taken, so this is step 1')
    expect(await page.textContent('#view-note')).toContain('the loss became non-finite')
    expect(await page.textContent('#view-note')).toContain('the learning rate, 1e+200, is most likely too large for this network')
    expect(await page.evaluate(() => (window.__playground?.['step'] as { step: number }).step)).toBe(0)
    expect(await page.textContent('#stage-title')).toBe('loss: softmaxCrossEntropy')
    expect(await page.getByRole('button', { name: 'take the next step' }).isDisabled()).toBe(true)
    expect(problems).toEqual([])
    await page.close()
  })

  test('each stage says where its input comes from: x is the y of the stage before, dy the dx the layer above handed down', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, '?data=spiral&mode=step')
    const said = async (title: string): Promise<string> => {
      await stage(page, title)
      return (await page.textContent('#link-before')) ?? ''
    }
    expect(await said('forward: dense 1 (2→16)')).toBe('x is the batch of data.')
    expect(await said('forward: relu 2')).toBe('x is the y of dense 2 (16→16), the stage before.')
    expect(await said('backward: dense 3 (16→3)')).toContain('dy is ∂loss/∂prediction, from the loss stage')
    expect(await said('backward: relu 2')).toContain('dy is the dx that dense 3 (16→3) handed down, the stage before')
    expect(problems).toEqual([])
    await page.close()
  })

  test('the update stage works one coordinate by hand, p ← p − lr·g, each number found, outlined, in its tables', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, '?data=xor&net=dense:4,tanh,dense:2&opt=sgd&lr=0.1&bs=16&seed=3&mode=step&stage=update')
    await expect
      .poll(() => page.locator('#update-by-hand h3').textContent())
      .toMatch(/^one coordinate by hand: dense 1 \(2→4\) W\[\d, \d\]$/)
    const at = /W\[(\d, \d)\]$/.exec((await page.textContent('#update-by-hand h3'))!)![1]!
    const cell = page.getByRole('table', { name: /^dense 1 \(2→4\) W: gradient, shape/ }).locator(`[role="cell"][title^="[${at}] = "]`)
    expect(await cell.getAttribute('class')).toBe('marked')
    const lines = await page.locator('#update-by-hand li').allTextContents()
    const [, g, p, lr] = /^g = (\S+), p = (\S+), lr = (\S+)$/.exec(lines[0]!)!
    const [, p2, lr2, g2, after] = /^p ← p − lr·g = (\S+) − (\S+) × (\S+) = (\S+)$/.exec(lines[1]!)!
    expect([p2, lr2, g2]).toEqual([p, lr, g])
    expect(Number(lr)).toBe(0.1)
    const shown = async (what: string): Promise<number> =>
      Number(
        await page
          .getByRole('table', { name: new RegExp(`^dense 1 \\(2→4\\) W: ${what}, shape`) })
          .locator(`[role="cell"][title^="[${at}] = "]`)
          .textContent(),
      )
    expect(Number(g)).toBe(await shown('gradient'))
    expect(Number(p)).toBe(await shown('before'))
    expect(Number(after)).toBe(await shown('after'))
    expect(Number(after)).toBeCloseTo(Number(p) - 0.1 * Number(g), 3)
    expect(problems).toEqual([])
    await page.close()
  })

  test('every number in a stage’s matrices is shown whole, at 1280 and at 420 px', async () => {
    for (const width of [1280, 420]) {
      const { page, problems } = await watchedPage(browser, width)
      for (const [query, titles] of [
        ['?data=spiral&mode=step', ['forward: dense 2 (16→16)', 'loss: softmaxCrossEntropy', 'backward: dense 2 (16→16)', 'update: adam']],
        ['?data=mnist&n=64&test=10&mode=step', ['forward: conv2d 1 (1→8, 3×3)', 'backward: dense 1 (1352→10)', 'update: adam']],
      ] as const)
        for (const title of titles) {
          if (title === titles[0]) await open(page, query)
          await stage(page, title)
          const cut = await page
            .locator('section.stage [role="cell"]')
            .evaluateAll((cells) => cells.filter((c) => c.scrollWidth > c.clientWidth).map((c) => c.textContent))
          expect(cut, `${title} at ${width} px`).toEqual([])
        }
      expect(problems).toEqual([])
      await page.close()
    }
  })

  test('max-pool’s tape shows its argmax as indices into x: plain whole numbers, no picture and no colour scale', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, '?data=mnist&n=64&test=10&mode=step')
    await stage(page, 'forward: maxPool2d 1 (2×2)')
    const table = page.getByRole('table', { name: /^tape\.argmax: indices into x, shape/ })
    const cells = await table
      .locator('[role="cell"]')
      .evaluateAll((cs) => cs.map((c) => [c.textContent ?? '', (c as HTMLElement).style.background]))
    expect(cells.length).toBe(64)
    for (const [text, background] of cells) {
      expect(text).toMatch(/^\d+$/)
      expect(background).toBe('')
    }
    expect(await page.locator('section.stage figure[aria-label^="tape.argmax"]').count()).toBe(0)
    expect(problems).toEqual([])
    await page.close()
  })

  test('a shared link that cannot run, opened in Step or Train, says what is wrong there and leads to Build', async () => {
    const { page, problems } = await watchedPage(browser)
    for (const mode of ['step', 'train']) {
      await open(page, `?data=spiral&classes=5&mode=${mode}`)
      const panel = page.locator(`#panel-${mode}`)
      await expect.poll(() => panel.textContent()).toContain('spiral has 5 classes: end with a dense of 5')
      expect(await panel.textContent()).toContain('cannot run until its problem is fixed in Build')
      await panel.getByRole('button', { name: 'fix it in Build' }).click()
      await expect.poll(() => page.getByRole('tab', { name: 'Build' }).getAttribute('aria-selected')).toBe('true')
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-build')
    }
    expect(problems).toEqual([])
    await page.close()
  })

  test('a backward stage shows the tape its vjp reads: dropout’s mask beside dy and dx', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, '?data=xor&net=dense:6,elu,dropout:0.4,dense:2&mode=step')
    await stage(page, 'backward: dropout 1 (p = 0.4)')
    const headings = await page.locator('.stage h3').allTextContents()
    expect(headings).toEqual(
      expect.arrayContaining(['dy (in)', 'dx (out)', 'its tape, kept by its forward: what the vjp reads', 'tape.mask']),
    )
    expect(problems).toEqual([])
    await page.close()
  })

  test('at a small learning rate before and after read alike and the change (after − before) shows the update; so for batchNorm’s statistics', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, '?data=xor&net=dense:4,tanh,dense:2&opt=sgd&mom=0&lr=0.0001&mode=step')
    await stage(page, 'update: sgd')
    const cells = (name: string): Promise<string[]> =>
      page
        .getByRole('table', { name: new RegExp(`^${name.replace(/[()]/g, '\\$&')}, shape`) })
        .locator('[role="cell"]')
        .allTextContents()
    const W = 'dense 1 (2→4) W'
    expect(await cells(`${W}: after`)).toEqual(await cells(`${W}: before`)) // the misleading view: nothing seems to change
    const change = await cells(`${W}: change`)
    expect(change.some((c) => c !== '0')).toBe(true)
    // batchNorm's running variance moves by (1 − momentum) of the batch's: its 4 digits show it moving, and its change says by how much
    await open(page, '?data=xor&net=dense:6,batchNorm,elu,dropout:0.4,dense:5,leakyRelu:0.1,dense:2&mode=step')
    await stage(page, 'forward: batchNorm 1')
    expect(await cells('state after: variance')).not.toEqual(await cells('state before: variance'))
    expect((await cells('state change (after − before): variance')).some((c) => c !== '0')).toBe(true)
    expect(problems).toEqual([])
    await page.close()
  })

  test('an emptied box in a layer row: the problem is said once, in the row’s own numbering, under the row, and the box points to it', async () => {
    const { page, problems } = await watchedPage(browser, 420)
    await open(page, '?data=spiral')
    const units = page.getByLabel('dense 2 units', { exact: true })
    await units.fill('')
    const row = page.locator('ol.layers > li').nth(2)
    await expect.poll(() => row.locator('.problems').textContent()).toContain('units must be')
    const body = (await page.locator('body').innerText()).replace(/\s+/g, ' ')
    expect(body).toContain('dense 2: units must be an integer from 1 to 1024 (the playground limit), got nothing')
    expect(body.split('units must be').length - 1).toBe(1)
    expect(body).not.toContain('needs a number')
    expect(body).not.toMatch(/layer \d/) // no second numbering, in the messages or in "add it at"
    expect(await page.getByLabel('add it at').locator('option').allTextContents()).toEqual([
      'before dense 1',
      'before relu 1',
      'before dense 2',
      'before relu 2',
      'before dense 3',
      'the end',
    ])
    expect(await units.getAttribute('aria-invalid')).toBe('true')
    const described = await units.getAttribute('aria-describedby')
    expect(await page.locator(`[id="${described}"]`).textContent()).toContain('dense 2: units must be')
    // the message has the row's width, not a squeezed column: at least as wide as the row's controls
    const [message, controls] = await Promise.all([row.locator('.problems').boundingBox(), row.locator('.row').first().boundingBox()])
    expect(message!.width).toBeGreaterThanOrEqual(controls!.width)
    await units.fill('16')
    await expect.poll(() => row.locator('.problems').count()).toBe(0)
    expect(await units.getAttribute('aria-invalid')).toBeNull()
    expect(problems).toEqual([])
    await page.close()
  })

  test('the vjp shown for maxPool2d and conv2d is the reference kernel’s loops, and the page says where it comes from', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, '?data=mnist&n=64&test=10&mode=step')
    for (const [title, kernels, names] of [
      ['backward: maxPool2d 1 (2×2)', 'src/kernels/pool.ts', ['maxPoolBackwardNaive']],
      ['backward: conv2d 1 (1→8, 3×3)', 'src/kernels/conv.ts', ['naiveInputGrad', 'naiveKernelGrad', 'convBiasGrad']],
    ] as const) {
      await stage(page, title)
      const source = page.locator('.stage details').first()
      expect(await source.locator('summary').textContent()).toContain(kernels)
      const code = (await source.locator('pre').allTextContents()).join('\n')
      for (const name of names) expect(code).toContain(`${name}`)
      expect(code).not.toMatch(/float32Of|buffer32/)
      expect(await source.locator('p').textContent()).toContain("Kernels.use('reference')")
    }
    expect(problems).toEqual([])
    await page.close()
  })
})
