/**
 * The playground: one configuration (the URL holds it), three modes over it. Build edits it and
 * shows its code; Train fits it live; Step walks one SGD step of it stage by stage. Everything
 * numeric comes from the library through playground/core.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { Kernels } from 'chainrule'
import { build as buildRun, codeOf, initialState, type Built, type MnistBytes } from '../core/build.ts'
import { shapesOf, validate, type Config } from '../core/config.ts'
import { Build } from './build.tsx'
import { mnistBytes } from './mnist.ts'
import { readUrl, writeUrl } from './share.ts'
import type { View } from '../core/view.ts'
import { StepPanel } from './step.tsx'
import { Tabs } from './tabs.tsx'
import { TrainPanel } from './train.tsx'
import { expose, leavesOf } from './testing.ts'

/** Which kernels and how many threads this page got, once it has asked for two. */
const useEngine = (): string => {
  const [text, setText] = useState('starting the kernels…')
  useEffect(() => {
    Kernels.useThreads(2)
      .then((two) => {
        expose({ threads: two && Kernels.threadsRunning() ? 2 : 1 })
        setText(
          `${Kernels.wasmSimdAvailable() ? 'WebAssembly SIMD kernels' : 'TypeScript kernels'} · ` +
            (two ? '2 threads (this page and a Web Worker)' : `1 thread (${Kernels.threadsUnavailable() ?? 'two are unavailable here'})`),
        )
      })
      .catch((e: unknown) => setText(`kernels: ${e instanceof Error ? e.message : String(e)}`))
  }, [])
  return text
}

/** The MNIST bytes once a configuration needs them (undefined until they arrive), and any error fetching them. */
const useMnist = (wanted: boolean): { bytes: MnistBytes | undefined; error: string | undefined } => {
  const [bytes, setBytes] = useState<MnistBytes | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  useEffect(() => {
    if (!wanted || bytes !== undefined) return
    mnistBytes()
      .then(setBytes)
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
  }, [wanted, bytes])
  return { bytes, error }
}

/** The whole page. */
export const App = () => {
  const [start] = useState(() => readUrl(location.search))
  const [config, setConfig] = useState<Config>(start.config)
  const [view, setView] = useState<View>(start.view)
  const [urlProblems, setUrlProblems] = useState<readonly string[]>(start.problems)
  const mode = view.mode
  // what changed last, for the address: an edit (a run of them is one history entry), a move (a new entry), or the address
  // itself (opened, Back or Forward: nothing to write)
  const change = useRef<'edit' | 'move' | 'address'>('address')
  const editing = useRef(false)
  const edit = (c: Config): void => {
    change.current = 'edit'
    setConfig(c)
    setView((v) => ({ ...v, step: 0, stage: undefined }))
  }
  const move = (to: (v: View) => View): void => {
    change.current = 'move'
    setView(to)
  }
  const setMode = (m: View['mode']): void => move((v) => ({ ...v, mode: m }))
  const engine = useEngine()
  const problems = useMemo(() => validate(config), [config])
  const shapes = useMemo(() => shapesOf(config).shapes, [config])
  const code = useMemo(() => (problems.length === 0 ? codeOf(config) : undefined), [config, problems])
  const mnist = useMnist(config.data.set === 'mnist')
  const [built, buildError] = useMemo((): [Built | undefined, string | undefined] => {
    if (problems.length > 0 || (config.data.set === 'mnist' && mnist.bytes === undefined)) return [undefined, undefined]
    try {
      return [buildRun(config, mnist.bytes), undefined]
    } catch (e) {
      return [undefined, e instanceof Error ? e.message : String(e)]
    }
  }, [config, problems, mnist.bytes])
  // the address as opened stays until the page is edited or moved (a link with a problem is not overwritten by the defaults)
  useEffect(() => {
    const what = change.current
    change.current = 'address'
    if (what === 'address') return
    writeUrl(config, view, what === 'move' || (what === 'edit' && !editing.current))
    editing.current = what === 'edit'
  }, [config, view])
  // Back and Forward: the page goes where the address says (the same configuration is kept as it is, so nothing is rebuilt)
  useEffect(() => {
    const onPop = (): void => {
      const r = readUrl(location.search)
      change.current = 'address'
      editing.current = false
      setConfig((c) => (JSON.stringify(c) === JSON.stringify(r.config) ? c : r.config))
      setView(r.view)
      setUrlProblems(r.problems)
    }
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [])
  useEffect(
    () =>
      expose({
        config,
        problems,
        // the params fit starts from, read by the tests and compared with the same L.pipe initialised in Node
        initialParams: built === undefined ? undefined : leavesOf(initialState(built).params),
      }),
    [config, built, problems],
  )
  const waiting = buildError ?? mnist.error ?? (built === undefined ? 'fetching the MNIST files…' : undefined)
  // a configuration that cannot run (a shared link, say, opened in Train or Step): what is wrong, and the way to Build
  const notYet =
    problems.length > 0 ? (
      <div class="unfixed">
        <p>
          This configuration cannot run until {problems.length === 1 ? 'its problem is' : `its ${problems.length} problems are`} fixed in
          Build:
        </p>
        <ul>
          {problems.map((p, i) => (
            <li key={i} class="error">
              {p.message}
            </li>
          ))}
        </ul>
        <button
          type="button"
          onClick={() => {
            setMode('build')
            document.getElementById('tab-build')?.focus()
          }}
        >
          fix it in Build
        </button>
      </div>
    ) : (
      <p class={buildError !== undefined || mnist.error !== undefined ? 'error' : 'status'}>{waiting}</p>
    )
  return (
    <>
      <header>
        <h1>chainrule · backprop playground</h1>
        <span class="status" id="engine" role="status">
          {engine}
        </span>
      </header>
      <main>
        {urlProblems.length > 0 && (
          <div class="error" role="alert">
            <p>The page cannot read all of this address:</p>
            <ul>
              {urlProblems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </div>
        )}
        <Tabs
          label="mode"
          selected={mode}
          onSelect={setMode}
          tabs={[
            {
              id: 'build',
              title: 'Build',
              panel: <Build config={config} shapes={shapes} problems={problems} code={code} onChange={edit} />,
            },
            { id: 'train', title: 'Train', panel: built === undefined ? notYet : <TrainPanel built={built} /> },
            {
              id: 'step',
              title: 'Step',
              panel: built === undefined ? notYet : <StepPanel built={built} active={mode === 'step'} view={view} move={move} />,
            },
          ]}
        />
      </main>
    </>
  )
}
