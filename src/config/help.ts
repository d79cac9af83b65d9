// `--help` for the settings, generated from the settings table: one source of truth for the flag, the
// environment variable, the default and the description (issue 9).
import { flagOf, settings } from './settings.js'

/** What a setting is when nothing sets it, as the help shows it. */
function defaultOf(name: keyof typeof settings): string {
  const parsed = settings[name].safeParse(undefined)
  if (!parsed.success || parsed.data === undefined) return 'unset'
  return typeof parsed.data === 'object' ? 'built in' : String(parsed.data)
}

/** One entry per setting: `--flag VALUE` and its variable, then its description and default. */
export function settingsHelp(defaults: Partial<Record<keyof typeof settings, string>> = {}): string {
  const names = Object.keys(settings) as (keyof typeof settings)[]
  return names
    .map((name) => `  --${flagOf(name)}  (${name}, default: ${defaults[name] ?? defaultOf(name)})\n      ${settings[name].description ?? ''}\n`)
    .join('')
}
