/**
 * Guarded buffers for the native-boundary tests: a typed array (or DataView) placed in the
 * middle of a larger buffer whose every other byte holds a known pattern, so a write outside
 * the view, however small, shows. The buffer can be plain, shared, resizable or growable-shared,
 * the view fixed-length or length-tracking, and after it was made the buffer can be shrunk
 * past the view or detached by `transfer()` (then the NEW owner of the memory is watched: a
 * stale pointer would write there).
 *
 * @module
 */

/** Bytes of pattern on each side of a view (a multiple of 8: every view stays aligned). */
export const GUARD = 64;

/** How the backing buffer is made. */
export type Backing = "plain" | "shared" | "resizable" | "growable";

/** What happens to the buffer after the view was made (and before the call). */
export type Fate = "keep" | "shrink" | "detach";

// deno-lint-ignore no-explicit-any
type ViewClass = new (buffer: ArrayBufferLike, byteOffset?: number, length?: number) => any;

/** Every view class there is, by name (Float16Array where the runtime has it). */
export const VIEW_CLASSES: Record<string, ViewClass> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
  // deno-lint-ignore no-explicit-any
  ...((globalThis as any).Float16Array ? { Float16Array: (globalThis as any).Float16Array } : {}),
};

/** The names of {@linkcode VIEW_CLASSES}. */
export const VIEW_KINDS: readonly string[] = Object.keys(VIEW_CLASSES);

/** What to build. */
export interface GuardSpec {
  /** A key of {@linkcode VIEW_CLASSES}. */
  kind: string;
  /** Elements in the view (bytes for a DataView). */
  length: number;
  /** The backing buffer. */
  backing: Backing;
  /** A length-tracking view (resizable and growable backings only). */
  tracking: boolean;
  /** What happens after the view is made ("shrink" only where the backing is resizable). */
  fate: Fate;
  /** For "shrink": the new size as a fraction of the bytes up to the view's end. */
  shrinkTo: number;
}

function pattern(i: number): number {
  return (i * 73 + 41) & 0xff;
}

function bytesOf(b: ArrayBufferLike): Uint8Array {
  return new Uint8Array(b);
}

/** A view inside a patterned buffer; see the module doc. */
export class Guarded {
  /** The view handed to the call under test. */
  readonly view: ArrayBufferView;
  /** The buffer that owns the memory now (the transfer's result after a detach). */
  readonly owner: ArrayBufferLike;
  /** True when the view was detached by `transfer()`. */
  readonly detached: boolean;
  #snapshot: Uint8Array;

  /**
   * Builds it.
   *
   * @param spec What to build.
   * @param prefill Writes meaningful content into the view before the snapshot (an address).
   */
  constructor(spec: GuardSpec, prefill?: (view: ArrayBufferView) => void) {
    const Kind = VIEW_CLASSES[spec.kind];
    const size = Kind === DataView ? 1 : (Kind as unknown as { BYTES_PER_ELEMENT: number })
      .BYTES_PER_ELEMENT;
    const viewBytes = spec.length * size;
    const total = GUARD + viewBytes + GUARD;
    const resizable = spec.backing === "resizable" || spec.backing === "growable";
    let buffer: ArrayBufferLike;
    if (spec.backing === "plain") buffer = new ArrayBuffer(total);
    else if (spec.backing === "shared") buffer = new SharedArrayBuffer(total);
    else if (spec.backing === "resizable") {
      buffer = new ArrayBuffer(total, { maxByteLength: 2 * total });
    } else buffer = new SharedArrayBuffer(total, { maxByteLength: 2 * total });
    const all = bytesOf(buffer);
    for (let i = 0; i < total; i++) all[i] = pattern(i);
    const tracking = spec.tracking && resizable;
    const view: ArrayBufferView = tracking
      ? new Kind(buffer, GUARD)
      : new Kind(buffer, GUARD, spec.length);
    prefill?.(view);
    let owner = buffer, detached = false;
    if (spec.fate === "shrink" && spec.backing === "resizable") {
      const to = Math.floor(spec.shrinkTo * (GUARD + viewBytes));
      (buffer as ArrayBuffer).resize(Math.max(0, Math.min(to, total)));
    } else if (spec.fate === "detach" && !(buffer instanceof SharedArrayBuffer)) {
      owner = (buffer as ArrayBuffer).transfer();
      detached = true;
    }
    this.view = view;
    this.owner = owner;
    this.detached = detached;
    this.#snapshot = bytesOf(owner).slice();
  }

  /** Takes the current bytes as the reference (after a call that may write inside the view). */
  snapshot(): void {
    this.#snapshot = bytesOf(this.owner).slice();
  }

  /**
   * Describes the first byte that changed outside `[from, to)` of the view (byte offsets from
   * the view's start) since the snapshot, or returns "" when none did. A detached view owns
   * nothing: then no byte of the new owner may change.
   *
   * @param from First byte of the view that may change.
   * @param to End of the bytes that may change.
   * @returns "" or a description of the change.
   */
  changedOutside(from = 0, to = 0): string {
    const now = bytesOf(this.owner), before = this.#snapshot;
    const n = Math.min(now.length, before.length);
    const lo = this.detached ? 0 : GUARD + from, hi = this.detached ? 0 : GUARD + to;
    for (let i = 0; i < n; i++) {
      if ((i < lo || i >= hi) && now[i] !== before[i]) {
        return `byte ${i} of the buffer (${i - GUARD} from the view's start, allowed [${from}, ` +
          `${to})) changed from ${before[i]} to ${now[i]}`;
      }
    }
    return "";
  }
}
