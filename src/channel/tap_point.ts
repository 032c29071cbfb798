/**
 * Where a channel receiver reports what it read while a run is recorded, and where it gets what
 * to read while a run is replayed.
 *
 * @module
 */

import type { RuntimePort, StimulusTap } from "../core/hooks.ts";
import { Obs } from "../replay/log.ts";
import { RecvStatus } from "./status.ts";

/** Where a receiver reports what it read (recording) or gets it from (replay). @internal */
export class TapPoint {
  /** The port of the receiver's executor (set when the receiver's node is built). */
  port: RuntimePort | null = null;
  slot = -1;
  /**
   * The tap as the node's current run began (the channel's cycle wrapper refreshes it before
   * each run); the receivers' hot paths read this instead of asking the executor per record.
   */
  now: StimulusTap | null = null;
  get tap(): StimulusTap | null {
    return this.port === null ? null : this.port.tap;
  }
  /** Reads the executor's tap into `now` (start of a node run). */
  refresh(): StimulusTap | null {
    return this.now = this.port === null ? null : this.port.tap;
  }
  /** Records (or, replaying, replaces) a number the node read; `v` is the live value. */
  number(kind: number, v: number): number {
    const tap = this.tap;
    if (tap === null) return v;
    if (!tap.recording) return tap.nextNumber(this.slot, kind);
    tap.obsNumber(this.slot, kind, v);
    return v;
  }
}

export function recvKind(s: RecvStatus): number {
  return s === RecvStatus.Closed ? Obs.Closed : Obs.Empty;
}

export function statusOf(kind: number): RecvStatus {
  return kind === Obs.Item
    ? RecvStatus.Item
    : kind === Obs.Closed
    ? RecvStatus.Closed
    : RecvStatus.Empty;
}
