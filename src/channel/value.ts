/**
 * Value channels: any structured-cloneable value from any thread, serialized (`node:v8`) into
 * fixed-size cells of the same per-producer rings as ring channels (`rings.ts`).
 *
 * @module
 */

import v8 from "node:v8";
import { ErrorCode } from "../core/errors.ts";
import { Obs } from "../replay/log.ts";
import type { Rings } from "./rings.ts";
import { BURST, RingReader } from "./reader.ts";
import {
  mayBlockHere,
  openDescription,
  SharedSender,
  type SharedSenderTransferable,
} from "./shared.ts";
import { ChannelError } from "./status.ts";
import { HookPoint } from "./hook_point.ts";
import type { LiveRead } from "../core/hooks.ts";

/**
 * Sends structured-cloneable values into a value channel from any thread. Each item is
 * serialized with `node:v8` and must fit `maxItemBytes`.
 *
 * @example Items larger than maxItemBytes are refused
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, ChannelError, SendStatus } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const [, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   channel({ kind: "value", capacity: 4, maxItemBytes: 64 }),
 *   () => false,
 * );
 * if (tx.trySend({ side: "buy", qty: 5 }) !== SendStatus.Sent) throw new Error("fits");
 * let refused = false;
 * try {
 *   tx.trySend("x".repeat(1000));
 * } catch (e) {
 *   refused = e instanceof ChannelError;
 * }
 * if (!refused) throw new Error("an item over 64 bytes throws ChannelError");
 * ```
 */
export class ValueSender<T> extends SharedSender<T> {
  /** Serialized items of the send under way. */
  readonly #pending: Uint8Array[] = [];

  /** @internal */
  protected override prepare(items: ArrayLike<T>, start: number, n: number): void {
    const limit = this._cell - 4, pending = this.#pending;
    pending.length = 0;
    for (let k = 0; k < n; k++) {
      let bytes: Uint8Array;
      try {
        bytes = v8.serialize(items[start + k]) as Uint8Array;
      } catch (cause) {
        pending.length = 0;
        throw new ChannelError(
          "Cannot send a value that is not structured-cloneable (a function, a symbol, ...)",
          { cause, code: ErrorCode.InvalidArgument },
        );
      }
      if (bytes.length > limit) {
        pending.length = 0;
        throw new ChannelError(
          `An item of ${bytes.length} serialized bytes exceeds the channel's limit of ${limit}`,
          { code: ErrorCode.ChannelItemTooLarge },
        );
      }
      pending.push(bytes);
    }
  }

  /** @internal */
  protected override put(k: number, at: number): void {
    const bytes = this.#pending[k], r = this._rings;
    r.u32[at >>> 2] = bytes.length;
    r.u8.set(bytes, at + 4);
  }

  /** @internal */
  protected override unprepare(): void {
    this.#pending.length = 0;
  }

  /** A structured-cloneable description for a Worker (counts as one more open sender). */
  toTransferable(): SharedSenderTransferable {
    return this.describe("wavelet.value", null);
  }

  /**
   * Rebuilds a sender on another thread from {@linkcode ValueSender.toTransferable}. A
   * blocking send is allowed unless this is the receiving node's own thread.
   *
   * @throws {ChannelError} `INVALID_ARGUMENT` if `t` is not a value sender description.
   */
  static fromTransferable<T>(t: SharedSenderTransferable): ValueSender<T> {
    const { rings, notifier, blockTimeoutMs } = openDescription(
      t,
      "wavelet.value",
      (_r, d) => d.fields === null,
    );
    return new ValueSender<T>(rings, notifier, blockTimeoutMs, mayBlockHere(rings));
  }
}

/**
 * Receives values in the channel node's cycle function.
 *
 * @example Receiving until the senders are done
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const words: string[] = [];
 * const [done, tx] = new NodeBuilder(false).buildWith(
 *   rt.executor,
 *   channel({ kind: "value", capacity: 8 }),
 *   (self, _ctx, rx) => {
 *     for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) words.push(String(v));
 *     self.value = rx.isClosed;
 *     return true;
 *   },
 * );
 * tx.trySend("a");
 * tx.trySend("b");
 * tx.close();
 * rt.runOneCycle();
 * rt.runOneCycle();
 * if (words.join("") !== "ab" || !done.value) throw new Error("two items, then closed");
 * ```
 */
export class ValueReceiver<T> {
  /** @internal */
  readonly _hook: HookPoint = new HookPoint();
  /** @internal */
  readonly _reader: RingReader;
  readonly #rings: Rings;

  /** @internal */
  constructor(rings: Rings) {
    this.#rings = rings;
    this._reader = new RingReader(rings);
  }

  /** Items queued now. */
  get length(): number {
    return this._hook.number(Obs.Number, this._reader.length);
  }

  /** Items dropped by the drop-oldest policy so far (every sender together). */
  get dropped(): number {
    return this._hook.number(Obs.Number, this.#rings.dropped);
  }

  /** True when every sender closed (or died) and every item was read. */
  get isClosed(): boolean {
    return this._hook.number(Obs.Number, this._reader.closed ? 1 : 0) === 1;
  }

  /** Takes the oldest item of a sender, or `undefined` when none is queued (see `isClosed`). */
  tryRecv(): T | undefined {
    const hook = this._hook.now;
    if (hook !== null) {
      const live = this.#live;
      return hook.recv(live) === Obs.Item ? v8.deserialize(live.bytes) as T : undefined;
    }
    const copy = this.#next();
    return typeof copy === "number" ? undefined : v8.deserialize(copy) as T;
  }

  /** A copy of the next item's bytes, or -1 (none queued) or -2 (closed). */
  #next(): Uint8Array | number {
    const rd = this._reader, r = this.#rings, max = r.cellBytes - 4;
    for (;;) {
      if (rd.avail === 0) {
        const a = rd.fill(BURST);
        if (a < 0) return a;
      }
      const at = rd.at;
      const len = Math.min(r.u32[at >>> 2], max);
      const copy = r.u8.slice(at + 4, at + 4 + len);
      if (!rd.drop) rd.take(1);
      else if (rd.claim(1) !== 0) continue; // dropped meanwhile: the copy may be torn
      return copy;
    }
  }

  /** The live read a recording hook performs and a replaying hook replaces. */
  readonly #live: LiveRead = {
    bytes: new Uint8Array(0) as Uint8Array,
    words: null,
    at: 0,
    liveRecv: (): number => {
      const got = this.#next();
      if (typeof got === "number") return got === -2 ? Obs.Closed : Obs.Empty;
      this.#live.bytes = got;
      return Obs.Item;
    },
    replayed: (payload: Uint8Array): void => void (this.#live.bytes = payload),
  };

  /** @internal The end of the node's run: tell the producers how far it read. */
  _endRun(): void {
    this._reader.publishAll();
  }
}
