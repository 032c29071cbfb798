/**
 * Ingest stamps, the core's half of per-hop latency ("data age"): while an instrument asks,
 * channels stamp each record with the time it was sent, the receiving node reports the oldest
 * stamp it consumed in a run, and the instrument derives the age of the data each node ran on.
 * Nothing here is touched while nobody asks: channels then write no stamp and report none.
 *
 * The core only keeps the switch and the meeting point ({@linkcode IngestHub}, one per
 * executor); the channels (features) register with it and stamp, the instrument (metrics)
 * turns it on and reads `oldest` around each node run.
 *
 * @module
 */

/**
 * A fixed origin (ms since the Unix epoch, late 2023) subtracted from the wall-anchored time so
 * that stamps stay near 10^17 ns, where a double still resolves 16 ns.
 */
const BASE_MS = 1.7e12;
const ORIGIN_MS = performance.timeOrigin - BASE_MS;

/**
 * The ingest clock: `performance.timeOrigin + performance.now()` (less a fixed origin) in
 * nanoseconds, as a double. Every thread of the process reads the same time on it (to within
 * a few microseconds, like the notification stamps), so a Worker's stamp and the consuming
 * thread's reading can be subtracted. Never BigInt.
 */
export function ingestNs(): number {
  return (ORIGIN_MS + performance.now()) * 1e6;
}

/** Something that stamps what it carries while stamping is on (a channel's queue or memory). */
export interface Stampable {
  /** Stamping goes on or off (on: stamps taken from now on are valid, older ones are not). */
  _setStamping(on: boolean): void;
}

/**
 * The per-executor meeting point of ingest stamps. Receivers call {@linkcode IngestHub.note}
 * with the stamp of the oldest record they hand to the running node (the first record of each
 * run of one producer's records, which are in send order); the instrument resets `oldest`
 * before each node run and reads it after.
 */
export class IngestHub {
  /** True while an instrument wants stamps. */
  on = false;
  /**
   * The clock same-thread producers (local channels) stamp with, in ns: {@linkcode ingestNs}
   * unless the instrument set another one (tests with a manual clock).
   */
  now: () => number = ingestNs;
  /** The oldest stamp noted since the instrument last reset it (Infinity: none). */
  oldest = Infinity;
  /**
   * The start of the running node's run on the `now` clock, set by the instrument: a source
   * whose records carry their own time (historical sources) notes `runStart - lateness`.
   */
  runStart = 0;
  readonly #members = new Set<Stampable>();
  #users = 0;

  /** A record stamped `ns` was handed to the running node (NaN, an unstamped record, is ignored). */
  note(ns: number): void {
    if (ns < this.oldest) this.oldest = ns;
  }

  /** A channel joins; it starts stamping at once if stamping is on. */
  register(m: Stampable): void {
    this.#members.add(m);
    if (this.on) m._setStamping(true);
  }

  /** A channel leaves (its node is gone). */
  unregister(m: Stampable): void {
    this.#members.delete(m);
  }

  /** Channels registered now (for tests). */
  get members(): number {
    return this.#members.size;
  }

  /**
   * One more (or one fewer, with `on` false) instrument wants stamps: the first turns every
   * channel's stamping on, the last one leaving turns it off.
   *
   * @param now The clock same-thread producers stamp with (ignored when turning off).
   */
  use(on: boolean, now: () => number = ingestNs): void {
    if (on) {
      if (this.#users++ !== 0) return;
      this.now = now;
      this.on = true;
    } else {
      if (this.#users === 0 || --this.#users !== 0) return;
      this.on = false;
      this.now = ingestNs;
    }
    for (const m of this.#members) m._setStamping(this.on);
  }
}
