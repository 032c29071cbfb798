/**
 * Where a channel receiver holds its recording or replaying hook: attached by the executor when
 * recording or replay starts (or when the receiver's node is built while it runs), detached when
 * it stops. With none attached, the receivers' read paths cost one null check.
 *
 * @module
 */

import type { HookSite, ReceiverHook, RuntimePort, StimulusHook } from "../core/hooks.ts";
import { Obs } from "../replay/log.ts";
import { RecvStatus } from "./status.ts";

/** A receiver's hook site. @internal */
export class HookPoint implements HookSite {
  /** The slot of the receiver's node (set when the node is attached). */
  slot = -1;
  /** The receiver's hook while recording or replaying, else null. */
  now: ReceiverHook | null = null;
  #port: RuntimePort | null = null;

  /** Registers with the executor of the receiver's node, in `slot`. */
  register(port: RuntimePort, slot: number): void {
    this.slot = slot;
    this.#port = port;
    port.addHookSite(this);
  }

  /** Unregisters (the node left its graph): detaches any hook. */
  unregister(): void {
    if (this.#port !== null) this.#port.removeHookSite(this);
    this.#port = null;
    this.now = null;
  }

  /** The executor attached (or detached, with null) a hook. */
  hook(hook: StimulusHook | null): void {
    this.now = hook === null ? null : hook.receiver(this.slot);
  }

  /** A number the node read: `v` live, logged when recording, the logged one when replaying. */
  number(kind: number, v: number): number {
    const h = this.now;
    return h === null ? v : h.number(kind, v);
  }
}

/** The observation kind of a live receive's result. */
export function recvKind(s: RecvStatus): number {
  return s === RecvStatus.Item ? Obs.Item : s === RecvStatus.Closed ? Obs.Closed : Obs.Empty;
}

/** The receive result of an observation kind. */
export function statusOf(kind: number): RecvStatus {
  return kind === Obs.Item
    ? RecvStatus.Item
    : kind === Obs.Closed
    ? RecvStatus.Closed
    : RecvStatus.Empty;
}
