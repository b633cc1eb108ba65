/**
 * Tabs as the ARIA authoring practices describe them: a tablist of buttons, the selected one in
 * the tab order, the arrow keys, Home and End moving between them. A tab clicked with the mouse
 * hands the focus to its panel, so the arrow keys then work there (Step's ← and → move its
 * stages) instead of moving on to the next tab.
 */
import type { ComponentChildren } from 'preact'
import { useEffect, useRef } from 'preact/hooks'

/** Props of Tabs: the tabs (a name, a title, a panel), which is selected, what to do on a choice. */
export interface TabsProps<T extends string> {
  readonly label: string
  readonly tabs: readonly { readonly id: T; readonly title: string; readonly panel: ComponentChildren }[]
  readonly selected: T
  readonly onSelect: (id: T) => void
}

/** A row of tabs above their panels; the panels not selected stay mounted (a run keeps training), hidden. */
export const Tabs = <T extends string>({ label, tabs, selected, onSelect }: TabsProps<T>) => {
  // a click's panel takes the focus once it is shown (a hidden panel cannot)
  const clicked = useRef<T | undefined>(undefined)
  useEffect(() => {
    if (clicked.current === selected) document.getElementById(`panel-${selected}`)?.focus({ preventScroll: true })
    clicked.current = undefined
  }, [selected])
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
            onClick={(e) => {
              // a pointer's click (detail > 0), not Enter or Space on a focused tab
              if (e.detail > 0) clicked.current = t.id
              onSelect(t.id)
              if (e.detail > 0 && t.id === selected) document.getElementById(`panel-${t.id}`)?.focus({ preventScroll: true })
            }}
            onKeyDown={(e) => move(e, i)}
          >
            {t.title}
          </button>
        ))}
      </div>
      {tabs.map((t) => (
        <section key={t.id} id={`panel-${t.id}`} role="tabpanel" aria-labelledby={`tab-${t.id}`} tabIndex={-1} hidden={t.id !== selected}>
          {t.panel}
        </section>
      ))}
    </>
  )
}
