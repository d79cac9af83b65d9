// What a start has opened, closed in the reverse order: the same stack unwinds a start that fails half-way
// (issue 9: a busy port must not leave the database, the log or the MQTT listener up) and a normal close().

type Close = () => Promise<unknown> | unknown

export class Closers {
  readonly #stack: Close[] = []

  /** Registers how to close what was just started; returns it, so a start reads `x = closers.add(await start(), ...)`. */
  add<T>(started: T, close: (started: T) => Promise<unknown> | unknown): T {
    this.#stack.push(() => close(started))
    return started
  }

  /**
   * Closes everything registered, last first. A closer that fails does not keep the rest open (the data dir
   * lock is the first registered, so the last released); the first failure is thrown once all have run.
   */
  async close(): Promise<void> {
    const failures: unknown[] = []
    for (let close = this.#stack.pop(); close; close = this.#stack.pop()) {
      try {
        await close()
      } catch (err) {
        failures.push(err)
      }
    }
    if (failures.length > 0) throw failures[0]
  }
}
