/**
 * Local channels: a bounded FIFO of any JS values from the same thread (host callbacks,
 * promises, streams) into a node, with `sendAsync` for backpressure.
 *
 * @module
 */

import v8 from "node:v8";
import type { Notifier } from "../drivers/notify.ts";
import type { IngestHub, Stampable } from "../core/ingest.ts";
import { Obs, ReplayError } from "../replay/log.ts";
import { ChannelError, Overflow, SendStatus } from "./status.ts";
import { HookPoint } from "./hook_point.ts";
import type { LiveRead } from "../core/hooks.ts";

/**
 * Sends any JS value to a channel node on the same thread.
 *
 * @example Backpressure with sendAsync
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, SendStatus } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const got: unknown[] = [];
 * const [, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   channel({ kind: "local", capacity: 1 }),
 *   (_self, _ctx, rx) => {
 *     got.push(rx.tryRecv()); // one item per run
 *     return false;
 *   },
 * );
 * tx.trySend(1);
 * const second = tx.sendAsync(2); // full: waits for room
 * rt.runOneCycle(); // takes 1, which makes room
 * if ((await second) !== SendStatus.Sent) throw new Error("sent once there was room");
 * rt.runOneCycle();
 * if (got.join() !== "1,2") throw new Error("expected [1, 2]");
 * ```
 */
export class LocalSender<T> {
  readonly #ch: LocalQueue<T>;

  /** @internal */
  constructor(ch: LocalQueue<T>) {
    this.#ch = ch;
  }

  /** Items dropped by the drop-oldest policy so far. */
  get dropped(): number {
    return this.#ch.dropped;
  }

  /** True once the receiving node is gone or this sender closed. */
  get isClosed(): boolean {
    return this.#ch.rxClosed || this.#ch.txClosed;
  }

  /**
   * Queues one item under the channel's policy and wakes the node.
   *
   * @returns `SendStatus.Sent`, `Full` (reject policy), or `Closed`.
   * @throws {ChannelError} If the sender was closed.
   */
  trySend(item: T): SendStatus {
    return this.#ch.push(item);
  }

  /**
   * Queues one item, waiting (asynchronously) for room when the channel is full: the
   * backpressure a host producer (a stream, a socket callback) should honor.
   *
   * @returns Resolves `Sent`, or `Closed` if the receiver went away.
   */
  async sendAsync(item: T): Promise<SendStatus> {
    for (;;) {
      const s = this.#ch.push(item, true);
      if (s !== SendStatus.Full) return s;
      await this.#ch.whenSpace();
    }
  }

  /** Closes the sender: the receiver sees what was sent, then `RecvStatus.Closed`. */
  close(): void {
    this.#ch.closeTx();
  }
}

/**
 * Receives values in a local channel node's cycle function.
 *
 * @example Queue length and the end of the stream
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const log: string[] = [];
 * const [, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   channel({ kind: "local", capacity: 8 }),
 *   (_self, _ctx, rx) => {
 *     log.push(`${rx.length} queued`);
 *     for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) log.push(String(v));
 *     if (rx.isClosed) log.push("closed");
 *     return false;
 *   },
 * );
 * tx.trySend("a");
 * tx.trySend("b");
 * tx.close();
 * rt.runOneCycle();
 * if (log.join() !== "2 queued,a,b,closed") throw new Error(log.join());
 * ```
 */
export class LocalReceiver<T> {
  /** @internal */
  readonly _hook: HookPoint = new HookPoint();
  readonly #ch: LocalQueue<T>;

  /** @internal */
  constructor(ch: LocalQueue<T>) {
    this.#ch = ch;
  }

