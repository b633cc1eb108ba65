import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { mkdirSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { Data, Key, L, Loss, Optim, Train, Tree, type Tensor } from 'chainrule'
import { bundlePlayground, playgroundAssets } from '../../scripts/playground.ts'
import { HEADERS, PLAIN_HEADERS, serve } from '../../scripts/browser.ts'
import { launchChromium } from '../support/chromium.ts'
import { sidewaysOverflow, watchedPage } from './watch.ts'

// The backprop playground (`npm run playground`) in a real headless Chromium: served with the
// isolation headers and without; built from its controls and compared with the same L.pipe in
// Node; shared by its address; trained; laid out at 1280 and 420 px. Screenshots of each mode go
// to .playground-shots/.

const SHOTS = '.playground-shots'

let browser: Browser
let isolated: Server
let plain: Server
let url = ''
let plainUrl = ''

const address = (s: Server): string => `http://localhost:${(s.address() as AddressInfo).port}/`

beforeAll(async () => {
  const [b, js] = await Promise.all([launchChromium(), bundlePlayground()])
  browser = b
  isolated = await serve(playgroundAssets(js), 0, HEADERS)
  plain = await serve(playgroundAssets(js), 0, PLAIN_HEADERS)
  url = address(isolated)
  plainUrl = address(plain)
  mkdirSync(SHOTS, { recursive: true })
})

afterAll(async () => {
  await browser?.close()
  for (const s of [isolated, plain]) await new Promise<void>((resolve) => (s === undefined ? resolve() : s.close(() => resolve())))
})

/** What the page exposes to tests (window.__playground). */
type Exposed = Record<string, unknown>
const exposed = (page: Page): Promise<Exposed> => page.evaluate(() => JSON.parse(JSON.stringify(window.__playground ?? {})) as Exposed)

/** A tensor as the page exposes it. */
type TensorJson = { shape: number[]; data: number[] }

/** A stage of the step as the page exposes it (see playground/ui/step.tsx). */
type StageJson = {
  title: string
  y?: TensorJson
  value?: number
  grad?: TensorJson
  dx?: TensorJson
  dp?: (TensorJson & { name: string })[]
  ok?: boolean
  params?: { name: string; after: TensorJson }[]
}

/** Opens the playground and waits until it has asked for its threads. */
const open = async (page: Page, at: string): Promise<void> => {
  await page.goto(at)
  await page.waitForFunction(() => window.__playground?.['threads'] !== undefined)
}

/** Each SVG chart's drawn width over the width it was drawn for (1: full size; 0.5: its text at half size). */
const chartScales = (page: Page): Promise<number[]> =>
  page.evaluate(() =>
    [...document.querySelectorAll('figure.chart svg')].map(
      (s) => s.getBoundingClientRect().width / (s as SVGSVGElement).viewBox.baseVal.width,
    ),
  )

/** How long a poll waits for a state the page reaches after training or drawing (a loaded machine takes seconds, not the default 1 s). */
const settles = { timeout: 15_000 }

/** Sets a number box by its label and commits it, as a person does (type, then Tab). */
const setNumber = async (page: Page, label: string, value: number): Promise<void> => {
  const box = page.getByLabel(label, { exact: true })
  await box.fill(String(value))
  await box.press('Tab')
}

describe('the playground in a real browser', () => {
  test('served with the isolation headers: loads with no console error and no failed request, cross-origin isolated, two threads', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, url)
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true)
    expect((await exposed(page))['threads']).toBe(2)
    expect(await page.textContent('#engine')).toContain('2 threads')
    await page.screenshot({ path: `${SHOTS}/build-1280.png`, fullPage: true })
    // every control has a name a screen reader says: a label, an aria-label, or its text
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, button')]
        .filter((el) => {
          const labels = (el as HTMLInputElement).labels
          return !(labels !== null && labels.length > 0) && !el.getAttribute('aria-label') && (el.textContent ?? '').trim() === ''
        })
        .map((el) => el.outerHTML),
    )
    expect(unnamed).toEqual([])
    // and a name that holds the words on the screen: an aria-label says at least its label's text
    const unlike = await page.evaluate(() => {
      // a label's own words, without the options of a select inside it
      const ownText = (l: Element): string => {
        const copy = l.cloneNode(true) as Element
        copy.querySelectorAll('select, input').forEach((c) => c.remove())
        return (copy.textContent ?? '').trim()
      }
      return [...document.querySelectorAll('input[aria-label], select[aria-label]')]
        .map((el) => [el.getAttribute('aria-label') ?? '', [...((el as HTMLInputElement).labels ?? [])].map(ownText).join(' ')])
        .filter(([aria, text]) => text !== '' && !aria!.includes(text!))
    })
    expect(unlike).toEqual([])
    expect(problems).toEqual([])
    await page.close()
  })

  test('served without them: not isolated, one thread, and it says why, with no error', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, plainUrl)
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(false)
    expect((await exposed(page))['threads']).toBe(1)
    expect(await page.textContent('#engine')).toContain('1 thread (')
    expect(problems).toEqual([])
    await page.close()
  })

  test('number boxes take a value as it is typed: an empty box is refused by name, a fixed box clears its problem, and a bad data setting does not hide a bad layer', async () => {
    const { page, problems } = await watchedPage(browser)
    const warnings: string[] = []
    page.on('console', (m) => void (m.type() === 'warning' && warnings.push(m.text())))
    await open(page, url)
    const examples = page.getByLabel('examples', { exact: true })
    await examples.fill('') // no Tab: the page takes what the box holds now
    await expect.poll(() => examples.getAttribute('aria-invalid')).toBe('true')
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('size must be an integer from 2 to 5000 (the playground limit), got nothing')
    expect(await examples.inputValue()).toBe('')
    expect(await page.textContent('#code')).toContain('fix the problems')
    const units = page.getByLabel('dense 1 units', { exact: true })
    await units.fill('0')
    await expect.poll(() => page.locator('ol.layers > li').first().textContent()).toContain('units')
    await units.fill('16')
    await expect.poll(() => page.locator('ol.layers .error').count()).toBe(0) // no stale problem while the box says 16
    await examples.fill('300')
    await expect.poll(async () => ((await exposed(page))['problems'] as unknown[]).length).toBe(0)
    expect(await examples.getAttribute('aria-invalid')).toBeNull()
    expect(warnings).toEqual([])
    expect(problems).toEqual([])
    await page.close()
  })

  test('a network built from the controls has the params of the same L.pipe initialised in Node with the same seed, bit for bit; its address rebuilds it', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, url)
    // spiral's network (dense 16, relu, dense 16, relu, dense 3) on xor, whose two classes resize the last dense
    await page.getByLabel('data set', { exact: true }).selectOption('xor')
    await setNumber(page, 'dense 1 units', 5)
    await setNumber(page, 'dense 2 units', 4)
    const replace = async (before: string, name: string, kind: string): Promise<void> => {
      await page.getByRole('button', { name: `remove ${name}` }).click()
      await page.getByLabel('add a layer of kind').selectOption(kind)
      await page.getByLabel('add it at').selectOption({ label: `before ${before}` })
      await page.getByRole('button', { name: 'add layer' }).click()
    }
    await replace('dense 2', 'relu 1', 'tanh')
    await replace('dense 3', 'relu 1', 'sigmoid') // the second relu is the first left
    await setNumber(page, 'network seed', 7)
    await expect.poll(async () => (await exposed(page))['config']).toMatchObject({ seed: 7, layers: { length: 5 } })
    const names = await page.locator('ol.layers > li').evaluateAll((lis) => lis.map((li) => li.getAttribute('aria-label')))
    expect(names).toEqual(['dense 1 (2→5)', 'tanh 1', 'dense 2 (5→4)', 'sigmoid 1', 'dense 3 (4→2)'])
    expect(await page.textContent('#code')).toContain('L.dense(5),')

    // the same network, written by hand in Node, initialised as Train.fit does with the key of seed 7
    const model = L.pipe(L.dense(5), L.tanh, L.dense(4), L.sigmoid, L.dense(2))
    const [initKey] = Key.split2(Key.fromSeed(7)) // fit: [initKey, dataKey] = split2(key), then initState(model, optimizer, initKey, inShape)
    const { params } = Train.initState(model, Optim.adam({ lr: 0.03 }), initKey, [2])
    const node = Tree.leavesWithPaths(params).map(({ path, leaf }) => ({
      path,
      shape: [...leaf.shape],
      data: [...leaf.data],
    }))
    const inPage = (await exposed(page))['initialParams']
    expect(inPage).toEqual(node)

    // the address the page wrote opens the same configuration and the same params in a new page
    const shared = page.url()
    expect(shared).toContain('seed=7')
    const again = await watchedPage(browser)
    await open(again.page, shared)
    const reopened = await exposed(again.page)
    expect(reopened['config']).toEqual((await exposed(page))['config'])
    expect(reopened['initialParams']).toEqual(node)
    expect(await again.page.textContent('#code')).toBe(await page.textContent('#code'))
    expect([...problems, ...again.problems]).toEqual([])
    await again.page.close()
    await page.close()
  })

  test('a full step-through, one arrow key per stage, shows the forward values, dx and dparams and the update that Node computes, bit for bit; so does the next step', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, `${url}?data=xor&net=dense:4,tanh,dense:2&opt=sgd&mom=0.9&lr=0.1&bs=16&epochs=60&seed=3&mode=step`)
    await page.waitForFunction(() => window.__playground?.['step'] !== undefined)

    // the same run in Node, with the library alone: xor's default data, the pipe, fit's keys and its first batch
    const data = Data.xor(Key.fromSeed(0), 200, { noise: 0.2 })
    const layers = [L.dense(4), L.tanh, L.dense(2)] as const
    const model = L.pipe(...layers)
    const optimizer = Optim.sgd({ lr: 0.1, momentum: 0.9 })
    const [initKey, dataKey] = Key.split2(Key.fromSeed(3))
    const ts = Train.initState(model, optimizer, initKey, [2])
    const batch = Data.batches(Key.foldIn(dataKey, 1), data, 16)[Symbol.iterator]().next().value!
    const ps = ts.params as unknown as Tree.Tree[]
    const ss = ts.state as unknown as Tree.Tree[]
    const ctx = { mode: 'train' as const, key: Key.split2(ts.key)[0] }
    const ys: Tensor[] = []
    const tapes: unknown[] = []
    let x = batch.x
    layers.forEach((layer, i) => {
      const { y, tape } = (layer as L.AnyLayer).forward(ps[i]!, ss[i]!, x, ctx)
      ys.push(y)
      tapes.push(tape)
      x = y
    })
    const { value, grad } = Loss.softmaxCrossEntropy(x, batch.y)
    const back: { dx: Tensor | undefined; dp: Tree.Tree }[] = []
    let dy = grad
    for (let i = layers.length - 1; i >= 0; i--) {
      const { dx, dp } = (layers[i] as L.AnyLayer).vjp(ps[i]!, tapes[i], dy)
      back[i] = { dx: i > 0 ? dx : undefined, dp }
      dy = dx
    }
    const [after] = Train.trainStep(model, Loss.softmaxCrossEntropy, optimizer)(ts, batch)
    const plain = (t: Tensor | undefined) => (t === undefined ? undefined : { shape: [...t.shape], data: [...t.data] })

    const titles: string[] = []
    for (let at = 0; ; at++) {
      const step = (await exposed(page))['step'] as { at: number; count: number; stage: StageJson }
      expect(step.at).toBe(at)
      const stage = step.stage
      expect(await page.textContent('#stage-title')).toBe(stage.title)
      titles.push(stage.title)
      if (at < 3) expect(stage.y).toEqual(plain(ys[at]))
      else if (at === 3) {
        expect(stage.value).toBe(value)
        expect(stage.grad).toEqual(plain(grad))
      } else if (at < 7) {
        const i = 6 - at
        expect(stage.ok).toBe(true) // the page's gradient check agrees
        expect(stage.dx).toEqual(plain(back[i]!.dx))
        const dps = Tree.leavesWithPaths(back[i]!.dp).map(({ leaf }) => plain(leaf))
        expect(stage.dp!.map((d) => ({ shape: d.shape, data: d.data }))).toEqual(dps)
      } else {
        const nodeAfter = Tree.leavesWithPaths(after.params).map(({ leaf }) => plain(leaf))
        expect(stage.params!.map((p) => p.after)).toEqual(nodeAfter)
      }
      if (at === step.count - 1) break
      await page.screenshot({ path: `${SHOTS}/step-${at + 1}.png`, fullPage: true })
      await page.keyboard.press('ArrowRight')
      await page.waitForFunction((n) => (window.__playground?.['step'] as { at: number }).at === n, at + 1)
    }
    await page.screenshot({ path: `${SHOTS}/step-update.png`, fullPage: true })
    expect(titles).toEqual([
      'forward: dense 1 (2→4)',
      'forward: tanh 1',
      'forward: dense 2 (4→2)',
      'loss: softmaxCrossEntropy',
      'backward: dense 2 (4→2)',
      'backward: tanh 1',
      'backward: dense 1 (2→4)',
      'update: sgd',
    ])
    await page.keyboard.press('ArrowLeft') // and back
    await page.waitForFunction(() => (window.__playground?.['step'] as { at: number }).at === 6)

    // the next step, on fit's second batch, starts where this one ended: its update is Node's second trainStep
    await page.getByRole('button', { name: 'next stage →' }).click()
    await page.getByRole('button', { name: 'take the next step' }).click()
    await page.waitForFunction(() => (window.__playground?.['step'] as { step: number }).step === 1)
    const batches = Data.batches(Key.foldIn(dataKey, 1), data, 16)[Symbol.iterator]()
    batches.next()
    const [after2] = Train.trainStep(model, Loss.softmaxCrossEntropy, optimizer)(after, batches.next().value!)
    const second = ((await exposed(page))['step'] as { stage: StageJson }).stage
    expect(second.title).toBe('update: sgd')
    expect(second.params!.map((p) => p.after)).toEqual(Tree.leavesWithPaths(after2.params).map(({ leaf }) => plain(leaf)))

    // the stages are one tab stop, and the focus follows the stage the arrow keys move to
    const bar = page.getByRole('toolbar', { name: 'stages of the step' })
    expect(await bar.locator('button[tabindex="0"]').count()).toBe(1)
    await bar.getByRole('button', { name: 'forward: tanh 1' }).click()
    await page.keyboard.press('ArrowRight')
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('forward: dense 2 (4→2)')
    await page.keyboard.press('End')
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('update: sgd')
    expect(await bar.locator('button[tabindex="0"]').textContent()).toBe('update: sgd')
    expect(problems).toEqual([])
    await page.close()
  })

  test('the address names the step and the stage: Back and Forward walk them, and a link opens at them', async () => {
    const { page, problems } = await watchedPage(browser)
    const base = `${url}?data=xor&net=dense:4,tanh,dense:2&opt=sgd&lr=0.1&bs=16&epochs=60&seed=3`
    await open(page, base)
    const at = async (): Promise<{ step: number; at: number; title: string }> => {
      const s = (await exposed(page))['step'] as { step: number; at: number; stage: StageJson } | undefined
      return { step: s?.step ?? -1, at: s?.at ?? -1, title: s?.stage.title ?? '' }
    }
    // a tab clicked with the mouse hands the focus to its panel, so → moves Step's stages, not on to the next mode
    await page.getByRole('tab', { name: 'Step' }).click()
    await expect.poll(at).toEqual({ step: 0, at: 0, title: 'forward: dense 1 (2→4)' })
    await page.keyboard.press('ArrowRight')
    await expect.poll(at).toEqual({ step: 0, at: 1, title: 'forward: tanh 1' })
    expect(await page.getByRole('tab', { selected: true }).textContent()).toBe('Step')
    await page.keyboard.press('ArrowRight')
    await expect.poll(() => page.url()).toContain('&mode=step&stage=forward:dense2')
    await page.getByRole('button', { name: 'take the next step' }).click()
    await expect.poll(() => page.url()).toContain('&mode=step&step=2&stage=forward:dense2')
    expect(await at()).toEqual({ step: 1, at: 2, title: 'forward: dense 2 (4→2)' })
    const linked = page.url()

    // Back: the step before, then the stages before, then the mode before; Forward: the other way
    await page.goBack()
    await expect.poll(at).toEqual({ step: 0, at: 2, title: 'forward: dense 2 (4→2)' })
    await page.goBack()
    await expect.poll(at).toEqual({ step: 0, at: 1, title: 'forward: tanh 1' })
    await page.goBack()
    await expect.poll(at).toEqual({ step: 0, at: 0, title: 'forward: dense 1 (2→4)' })
    await page.goBack()
    await expect.poll(() => page.getByRole('tab', { selected: true }).textContent()).toBe('Build')
    expect(page.url()).toBe(base) // the address as it was opened
    await page.goForward()
    await expect.poll(() => page.getByRole('tab', { selected: true }).textContent()).toBe('Step')
    await page.goForward()
    await expect.poll(at).toEqual({ step: 0, at: 1, title: 'forward: tanh 1' })

    // an edit is one entry however many keys it takes, and Back undoes it
    await page.getByRole('tab', { name: 'Build' }).click()
    const units = page.getByLabel('dense 1 units', { exact: true })
    await units.fill('5')
    await units.fill('6')
    await expect.poll(() => page.url()).toContain('net=dense:6,')
    await page.goBack()
    await expect.poll(async () => ((await exposed(page))['config'] as { layers: { units?: number }[] }).layers[0]!.units).toBe(4)
    expect(await units.inputValue()).toBe('4')

    // the link opens a new page at the same step and stage, with the same numbers
    const there = (await exposed(page))['step']
    const again = await watchedPage(browser)
    await open(again.page, linked)
    await again.page.waitForFunction(() => window.__playground?.['step'] !== undefined)
    expect(await again.page.textContent('#stage-title')).toBe('forward: dense 2 (4→2)')
    expect(((await exposed(again.page))['step'] as { step: number }).step).toBe(1)
    expect(there).toBeDefined()
    // a link to a stage this network does not have, or a step past its last, says so and shows what it has
    await open(again.page, `${base}&mode=step&step=999&stage=backward:relu3`)
    await expect.poll(() => again.page.textContent('#view-note')).toContain('no stage backward:relu3')
    const steps = Math.ceil(200 / 16) * 60 // xor's 200 examples in batches of 16, 60 epochs
    expect(await again.page.textContent('#view-note')).toContain(`This run has ${steps} steps, not 999`)
    expect(await again.page.textContent('#stage-title')).toBe('forward: dense 1 (2→4)')
    // and one it cannot read names the parameter
    await open(again.page, `${base}&mode=step&step=two`)
    expect(await again.page.getByRole('alert').textContent()).toContain("?step: must be a whole number from 1 (the run's first step)")
    expect([...problems, ...again.problems]).toEqual([])
    await again.page.close()
    await page.close()
  })

  test('a link to a far step walks there in slices: clicks answered meanwhile, a stop on request, one result however sliced', async () => {
    const { page, problems } = await watchedPage(browser)
    // xor's 200 examples one at a time for 5000 epochs: a million steps, the most an address can name
    const query = '?data=xor&net=dense:4,tanh,dense:2&opt=sgd&lr=0.1&bs=1&epochs=5000&seed=3'
    const shown = async (p: Page = page): Promise<{ step: number; title: string } | undefined> => {
      const s = (await exposed(p))['step'] as { step: number; stage: StageJson } | undefined
      return s === undefined ? undefined : { step: s.step, title: s.stage.title }
    }
    const updated = async (p: Page = page): Promise<TensorJson[]> =>
      ((await exposed(p))['step'] as { stage: StageJson }).stage.params!.map((q) => q.after)
    /** The steps the walk has taken, as its status says ("computing step 812 of 1000000": 811). */
    const computed = async (): Promise<number> => {
      const m = /computing step (\d+) of 1000000/.exec((await page.locator('#walk').textContent()) ?? '')
      return m === null ? -1 : Number(m[1]) - 1
    }
    await open(page, `${url}${query}&mode=step&step=1000000&stage=update`)
    await expect.poll(computed, settles).toBeGreaterThan(0)
    expect(await shown()).toBeUndefined()
    // while it computes, a click on another mode is handled, and the walk goes on behind it
    await page.getByRole('tab', { name: 'Build' }).click()
    await expect.poll(() => page.getByRole('tab', { selected: true }).textContent()).toBe('Build')
    expect(await page.locator('#panel-build').isVisible()).toBe(true)
    const before = await computed()
    await page.getByRole('tab', { name: 'Step' }).click()
    await expect.poll(computed, settles).toBeGreaterThan(before)
    // stop: the page shows the step the walk reached, at the linked stage, and the address names it
    await page.getByRole('button', { name: 'stop here' }).click()
    await expect.poll(shown, settles).toMatchObject({ title: 'update: sgd' })
    const { step } = (await shown())!
    expect(step).toBeGreaterThan(before)
    expect(step).toBeLessThan(999_999)
    expect(page.url()).toContain(`&mode=step&step=${step + 1}&stage=update`)
    const stopped = await updated()

    // a link to that step, walked in other slices, shows the same numbers bit for bit
    const other = await watchedPage(browser)
    await open(other.page, `${url}${query}&mode=step&step=${step + 1}&stage=update`)
    await expect.poll(() => shown(other.page), settles).toEqual({ step, title: 'update: sgd' })
    expect(await other.page.locator('#walk').count()).toBe(0)
    expect(await updated(other.page)).toEqual(stopped)
    // the step before it walks back from a place the page kept, and the next one returns to the same numbers
    await other.page.getByRole('button', { name: 'previous step' }).click()
    await expect.poll(() => shown(other.page), settles).toEqual({ step: step - 1, title: 'update: sgd' })
    expect(await updated(other.page)).not.toEqual(stopped)
    await other.page.getByRole('button', { name: 'take the next step' }).click()
    await expect.poll(() => shown(other.page), settles).toEqual({ step, title: 'update: sgd' })
    expect(await updated(other.page)).toEqual(stopped)
    expect([...problems, ...other.problems]).toEqual([])
    await other.page.close()
    await page.close()
  })

  test('a layer moved from the keyboard keeps the focus: Enter twice on its move button moves it up two places', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, url) // spiral: dense 16, relu, dense 16, relu, dense 3
    const units = async (): Promise<(number | undefined)[]> =>
      ((await exposed(page))['config'] as { layers: { units?: number }[] }).layers.map((l) => l.units)
    await page.getByRole('button', { name: 'move dense 3 up' }).focus()
    await page.keyboard.press('Enter')
    await expect.poll(units).toEqual([16, undefined, 16, 3, undefined])
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('move dense 3 up')
    await page.keyboard.press('Enter')
    await expect.poll(units).toEqual([16, undefined, 3, 16, undefined]) // now the second dense, named dense 2
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('move dense 2 up')
    expect(problems).toEqual([])
    await page.close()
  })

  test('stepping a conv net draws conv params as filters and a batch of images as the first example, with numbers from its middle', async () => {
    const { page, problems } = await watchedPage(browser)
    const q = '?data=mnist&n=64&test=10&net=conv2d:4:3,relu,maxPool2d:2,flatten,dense:10&opt=adam&lr=0.01&bs=32&epochs=1&seed=1&mode=step'
    await open(page, `${url}${q}`)
    await page.waitForFunction(() => window.__playground?.['step'] !== undefined, undefined, { timeout: 30_000 })
    const stage = page.locator('section.stage')
    expect(await page.textContent('#stage-title')).toBe('forward: conv2d 1 (1→4, 3×3)')
    // W [4, 1, 3, 3] is four filters, not a batch of one picture
    await expect.poll(() => stage.locator('figure[aria-label="W: each filter as a picture"]').count()).toBe(1)
    expect(await stage.locator('figure[aria-label^="W: the first example"]').count()).toBe(0)
    // x [64, 1, 28, 28]: its numbers are the middle of the first digit, not the zeros of its border
    const x = stage.locator('[role="table"][aria-label^="x (in): the middle of the first example"]')
    const cells = (await x.locator('[role="cell"]').allTextContents()).map(Number)
    expect(cells.length).toBe(64)
    expect(cells.some((v) => v > 0)).toBe(true)
    // the update: W's gradient, before and after, and adam's moments of W, are filters too
    await page.getByRole('button', { name: 'update: adam' }).click()
    await expect.poll(() => stage.locator('figure[aria-label$="W: gradient: each filter as a picture"]').count()).toBe(1)
    expect(await stage.locator('figure[aria-label$="each filter as a picture"]').count()).toBe(4 + 2 * 2) // grad, before, after, change; mu, nu before and after
    expect(await stage.locator('figure[aria-label*="the first example"]').count()).toBe(0)
    expect(problems).toEqual([])
    await page.close()
  })

  test('training the spiral (16-16 ReLU, Adam, 200 epochs) live reaches 90% training accuracy or more, with its charts drawn', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, `${url}?mode=train`)
    // before a run: the untrained network's decision boundary, not a blank panel
    await expect.poll(() => page.locator('#panel-train figure[aria-label^="decision boundary"] svg').count(), settles).toBe(1)
    expect(await page.locator('#panel-train svg').textContent()).toContain('before training')
    await page.getByRole('button', { name: 'Train' }).click()
    await page.waitForFunction(() => (window.__playground?.['train'] as { kind?: string } | undefined)?.kind === 'done', undefined, {
      timeout: 60_000,
    })
    const train = (await exposed(page))['train'] as { accuracy: number; epochs: number }
    expect(train.epochs).toBe(200)
    expect(train.accuracy).toBeGreaterThanOrEqual(0.9)
    // the live charts were redrawn, at most 25 times a run however slow the machine (the drawing is bounded by the run, not the clock)
    const redraws = (await exposed(page))['liveRedraws'] as number
    expect(redraws).toBeGreaterThanOrEqual(1)
    expect(redraws).toBeLessThanOrEqual(25)
    expect(await page.locator('#panel-train figure svg').count()).toBeGreaterThanOrEqual(3)
    expect(await page.textContent('#panel-train')).toContain('dense 1 (2→16)')
    await page.screenshot({ path: `${SHOTS}/train-1280.png`, fullPage: true })
    expect(await sidewaysOverflow(page)).toBe(0)
    await page.getByRole('tab', { name: 'Step' }).click()
    await page.getByRole('button', { name: 'backward: dense 2 (16→16)' }).click()
    await page.screenshot({ path: `${SHOTS}/step-backward-1280.png`, fullPage: true })
    expect(await sidewaysOverflow(page)).toBe(0)
    await page.getByRole('tab', { name: 'Train' }).click()
    await page.setViewportSize({ width: 420, height: 900 })
    expect(await sidewaysOverflow(page)).toBe(0)
    // on a phone the charts are drawn for its column, one below another, not shrunk to tiny text
    await expect.poll(async () => Math.min(...(await chartScales(page))), { timeout: 10_000 }).toBeGreaterThanOrEqual(0.9)
    expect((await chartScales(page)).length).toBeGreaterThanOrEqual(3)
    await page.screenshot({ path: `${SHOTS}/train-420.png`, fullPage: true })
    for (const mode of ['Build', 'Step']) {
      await page.getByRole('tab', { name: mode }).click()
      expect(await sidewaysOverflow(page)).toBe(0)
      await page.screenshot({ path: `${SHOTS}/${mode.toLowerCase()}-420.png`, fullPage: true })
    }
    expect(problems).toEqual([])
    await page.close()
  })

  test('a shared address with a bad setting opens as it is, its problem shown in Build and the address kept; one it cannot read starts from the defaults', async () => {
    const { page, problems } = await watchedPage(browser)
    const q = '?data=spiral&classes=5&net=dense:16,relu,dense:16,relu,dense:3'
    await open(page, `${url}${q}`)
    const config = (await exposed(page))['config'] as { data: { classes: number }; layers: unknown[] }
    expect(config.data.classes).toBe(5)
    expect(config.layers).toHaveLength(5)
    expect(await page.getByRole('alert').textContent()).toContain('spiral has 5 classes: end with a dense of 5')
    expect(new URL(page.url()).search).toBe(q)
    // an edit writes the address: the fixed network, as a link
    await setNumber(page, 'dense 3 units', 5)
    await expect.poll(() => page.url()).toContain('dense:5')
    // a configuration that cannot run is written too: with no layers left, the address says so
    for (const name of ['dense 1', 'relu 1', 'dense 1', 'relu 1', 'dense 1'])
      await page.getByRole('button', { name: `remove ${name}` }).click()
    await expect.poll(() => page.url()).toContain('net=&')
    // an address it cannot read: the defaults, the parameter named, and the address as it was
    await open(page, `${url}?data=spiral&net=swish:3`)
    expect(await page.getByRole('alert').textContent()).toContain('?net')
    expect(((await exposed(page))['config'] as { layers: unknown[] }).layers).toHaveLength(5) // spiral's default network
    expect(new URL(page.url()).search).toBe('?data=spiral&net=swish:3')
    expect(problems).toEqual([])
    await page.close()
  })

  test('editing the configuration while it trains ends that run: the Train panel starts over for the new one', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, `${url}?epochs=2000&mode=train`)
    await page.getByRole('button', { name: 'Train' }).click()
    const train = async (): Promise<{ kind: string; epoch?: number }> => (await exposed(page))['train'] as { kind: string; epoch?: number }
    await expect.poll(async () => (await train()).epoch ?? 0, settles).toBeGreaterThanOrEqual(2)
    // Stop ends it after the epoch under way, and says it stopped short
    await page.getByRole('button', { name: 'Stop' }).click()
    await expect.poll(async () => (await train()).kind, settles).toBe('done')
    expect(await page.textContent('#train-status')).toMatch(/^stopped after \d+ of 2000 epochs: training loss /)
    await page.getByRole('button', { name: 'Train again' }).click()
    await expect.poll(async () => (await train()).epoch ?? 0, settles).toBeGreaterThanOrEqual(2)
    await page.getByRole('tab', { name: 'Build' }).click()
    await setNumber(page, 'network seed', 5)
    await page.getByRole('tab', { name: 'Train' }).click()
    await expect.poll(async () => (await train()).kind, settles).toBe('idle')
    // the old run has ended (at its next epoch, which it did not report): every run started has returned, and the panel is idle
    await expect.poll(async () => (await exposed(page))['runs'], settles).toEqual({ started: 2, ended: 2 })
    expect((await train()).kind).toBe('idle')
    expect(await page.getByRole('button', { name: 'Train', exact: true }).isEnabled()).toBe(true)
    expect(problems).toEqual([])
    await page.close()
  })

  test('MNIST: a small conv net trains on a subset fetched from the server, then shows its filters, its mistakes and one digit layer by layer, at 420 px too', async () => {
    const { page, problems } = await watchedPage(browser)
    await open(page, `${url}?data=mnist&n=300&test=100&epochs=2&mode=train`)
    await page.getByRole('button', { name: 'Train' }).click()
    await page.waitForFunction(() => (window.__playground?.['train'] as { kind?: string } | undefined)?.kind === 'done', undefined, {
      timeout: 60_000,
    })
    const train = (await exposed(page))['train'] as { test: number; epochs: number }
    expect(train.epochs).toBe(2)
    expect(train.test).toBeGreaterThan(0.5) // 2 epochs of 300 digits: far better than the 10% of guessing
    await expect
      .poll(() => page.locator('#panel-train figure[aria-label*="filters"], #panel-train figure[aria-label*="weights"]').count(), settles)
      .toBe(1)
    const chooser = page.getByRole('spinbutton', { name: 'test digit' })
    await chooser.fill('3')
    await chooser.press('Tab')
    await expect.poll(() => page.textContent('#panel-train'), settles).toContain('test digit 3')
    await page.screenshot({ path: `${SHOTS}/train-mnist-1280.png`, fullPage: true })
    await page.setViewportSize({ width: 420, height: 900 })
    expect(await sidewaysOverflow(page)).toBe(0)
    expect(problems).toEqual([])
    await page.close()
  })
})
