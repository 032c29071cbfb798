/**
 * Unit tests of the depth-bucketed scheduler (reference §10.1, §2.2): ascending depth, FIFO
 * within a depth, empty depths skipped, plus filter / clear / forEachQueued / ensureDepth.
 */

import { assert, assertEquals, test } from "./_harness.ts";
import { Scheduler } from "../src/core/scheduler.ts";
import { NEXT, SHIFT, STRIDE } from "../src/core/graph.ts";

/** A node table with room for `slots` slots (only the NEXT column is used by the scheduler). */
function table(slots: number): Int32Array {
  return new Int32Array(slots * STRIDE);
}

/** Pops everything, recording (slot, cursor after the pop). */
function drain(s: Scheduler, meta: Int32Array): { slots: number[]; cursors: number[] } {
  const slots: number[] = [], cursors: number[] = [];
  for (let guard = 0; guard < 10_000; guard++) {
    const slot = s.pop(meta);
    if (slot === -1) return { slots, cursors };
    slots.push(slot);
    cursors.push(s.cursor);
  }
  throw new Error("scheduler never ran dry");
}

function queued(s: Scheduler, meta: Int32Array): [number, number][] {
  const out: [number, number][] = [];
  s.forEachQueued(meta, (slot, depth) => out.push([slot, depth]));
  return out;
}

test("scheduler pops in ascending depth and FIFO within a depth when nodes are pushed out of order", () => {
  const s = new Scheduler(5);
  const meta = table(8);
  const depths = [0, 1, 4, 2, 3, 1, 2, 4];
  for (let slot = 0; slot < depths.length; slot++) s.push(meta, slot, depths[slot]);
  assertEquals(s.pending, 8);
  const { slots, cursors } = drain(s, meta);
  assertEquals(slots, [0, 1, 5, 3, 6, 4, 2, 7]);
  // The cursor equals the depth of each popped node.
  assertEquals(cursors, slots.map((slot) => depths[slot]));
  assertEquals(s.pending, 0);
  assertEquals(s.pop(meta), -1);
});

test("scheduler skips empty intermediate depths when only depths 0 and 2 are queued", () => {
  const s = new Scheduler(3);
  const meta = table(2);
  s.push(meta, 0, 0);
  s.push(meta, 1, 2);
  assertEquals(s.pop(meta), 0);
  assertEquals(s.cursor, 0);
  assertEquals(s.pop(meta), 1);
  assertEquals(s.cursor, 2);
  assertEquals(s.pop(meta), -1);
});

test("scheduler pops -1 and keeps pending at 0 when nothing was ever pushed", () => {
  const s = new Scheduler();
  const meta = table(1);
  assertEquals(s.pop(meta), -1);
  assertEquals(s.pending, 0);
});

test("scheduler finds depths beyond the first 32-bit word of the bitset when they are far apart", () => {
  const s = new Scheduler(200);
  const meta = table(4);
  s.push(meta, 0, 150);
  s.push(meta, 1, 31);
  s.push(meta, 2, 32);
  s.push(meta, 3, 0);
  const { slots, cursors } = drain(s, meta);
  assertEquals(slots, [3, 1, 2, 0]);
  assertEquals(cursors, [0, 31, 32, 150]);
});

test("scheduler accepts a push at the cursor depth during a drain and pops it after the earlier entries", () => {
  const s = new Scheduler(4);
  const meta = table(4);
  s.push(meta, 0, 1);
  s.push(meta, 1, 1);
  s.push(meta, 3, 3);
  assertEquals(s.pop(meta), 0);
  // Same depth as the cursor: appended behind slot 1.
  s.push(meta, 2, 1);
  assertEquals(drain(s, meta).slots, [1, 2, 3]);
});

test("scheduler pops the lowest queued depth when pushed again after a drain moved the cursor", () => {
  const s = new Scheduler(5);
  const meta = table(3);
  s.push(meta, 0, 4);
  assertEquals(drain(s, meta).slots, [0]);
  // A new round of pushes at lower depths must come out lowest depth first, as the JSDoc of
  // pop() promises ("the first slot of the lowest non-empty depth").
  s.push(meta, 1, 2);
  s.push(meta, 2, 0);
  assertEquals(drain(s, meta).slots, [2, 1]);
  assertEquals(s.pending, 0);
});

test("scheduler.forEachQueued visits entries in execution order without removing them", () => {
  const s = new Scheduler(5);
  const meta = table(6);
  const depths = [3, 0, 3, 1, 0, 4];
  for (let slot = 0; slot < depths.length; slot++) s.push(meta, slot, depths[slot]);
  assertEquals(queued(s, meta), [[1, 0], [4, 0], [3, 1], [0, 3], [2, 3], [5, 4]]);
  assertEquals(s.pending, 6);
  assertEquals(drain(s, meta).slots, [1, 4, 3, 0, 2, 5]);
});

test("scheduler.forEachQueued visits nothing when the queues are empty", () => {
  const s = new Scheduler(5);
  const meta = table(1);
  assertEquals(queued(s, meta), []);
});

