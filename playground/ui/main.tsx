/** The playground's entry: mounts the app on #app. scripts/playground.ts bundles this file. */
import { render } from 'preact'
import { App } from './app.tsx'

const root = document.getElementById('app')!
root.textContent = '' // the "loading" line
render(<App />, root)
