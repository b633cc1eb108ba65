/**
 * Tabs as the ARIA authoring practices describe them: a tablist of buttons, the selected one in
 * the tab order, the arrow keys, Home and End moving between them.
 */
import type { ComponentChildren } from 'preact'

/** Props of Tabs: the tabs (a name, a title, a panel), which is selected, what to do on a choice. */
export interface TabsProps<T extends string> {
  readonly label: string
  readonly tabs: readonly { readonly id: T; readonly title: string; readonly panel: ComponentChildren }[]
  readonly selected: T
  readonly onSelect: (id: T) => void
}

/** A row of tabs above their panels; the panels not selected stay mounted (a run keeps training), hidden. */
export const Tabs = <T extends string>({ label, tabs, selected, onSelect }: TabsProps<T>) => {
  const move = (e: KeyboardEvent, i: number): void => {
    const to =
      e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? tabs.length - 1 : -2
    if (to === -2) return
    e.preventDefault()
    e.stopPropagation()
    const next = tabs[(to + tabs.length) % tabs.length]!
    onSelect(next.id)
    document.getElementById(`tab-${next.id}`)?.focus()
  }
  return (
    <>
      <div role="tablist" aria-label={label}>
        {tabs.map((t, i) => (
          <button
            key={t.id}
            id={`tab-${t.id}`}
            role="tab"
            aria-selected={t.id === selected}
            aria-controls={`panel-${t.id}`}
            tabIndex={t.id === selected ? 0 : -1}
            onClick={() => onSelect(t.id)}
            onKeyDown={(e) => move(e, i)}
          >
            {t.title}
          </button>
        ))}
      </div>
      {tabs.map((t) => (
        <section key={t.id} id={`panel-${t.id}`} role="tabpanel" aria-labelledby={`tab-${t.id}`} hidden={t.id !== selected}>
          {t.panel}
        </section>
      ))}
    </>
  )
}
