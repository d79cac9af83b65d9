// `faultline tail`'s options: the stream's address from --url or FAULTLINE_URL, the filters as its query, the token
// from the flag or the environment, and a clear refusal of what it cannot use.
import { describe, expect, it } from 'vitest'
import { parseTailArgs, resumeUrl } from '../src/cli/tail-options.js'

const env = { FAULTLINE_API_TOKEN: 'token-from-env' }

describe('faultline tail options', () => {
  it('defaults to the local Faultline, live only, the token from the environment', () => {
    expect(parseTailArgs([], env)).toEqual({ url: new URL('ws://127.0.0.1:8080/ws/faults'), token: 'token-from-env', json: false })
  })

  it('turns every filter and start into the query of /ws/faults, on the scheme that matches --url', () => {
    const o = parseTailArgs(
      [
        ...['--url', 'https://ops.example.com/faultline/', '--token', 'flag-token', '--json', '--min-severity', 'major', '--min-priority', 'P2'],
        ...[
          '--device',
          'fridge-001',
          '--model',
          'RF-520',
          '--region',
          'east',
          '--site',
          'store 9',
          '--types',
          'ticket.opened,detection.raised',
          '--last',
          '20',
        ],
      ],
      env,
    )!
    expect(o.url.href).toBe(
      'wss://ops.example.com/faultline/ws/faults?minSeverity=major&minPriority=P2&device=fridge-001&model=RF-520&region=east&site=store+9&types=ticket.opened%2Cdetection.raised&last=20',
    )
    expect(o).toMatchObject({ token: 'flag-token', json: true })
    expect(parseTailArgs([], { ...env, FAULTLINE_URL: 'http://10.0.0.5:9090' })!.url.href).toBe('ws://10.0.0.5:9090/ws/faults')
  })

  it('resumes with after=, the filters kept and the first start (since, last) dropped', () => {
    const o = parseTailArgs(['--since', '2026-12-01T00:00:00Z', '--device', 'd1'], env)!
    expect(resumeUrl(o.url, 42).search).toBe('?device=d1&after=42')
  })

  it('refuses an unknown option, a missing token and a URL it cannot reach a stream at', () => {
    expect(() => parseTailArgs(['--colour'], env)).toThrow(/Unknown option '--colour'/)
    expect(() => parseTailArgs([], {})).toThrow('--token: required (or set FAULTLINE_API_TOKEN)')
    expect(() => parseTailArgs(['--url', 'ftp://x'], env)).toThrow(/--url: expected http/)
    expect(() => parseTailArgs(['--url', 'not a url'], env)).toThrow(/--url: not a URL/)
    expect(parseTailArgs(['--help'], {})).toBeUndefined()
  })
})