  /** Items queued now. */
  get length(): number {
    return this._hook.number(Obs.Number, this.#ch.length);
  }

  /** Items dropped by the drop-oldest policy so far. */
  get dropped(): number {
    return this._hook.number(Obs.Number, this.#ch.dropped);
  }

  /** True when the sender closed and nothing is left. */
  get isClosed(): boolean {
    return this._hook.number(Obs.Number, this.#ch.txClosed && this.#ch.length === 0 ? 1 : 0) === 1;
  }

  /**
   * Takes the oldest item, or `undefined` when none is queued (see `isClosed`). While a run
   * is recorded, items must be structured-cloneable (they are serialized into the log).
   */
  tryRecv(): T | undefined {
    const hook = this._hook.now;
    if (hook === null) return this.#ch.shift();
    const live = this.#live;
    if (hook.recv(live) !== Obs.Item) return undefined;
    const item = live.item;
    live.item = undefined;
    return item;
  }

  /**
   * The live read a recording hook performs (the item, and its bytes for the log) and a
   * replaying hook replaces (the item deserialized from the log).
   */
  readonly #live: LiveRead & { item: T | undefined } = {
    item: undefined,
    bytes: new Uint8Array(0) as Uint8Array,
    words: null,
    at: 0,
    liveRecv: (): number => {
      const item = this.#ch.shift();
      if (item === undefined) return Obs.Empty;
      try {
        this.#live.bytes = new Uint8Array(v8.serialize(item));
      } catch (cause) {
        throw new ReplayError(
          "Cannot record a local channel item that is not structured-cloneable",
          { cause },
        );
      }
      this.#live.item = item;
      return Obs.Item;
    },
    replayed: (payload: Uint8Array): void => void (this.#live.item = v8.deserialize(payload) as T),
  };
}

/** @internal A same-thread bounded FIFO (a ring over a plain array). */
export class LocalQueue<T> {
  readonly #items: (T | undefined)[];
  readonly #capacity: number;
  readonly #overflow: Overflow;
  readonly #notifier: Notifier;
  #head = 0;
  #size = 0;
  #waiters: (() => void)[] = [];
  dropped = 0;
  rxClosed = false;
  txClosed = false;
  /**
   * Ingest stamp per item (NaN: none), while the executor's hub asks; else null. The clock is
   * read by the first send after the receiver took something (or since stamps went on); the
   * sends after it, up to the receiver's next take, share that reading: the oldest of their
   * send times, so a run that takes them reports their age exactly, and one that takes only
   * the later ones an upper bound (by at most the time between two of the receiver's takes).
   */
  #stamps: Float64Array | null = null;
  #hub: IngestHub | null = null;
  #stamp = NaN;
  #restamp = true;

  constructor(capacity: number, overflow: Overflow, notifier: Notifier) {
    this.#capacity = capacity;
    this.#items = new Array(capacity).fill(undefined);
    this.#overflow = overflow;
    this.#notifier = notifier;
  }

  get length(): number {
    return this.#size;
  }

  push(item: T, noDrop = false): SendStatus {
    if (this.txClosed) {
      throw new ChannelError("Cannot send on a sender that was closed");
    }
    if (this.rxClosed) return SendStatus.Closed;
    if (this.#size === this.#capacity) {
      if (noDrop || this.#overflow !== Overflow.DropOldest) return SendStatus.Full;
      this.#items[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.#capacity;
      this.#size--;
      this.dropped++;
    }
    const at = (this.#head + this.#size) % this.#capacity;
    this.#items[at] = item;
    if (this.#stamps !== null) {
      if (this.#restamp) {
        this.#stamp = this.#hub!.now();
        this.#restamp = false;
      }
      this.#stamps[at] = this.#stamp;
    }
    this.#size++;
    this.#notifier.notify();
    return SendStatus.Sent;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    if (this.#stamps !== null) {
      this.#hub!.note(this.#stamps[this.#head]);
      this.#restamp = true;
    }
    this.#head = (this.#head + 1) % this.#capacity;
    this.#size--;
    if (this.#waiters.length > 0) this.#wakeWaiters();
    return item;
  }

  /**
   * Stamps go on (each sent item gets `hub.now()`, each item taken is noted to the hub) or off.
   * Items queued before stamps went on carry none.
   */
  stampFor(hub: IngestHub | null): Stampable {
    return {
      _setStamping: (on) => {
        this.#hub = on ? hub : null;
        this.#stamps = on ? new Float64Array(this.#capacity).fill(NaN) : null;
        this.#restamp = true;
      },
    };
  }

  whenSpace(): Promise<void> {
    if (this.#size < this.#capacity || this.rxClosed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  closeTx(): void {
    if (this.txClosed) return;
    this.txClosed = true;
    if (!this.rxClosed) this.#notifier.notify();
  }

  closeRx(): void {
    this.rxClosed = true;
    this.#wakeWaiters();
  }

  #wakeWaiters(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}
