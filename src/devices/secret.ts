// Secrets (device tokens, the API token) are random, shown once, and stored only as a salted hash.
// They carry 256 bits of entropy, so one SHA-256 round is enough: a slow password hash (scrypt) protects
// guessable secrets and would cost every CONNECT of thousands of devices tens of milliseconds for nothing.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

// Hex: safe in a shell, a URL and a command-line flag (a base64url token may start with '-').
export const newSecret = () => randomBytes(32).toString('hex')

export function hashSecret(secret: string, salt = randomBytes(16).toString('hex')): string {
  return `${salt}:${createHash('sha256').update(salt).update(secret).digest('hex')}`
}

export function secretMatches(secret: string, stored: string): boolean {
  const [salt, hash] = stored.split(':')
  if (!salt || !hash) return false
  const expected = Buffer.from(hash, 'hex')
  const actual = Buffer.from(hashSecret(secret, salt).split(':')[1]!, 'hex')
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}
