// The few hooks every view shares: the ticking clock, the hash route, and a read of the API kept fresh.
import { useCallback, useEffect, useState } from 'preact/hooks'
import { api } from './api.js'

/** The current time, re-rendered every second: SLA countdowns tick client-side (issue 10). */
export function useNow(): number {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(timer)
  }, [])
  return now
}

/** The route after `#`: `/`, `/tickets/SR…`, `/devices/<id>`. */
export function useRoute(): string[] {
  const read = () => (location.hash.replace(/^#\/?/, '') || '').split('/').filter(Boolean).map(decodeURIComponent)
  const [route, setRoute] = useState(read)
  useEffect(() => {
    const onHash = () => setRoute(read())
    addEventListener('hashchange', onHash)
    return () => removeEventListener('hashchange', onHash)
  }, [])
  return route
}

export interface Resource<T> {
  data?: T
  error?: string
  reload: () => void
}

/** GETs `path` now, again every `everyMs` and whenever `reload` is called; keeps the last good answer on a failed read. */
export function useApi<T>(path: string | undefined, everyMs = 30_000): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: string }>({})
  const [tick, setTick] = useState(0)
  const reload = useCallback(() => setTick((t) => t + 1), [])
  useEffect(() => {
    if (!path) return
    let current = true
    api<T>(path).then(
      (data) => current && setState({ data }),
      (err: Error) => current && setState((s) => ({ data: s.data, error: err.message })),
    )
    const timer = setTimeout(reload, everyMs)
    return () => {
      current = false
      clearTimeout(timer)
    }
  }, [path, tick, everyMs])
  useEffect(() => setState({}), [path])
  return { ...state, reload }
}
