/**
 * Which thread this is, and whether another thread of this process is still alive. Channels use
 * it to refuse a blocking send on the consumer's own thread and to notice a producer Worker that
 * died without closing its sender.
 *
 * Liveness reads `/proc` (Linux): a thread is named by its id and its start time, so a thread id
 * reused by a later thread is not mistaken for the first. Where `/proc` cannot be read (another
 * OS, or Deno without read permission) liveness is unknown and a producer counts as alive.
 *
 * @module
 */

import { readFileSync } from "node:fs";

const TOKEN_KEY = Symbol.for("wavelet.threadToken");
const IDENTITY_KEY = Symbol.for("wavelet.threadIdentity");

/**
 * A token that differs between the threads of a process (31 bits, never 0). It lives on the
 * global object, so two copies of this module loaded in one thread agree.
 */
export function threadToken(): number {
  const g = globalThis as unknown as Record<symbol, number | undefined>;
  let t = g[TOKEN_KEY];
  if (t === undefined) {
    t = (crypto.getRandomValues(new Uint32Array(1))[0] & 0x7fffffff) || 1;
    Object.defineProperty(g, TOKEN_KEY, { value: t });
  }
  return t;
}

/** A thread as the OS names it. */
export interface ThreadIdentity {
  /** The Linux thread id. */
  readonly tid: number;
  /** Its start time in clock ticks after boot (field 22 of its stat file). */
  readonly start: number;
}

/** This thread's identity, or null when `/proc` cannot be read. */
export function threadIdentity(): ThreadIdentity | null {
  const g = globalThis as unknown as Record<symbol, ThreadIdentity | null | undefined>;
  let id = g[IDENTITY_KEY];
  if (id === undefined) {
    id = parseStat(readStat("/proc/thread-self/stat"));
    Object.defineProperty(g, IDENTITY_KEY, { value: id });
  }
  return id;
}

/**
 * Whether the thread `id` of this process is alive: true, false, or undefined when it cannot be
 * told.
 */
export function threadAlive(id: ThreadIdentity): boolean | undefined {
  let text: string | null;
  try {
    text = readFileSync(`/proc/self/task/${id.tid}/stat`, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT" || code === "ESRCH") return false;
    return undefined;
  }
  const now = parseStat(text);
  if (now === null) return undefined;
  return now.start === id.start;
}

function readStat(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

function parseStat(text: string | null): ThreadIdentity | null {
  if (text === null) return null;
  // "tid (comm) state ppid ...": comm may hold spaces and parentheses; fields after the last ")"
  // start with field 3 (state); the start time is field 22.
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  const tid = Number.parseInt(text, 10);
  const fields = text.slice(close + 2).split(" ");
  const start = Number(fields[19]);
  if (!Number.isInteger(tid) || tid <= 0 || !Number.isFinite(start)) return null;
  return { tid, start };
}
