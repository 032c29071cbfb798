/**
 * What a node owns besides its row: timers, I/O registrations, resources to release and its
 * `onDrop`. Everything here is released with the node, in that order, exactly once. The
 * executor checks the node; this room keeps the books and checks the handles.
 *
 * @module
 */

import { ErrorCode, ForeignNodeError, InvalidArgumentError, WaveletError } from "./errors.ts";
import { F_HAS_EXTRA, FLAGS, SHIFT, TIMERS } from "./graph.ts";
import type { DropFn, Node } from "./node.ts";
import type { ErrorPhase } from "./report.ts";
import { describe } from "./validate.ts";
import { TimerHandle, TimerHeap } from "../drivers/timer.ts";
import { type IoDriver, IoHandle } from "../drivers/io.ts";

/** Rarely used per-node data, kept off the hot arrays (only nodes with F_HAS_EXTRA have one). */
interface Extra {
  onDrop: DropFn<unknown> | undefined;
  releases: (() => void)[] | undefined;
  /** The ids of the node's I/O registrations. */
  io: number[] | undefined;
}

/** The resources of one executor's nodes. */
export class Resources {
  /** The pending timers. */
  readonly timers: TimerHeap = new TimerHeap();
  /** The I/O driver, when a runtime with epoll attached one. */
  io: IoDriver | null = null;
  readonly #owner: object;
  readonly #meta: () => Int32Array;
  readonly #extra = new Map<number, Extra>();

  /**
   * @param owner The executor, named in the handles it issues.
   * @param meta The node table's current metadata rows.
   */
  constructor(owner: object, meta: () => Int32Array) {
    this.#owner = owner;
    this.#meta = meta;
  }

  #extraOf(slot: number): Extra {
    let x = this.#extra.get(slot);
    if (x === undefined) {
      x = { onDrop: undefined, releases: undefined, io: undefined };
      this.#extra.set(slot, x);
      this.#meta()[(slot << SHIFT) + FLAGS] |= F_HAS_EXTRA;
    }
    return x;
  }

  /** A timer for node (slot, gen) at `deadlineNs`. */
  addTimer(slot: number, gen: number, deadlineNs: number): TimerHandle {
    const id = this.timers.add(slot, gen, deadlineNs);
    this.#meta()[(slot << SHIFT) + TIMERS]++;
    return new TimerHandle(this.#owner, id);
  }

  /** Cancels a timer; false if it already fired or was cancelled. */
  cancelTimer(handle: TimerHandle): boolean {
    if (!(handle instanceof TimerHandle)) {
      throw new InvalidArgumentError(
        `Expected a timer handle from registerTimer, got ${describe(handle)}`,
      );
    }
    if (handle._owner !== this.#owner) {
      throw new ForeignNodeError("Cannot cancel a timer of another executor");
    }
    const slot = this.timers.slotOf(handle._id);
    if (slot < 0) return false;
    this.timers.cancel(handle._id);
    this.#meta()[(slot << SHIFT) + TIMERS]--;
    return true;
  }

  /** Registers `fd` for node (slot, gen). */
  addIo(fd: number, slot: number, gen: number, interest: number): IoHandle {
    const id = this.#requireIo().register(fd, slot, gen, interest);
    (this.#extraOf(slot).io ??= []).push(id);
    return new IoHandle(this.#owner, id);
  }

  /** Changes a registration's interest. */
  reregisterIo(handle: IoHandle, interest: number): void {
    const id = this.#ioId(handle);
    this.#requireIo().reregister(id, interest);
  }

  /** Removes a registration; false if it was not registered. */
  deregisterIo(handle: IoHandle): boolean {
    const id = this.#ioId(handle);
    const io = this.io;
    if (io === null) return false;
    const slot = io.slotOf(id);
    if (slot < 0) return false;
    const list = this.#extra.get(slot)?.io;
    if (list !== undefined) {
      const i = list.indexOf(id);
      if (i >= 0) list.splice(i, 1);
    }
    return io.deregister(id);
  }

  /** The readiness bits a registration got in the cycle with `tick`. */
  ioReadiness(handle: IoHandle, tick: number): number {
    const id = this.#ioId(handle);
    return this.io === null ? 0 : this.io.readiness(id, tick);
  }

  #ioId(handle: IoHandle): number {
    if (!(handle instanceof IoHandle)) {
      throw new InvalidArgumentError(
        `Expected an I/O handle from registerIo, got ${describe(handle)}`,
      );
    }
    if (handle._owner !== this.#owner) {
      throw new ForeignNodeError("Cannot use an I/O handle of another executor");
    }
    return handle._id;
  }

  #requireIo(): IoDriver {
    if (this.io === null) {
      throw new WaveletError(
        "I/O registration needs a RealtimeRuntime on the native backend (epoll)",
        { code: ErrorCode.Unsupported },
      );
    }
    return this.io;
  }

  /** Ties `release` to the node in `slot`. */
  own(slot: number, release: () => void): void {
    (this.#extraOf(slot).releases ??= []).push(release);
  }

  /** Sets the node's drop callback (at build). */
  setOnDrop(slot: number, onDrop: DropFn<unknown>): void {
    this.#extraOf(slot).onDrop = onDrop;
  }

  /**
   * Takes the node in `slot` off the books, before its row is freed: its timers are cancelled
   * and what it owned is returned for {@linkcode Resources.finish}.
   */
  detach(slot: number, gen: number): unknown {
    const meta = this.#meta(), b = slot << SHIFT;
    if (meta[b + TIMERS] > 0) this.timers.removeNode(slot, gen);
    if ((meta[b + FLAGS] & F_HAS_EXTRA) === 0) return undefined;
    const extra = this.#extra.get(slot);
    this.#extra.delete(slot);
    return extra;
  }

  /**
   * Releases what `detach` returned, once the node is out of the graph: its I/O registrations,
   * then its resources, then its `onDrop`. A callback that throws is reported and the rest
   * still run.
   */
  finish(
    detached: unknown,
    node: Node<unknown>,
    report: (err: unknown, node: Node<unknown>, phase: ErrorPhase) => void,
  ): void {
    const extra = detached as Extra | undefined;
    if (extra === undefined) return;
    if (extra.io !== undefined && this.io !== null) {
      for (const id of extra.io) this.io.deregister(id);
    }
    if (extra.releases !== undefined) {
      for (const release of extra.releases) {
        try {
          release();
        } catch (err) {
          report(err, node, "release");
        }
      }
    }
    if (extra.onDrop !== undefined) {
      try {
        extra.onDrop(node);
      } catch (err) {
        report(err, node, "drop");
      }
    }
  }
}
