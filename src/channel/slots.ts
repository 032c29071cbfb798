/**
 * Producer slots: who owns each one, and noticing owners whose thread died. Ring, value and
 * conflating channels lay out their header and slot control lines alike (`rings.ts`), so the
 * claim, the close and the watch for dead producers are written once, here.
 *
 * A slot goes FREE -> CLAIMING (a producer took it and writes its thread's identity) -> OPEN ->
 * CLOSED (its sender closed) or DEAD (the consumer saw its thread gone) -> FREE (the consumer
 * freed it once nothing of it is left to read).
 *
 * @module
 */

import { threadAlive, threadIdentity } from "../runtime/thread.ts";
import {
  H_OPEN,
  S_START_HI,
  S_START_LO,
  S_STATE,
  S_TID,
  slotWord,
  STATE_CLAIMING,
  STATE_DEAD,
  STATE_FREE,
  STATE_OPEN,
} from "./rings.ts";

/**
 * Takes a free slot of `slots` for this thread and marks it open; `init(p)` runs between the
 * claim and the opening (the caller reads the slot's positions there).
 *
 * @returns The slot, or -1 when every slot is taken.
 */
export function claimSlot(ctl: Int32Array, slots: number, init: (p: number) => void): number {
  const id = threadIdentity();
  for (let p = 0; p < slots; p++) {
    const w = slotWord(p);
    if (Atomics.compareExchange(ctl, w + S_STATE, STATE_FREE, STATE_CLAIMING) !== STATE_FREE) {
      continue;
    }
    ctl[w + S_TID] = id === null ? 0 : id.tid;
    ctl[w + S_START_LO] = id === null ? 0 : id.start % 0x80000000;
    ctl[w + S_START_HI] = id === null ? 0 : Math.floor(id.start / 0x80000000);
    init(p);
    Atomics.store(ctl, w + S_STATE, STATE_OPEN);
    return p;
  }
  return -1;
}

/**
 * Looks for producer threads that died without closing their sender: each one's slot is marked
 * dead (what it published is still delivered) and stops counting as an open sender.
 *
 * @returns Whether any producer was found dead.
 */
export function reapDeadSlots(ctl: Int32Array, slots: number): boolean {
  const me = threadIdentity();
  let found = false;
  for (let p = 0; p < slots; p++) {
    const w = slotWord(p);
    const state = Atomics.load(ctl, w + S_STATE);
    if (state !== STATE_OPEN && state !== STATE_CLAIMING) continue;
    const tid = ctl[w + S_TID];
    if (tid === 0 || (me !== null && tid === me.tid)) continue;
    const start = ctl[w + S_START_HI] * 0x80000000 + ctl[w + S_START_LO];
    if (threadAlive({ tid, start }) !== false) continue;
    if (Atomics.compareExchange(ctl, w + S_STATE, state, STATE_DEAD) !== state) continue;
    Atomics.sub(ctl, H_OPEN, 1);
    found = true;
  }
  return found;
}

/** True while some slot is owned by a producer on another thread (worth watching). */
export function hasRemoteSlots(ctl: Int32Array, slots: number): boolean {
  const me = threadIdentity();
  for (let p = 0; p < slots; p++) {
    const w = slotWord(p);
    const state = Atomics.load(ctl, w + S_STATE);
    if (state !== STATE_OPEN && state !== STATE_CLAIMING) continue;
    const tid = ctl[w + S_TID];
    if (tid !== 0 && (me === null || tid !== me.tid)) return true;
  }
  return false;
}