test("scheduler.filter removes the dropped entries and keeps the others in order", () => {
  const s = new Scheduler(4);
  const meta = table(8);
  const depths = [0, 0, 0, 1, 1, 2, 2, 3];
  for (let slot = 0; slot < depths.length; slot++) s.push(meta, slot, depths[slot]);
  // Drop the head of depth 0, the tail of depth 1 (slot 4), all of depth 2, the lone depth 3.
  const dropped = new Set([0, 4, 5, 6, 7]);
  s.filter(meta, (slot) => dropped.has(slot));
  assertEquals(s.pending, 3);
  assertEquals(queued(s, meta), [[1, 0], [2, 0], [3, 1]]);
  assertEquals(drain(s, meta).slots, [1, 2, 3]);
});

test("scheduler.filter keeps tails right so later pushes append after the surviving entries", () => {
  const s = new Scheduler(2);
  const meta = table(6);
  s.push(meta, 0, 1);
  s.push(meta, 1, 1);
  s.push(meta, 2, 1);
  s.filter(meta, (slot) => slot === 2); // the tail goes
  s.push(meta, 3, 1);
  s.filter(meta, (slot) => slot === 0); // the head goes
  s.push(meta, 4, 1);
  s.filter(meta, (slot) => slot !== 5); // everything goes
  assertEquals(s.pending, 0);
  assertEquals(queued(s, meta), []);
  s.push(meta, 5, 1);
  assertEquals(drain(s, meta).slots, [5]);
});

test("scheduler.filter with a predicate that drops nothing leaves the queues unchanged", () => {
  const s = new Scheduler(3);
  const meta = table(3);
  s.push(meta, 0, 2);
  s.push(meta, 1, 0);
  s.push(meta, 2, 2);
  s.filter(meta, () => false);
  assertEquals(s.pending, 3);
  assertEquals(drain(s, meta).slots, [1, 0, 2]);
});

test("scheduler.clear empties every queue and resets pending and cursor", () => {
  const s = new Scheduler(40);
  const meta = table(4);
  s.push(meta, 0, 0);
  s.push(meta, 1, 5);
  s.push(meta, 2, 35);
  s.push(meta, 3, 5);
  assertEquals(s.pop(meta), 0);
  assertEquals(s.pop(meta), 1);
  assertEquals(s.cursor, 5);
  s.clear();
  assertEquals(s.pending, 0);
  assertEquals(s.cursor, 0);
  assertEquals(s.pop(meta), -1);
  assertEquals(queued(s, meta), []);
  for (let d = 0; d < s.depthCapacity; d++) {
    assertEquals(s.head[d], -1, `head of depth ${d}`);
    assertEquals(s.tail[d], -1, `tail of depth ${d}`);
  }
  assert(s.bits.every((w) => w === 0), "no depth is marked non-empty");
  // Usable afterwards, from depth 0 again.
  s.push(meta, 2, 3);
  s.push(meta, 3, 0);
  assertEquals(drain(s, meta).slots, [3, 2]);
});

test("scheduler.ensureDepth grows the queues by doubling and keeps queued entries", () => {
  const s = new Scheduler(4);
  const meta = table(3);
  assertEquals(s.depthCapacity, 4);
  s.push(meta, 0, 3);
  s.push(meta, 1, 1);
  s.ensureDepth(3); // already there: no change
  assertEquals(s.depthCapacity, 4);
  s.ensureDepth(70);
  assert(s.depthCapacity > 70, `capacity ${s.depthCapacity} covers depth 70`);
  assertEquals(s.depthCapacity, 128);
  s.push(meta, 2, 70);
  assertEquals(s.pending, 3);
  assertEquals(drain(s, meta).slots, [1, 0, 2]);
});

test("scheduler links entries through the NEXT column of the node table when pushing", () => {
  const s = new Scheduler(2);
  const meta = table(3);
  s.push(meta, 2, 0);
  s.push(meta, 0, 0);
  assertEquals(s.head[0], 2);
  assertEquals(s.tail[0], 0);
  assertEquals(meta[(2 << SHIFT) + NEXT], 0);
  assertEquals(meta[(0 << SHIFT) + NEXT], -1);
});

test("scheduler matches a sorted model over many random pushes and pops", () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const depthsN = 70;
  const slots = 500;
  const s = new Scheduler(depthsN);
  const meta = table(slots);
  // Model: per depth FIFO arrays. A slot is queued at most once (the executor de-duplicates).
  const model: number[][] = Array.from({ length: depthsN }, () => []);
  const queuedSet = new Set<number>();
  let cursor = 0;
  for (let step = 0; step < 5000; step++) {
    const op = rand(3);
    if (op < 2) {
      const slot = rand(slots);
      if (queuedSet.has(slot)) continue;
      const d = cursor + rand(depthsN - cursor);
      s.push(meta, slot, d);
      model[d].push(slot);
      queuedSet.add(slot);
    } else {
      const got = s.pop(meta);
      let want = -1;
      for (let d = cursor; d < depthsN; d++) {
        if (model[d].length > 0) {
          want = model[d].shift()!;
          cursor = d;
          break;
        }
      }
      assertEquals(got, want, `pop at step ${step}`);
      if (want !== -1) queuedSet.delete(want);
      if (queuedSet.size === 0) {
        // A drain is over: the next one starts from depth 0 (as the executor does).
        s.cursor = 0;
        cursor = 0;
      }
    }
    assertEquals(s.pending, queuedSet.size);
  }
});
