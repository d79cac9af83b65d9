// The console's shell: sign-in with the API token, then the header and the view the hash route names.
import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { forgetToken, onSignedOut, signIn, storedToken, Unauthorized } from './api.js'
import { DeviceView } from './device.js'
import { clockTime } from './format.js'
import { useNow, useRoute } from './hooks.js'
import { Overview } from './overview.js'
import { TicketView } from './ticket.js'

function SignIn({ onSignedIn, notice }: { onSignedIn: () => void; notice?: string }) {
  const [token, setToken] = useState('')
  const [error, setError] = useState(notice)
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    try {
      await signIn(token.trim())
      onSignedIn()
    } catch (err) {
      setError(
        err instanceof Unauthorized
          ? 'That token was refused. Paste the API token Faultline printed at its first start.'
          : `Could not reach Faultline: ${(err as Error).message}`,
      )
    } finally {
      setBusy(false)
    }
  }
  return html`<main class="signin">
    <form class="signin-card" onSubmit=${submit}>
      <div class="brand big">Faultline <span>ops</span></div>
      <label for="token">API token</label>
      <input id="token" type="password" autocomplete="off" autofocus value=${token} onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)} />
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <button type="submit" disabled=${busy || token.trim() === ''}>${busy ? 'Checking…' : 'Sign in'}</button>
      <p class="muted">Kept in this browser tab only; closing it signs you out.</p>
    </form>
  </main>`
}

function Header({ onSignOut }: { onSignOut: () => void }) {
  const now = useNow()
  return html`<header class="top">
    <a class="brand" href="#/">Faultline <span>ops</span></a>
    <nav><a href="#/">Overview</a></nav>
    <div class="top-right">
      <span class="clock">${clockTime(now)}</span>
      <button type="button" class="ghost" onClick=${onSignOut}>Sign out</button>
    </div>
  </header>`
}

function View() {
  const [section, arg] = useRoute()
  if (section === 'tickets' && arg) return html`<${TicketView} key=${arg} number=${arg} />`
  if (section === 'devices' && arg) return html`<${DeviceView} key=${arg} id=${arg} />`
  return html`<${Overview} />`
}

export function App() {
  const [signedIn, setSignedIn] = useState(storedToken() !== null)
  const [notice, setNotice] = useState<string>()
  useEffect(
    () =>
      onSignedOut(() => {
        setNotice('The API token was refused; sign in again.')
        setSignedIn(false)
      }),
    [],
  )
  if (!signedIn) return html`<${SignIn} notice=${notice} onSignedIn=${() => setSignedIn(true)} />`
  return html`<${Header}
      onSignOut=${() => {
        forgetToken()
        setNotice(undefined)
        setSignedIn(false)
      }}
    /><${View} />`
}
