// Who may connect, held in memory: every registered device's model and token hash. Loaded at start, updated at
// once by this process's registrations and rotations, refreshed from the database for other processes' ones.
// Authentication reads it, so registered devices keep connecting while the database is down (issue 8, item 9).
import { Subject } from 'rxjs'
import type { Queryable } from '../store/index.js'

export interface Credential {
  model: string
  tokenHash: string
  /** token_rotated_at in epoch ms (with its microseconds as the fraction): which of two readings is newer */
  rotatedMs: number
}

export interface CredentialRow {
  id: string
  model: string
  token_hash: string
  rotated_ms: number
}

/** token_rotated_at as epoch ms: a float8 keeps its microseconds, a Date would not. */
export const rotatedMsColumn = `(extract(epoch FROM token_rotated_at) * 1000)::float8 AS rotated_ms`
/** The columns a Credential is read from. */
export const credentialColumns = `id, model, token_hash, ${rotatedMsColumn}`

/**
 * A refresh reads again what was rotated this long before the newest rotation it has seen: a rotation's
 * timestamp is its transaction's start, and it may commit (become visible) a little after a later one.
 */
const COMMIT_LAG_MS = 60_000

export class DeviceCredentials {
  private readonly byId = new Map<string, Credential>()
  private newestMs = -Infinity
  private readonly rotations = new Subject<string>()
  /** ids of devices whose token changed after it was known here: sessions opened with the old one must end */
  readonly rotated$ = this.rotations.asObservable()

  get(id: string): Credential | undefined {
    return this.byId.get(id)
  }

  /**
   * Takes a reading unless a newer one is held: a refresh that read a row just before this process rotated its
   * token must not bring the old token back.
   */
  offer(id: string, credential: Credential): Credential {
    const held = this.byId.get(id)
    this.newestMs = Math.max(this.newestMs, credential.rotatedMs)
    if (held && held.rotatedMs >= credential.rotatedMs) return held
    this.byId.set(id, credential)
    if (held && held.tokenHash !== credential.tokenHash) this.rotations.next(id)
    return credential
  }

  offerRow(r: CredentialRow): Credential {
    return this.offer(r.id, { model: r.model, tokenHash: r.token_hash, rotatedMs: r.rotated_ms })
  }

  /** Reads every device at start, and afterwards what was registered or rotated since the last reading. */
  async refresh(db: Queryable): Promise<void> {
    const { rows } = Number.isFinite(this.newestMs)
      ? await db.query<CredentialRow>(`SELECT ${credentialColumns} FROM devices WHERE token_rotated_at > to_timestamp($1 / 1000.0)`, [
          this.newestMs - COMMIT_LAG_MS,
        ])
      : await db.query<CredentialRow>(`SELECT ${credentialColumns} FROM devices`)
    for (const r of rows) this.offerRow(r)
  }
}
