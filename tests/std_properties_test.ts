/**
 * Property tests of the std nodes (fast-check): random push sequences and random clock
 * advances drive the real nodes on a TestRuntime (one cycle per step), and every broadcast
 * (step, value) is compared with a simple reference model evaluated step by step. The models
 * never use timers: they look at every step's time directly, so they also check that the
 * nodes' timers make them run exactly when they should.
 *
 * @module
 */

import fc from "fast-check";
import {
  accumulate,
  and,
  combineLatest,
  debounce,
  deduplicate,
  distinctUntilChanged,
  filter,
  filterBatch,
  map,
  or,
  periodic,
  scan,
  throttle,
  windowCount,
  windowTime,
  xor,
} from "../std.ts";
import { type Executor, type Node, TestRuntime } from "../mod.ts";
import { probe, pushNode } from "../testing.ts";
import { assertEquals, test } from "./_harness.ts";

const params = { numRuns: 250 };

/** One step: advance the clock by `dt` ns, push what is given, run one cycle. */
interface Step {
  dt: number;
  a: number | null;
  b: number | null;
  batch: number[] | null;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  dt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })),
  a: fc.option(fc.integer({ min: -5, max: 5 }), { freq: 2 }),
  b: fc.option(fc.integer({ min: -5, max: 5 }), { freq: 2 }),
  batch: fc.option(fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 6 }), { freq: 2 }),
});
const stepsArb = fc.array(stepArb, { minLength: 1, maxLength: 60 });

type Out<T> = [step: number, value: T][];

/** Runs `steps` on a fresh runtime; `wire` builds the nodes under test from the inputs. */
function drive<T>(
  steps: Step[],
  wire: (
    ex: Executor,
    a: Node<number>,
    b: Node<number>,
    batch: Node<readonly number[]>,
  ) => Node<T>,
): { out: Out<T>; times: number[] } {
  const rt = new TestRuntime();
  const ex = rt.executor;
  const a = pushNode(ex, 0), b = pushNode(ex, 0);
  const batch = pushNode<readonly number[]>(ex, []);
  const p = probe(ex, wire(ex, a.node, b.node, batch.node), {
    copy: (v) => (Array.isArray(v) ? [...v] : v) as T,
  });
  const times: number[] = [];
  for (const s of steps) {
    rt.advanceClock(s.dt);
    if (s.a !== null) a.push(s.a);
    if (s.b !== null) b.push(s.b);
    if (s.batch !== null) batch.push(s.batch);
    rt.runOneCycle();
    times.push(rt.clock.nowNs());
  }
  return { out: p.records.map((r) => [r.epoch - 1, r.value]), times };
}

function timesOf(steps: Step[]): number[] {
  let t = 0;
  return steps.map((s) => (t += s.dt));
}

test("map matches the model: fn of every pushed value", () => {
  fc.assert(
    fc.property(stepsArb, (steps) => {
      const { out } = drive(steps, (ex, a) => map(ex, a, (x) => x * 3 + 1));
      const model: Out<number> = [];
      steps.forEach((s, i) => s.a !== null && model.push([i, s.a * 3 + 1]));
      assertEquals(out, model);
    }),
    params,
  );
});

test("filter matches the model: pushed values that pass", () => {
  fc.assert(
    fc.property(stepsArb, (steps) => {
      const { out } = drive(steps, (ex, a) => filter(ex, a, (x) => x % 2 === 0, { initial: 0 }));
      const model: Out<number> = [];
      steps.forEach((s, i) => s.a !== null && s.a % 2 === 0 && model.push([i, s.a]));
      assertEquals(out, model);
    }),
    params,
  );
});

test("scan matches the model: running fold emitted on every push", () => {
  fc.assert(
    fc.property(stepsArb, (steps) => {
      const { out } = drive(steps, (ex, a) => scan(ex, a, 1, (acc, x) => (acc * 7 + x) % 1009));
      const model: Out<number> = [];
      let acc = 1;
      steps.forEach((s, i) => {
        if (s.a === null) return;
        acc = (acc * 7 + s.a) % 1009;
        model.push([i, acc]);
      });
      assertEquals(out, model);
    }),
    params,
  );
});

test("distinctUntilChanged matches the model: pushes whose key differs from the last emitted", () => {
  fc.assert(
    fc.property(stepsArb, (steps) => {
      const { out } = drive(steps, (ex, a) => distinctUntilChanged(ex, a, { key: Math.abs }));
      const model: Out<number> = [];
      let last: number | undefined;
      steps.forEach((s, i) => {
        if (s.a === null || Math.abs(s.a) === last) return;
        last = Math.abs(s.a);
        model.push([i, s.a]);
      });
      assertEquals(out, model);
    }),
    params,
  );
});

test("filterBatch and deduplicate match the model: per-batch results, emitted iff non-empty", () => {
  fc.assert(
    fc.property(stepsArb, (steps) => {
      const f = drive(steps, (ex, _a, _b, batch) => filterBatch(ex, batch, (x) => x > 2)).out;
      const d = drive(steps, (ex, _a, _b, batch) => deduplicate(ex, batch, (x) => x % 4)).out;
      const fm: Out<readonly number[]> = [], dm: Out<readonly number[]> = [];
      steps.forEach((s, i) => {
        if (s.batch === null) return;
        const fo = s.batch.filter((x) => x > 2);
        if (fo.length > 0) fm.push([i, fo]);
        const seen: number[] = [];
        const dout = s.batch.filter((x) => seen.includes(x % 4) ? false : (seen.push(x % 4), true));
        if (dout.length > 0) dm.push([i, dout]);
      });
      assertEquals(f, fm);
      assertEquals(d, dm);
    }),
    params,
  );
});

test("accumulate matches the model, with and without per-batch reset, always emitting", () => {
  fc.assert(
    fc.property(stepsArb, (steps) => {
      const run = drive(steps, (ex, _a, _b, batch) => accumulate(ex, batch, 0, (s, x) => s + x));
      const per = drive(
        steps,
        (ex, _a, _b, batch) => accumulate(ex, batch, 0, (s, x) => s + x, { reset: () => 0 }),
      );
      const rm: Out<number> = [], pm: Out<number> = [];
      let total = 0;
      steps.forEach((s, i) => {
        if (s.batch === null) return;
        const sum = s.batch.reduce((x, y) => x + y, 0);
        total += sum;
        rm.push([i, total]);
        pm.push([i, sum]);
      });
      assertEquals(run.out, rm);
      assertEquals(per.out, pm);
    }),
    params,
  );
});

test("windowCount matches the model for random size and step", () => {
  fc.assert(
    fc.property(
      stepsArb,
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 6 }),
      (steps, size, step) => {
        const { out } = drive(steps, (ex, a) => windowCount(ex, a, size, { step }));
        const model: Out<readonly number[]> = [];
        const seen: number[] = [];
        steps.forEach((s, i) => {
          if (s.a === null) return;
          seen.push(s.a);
          const n = seen.length;
          if (n >= size && (n - size) % step === 0) model.push([i, seen.slice(n - size)]);
        });
        assertEquals(out, model);
      },
    ),
    params,
  );
});

test("and/or/xor match the model: recompute on any input push, emit only on change", () => {
  fc.assert(
    fc.property(stepsArb, fc.boolean(), (steps, init) => {
      const ops: [typeof and, (x: boolean, y: boolean) => boolean][] = [
        [and, (x, y) => x && y],
        [or, (x, y) => x || y],
        [xor, (x, y) => x !== y],
      ];
      for (const [node, op] of ops) {
        const { out } = drive(steps, (ex, a, b) => {
          const la = map(ex, a, (x) => x > 0), lb = map(ex, b, (x) => x > 0);
          return node(ex, la, lb, { init });
        });
        const model: Out<boolean> = [];
        let va = false, vb = false, v = init;
        steps.forEach((s, i) => {
          if (s.a === null && s.b === null) return;
          if (s.a !== null) va = s.a > 0;
          if (s.b !== null) vb = s.b > 0;
          const r = op(va, vb);
          if (r !== v) model.push([i, v = r]);
        });
        assertEquals(out, model);
      }
    }),
    params,
  );
});

test("combineLatest matches the model: after both pushed, every cycle with a push", () => {
  fc.assert(
    fc.property(stepsArb, fc.boolean(), (steps, requireAll) => {
      const { out } = drive(
        steps,
        (ex, a, b) => combineLatest(ex, [a, b] as const, { requireAll }),
      );
      const model: Out<readonly number[]> = [];
      let va = 0, vb = 0, sa = false, sb = false;
      steps.forEach((s, i) => {
        if (s.a !== null) (va = s.a), (sa = true);
        if (s.b !== null) (vb = s.b), (sb = true);
        if ((s.a !== null || s.b !== null) && (!requireAll || (sa && sb))) {
          model.push([i, [va, vb]]);
        }
      });
      assertEquals(out, model);
    }),
    params,
  );
});

test("throttle matches the model (leading, and leading + trailing) under random clock advances", () => {
  fc.assert(
    fc.property(stepsArb, fc.integer({ min: 0, max: 60 }), fc.boolean(), (steps, iv, trailing) => {
      const { out } = drive(steps, (ex, a) => throttle(ex, a, iv, { trailing }));
      const times = timesOf(steps);
      const model: Out<number> = [];
      let last = -Infinity;
      let pending: number | null = null;
      steps.forEach((s, i) => {
        const t = times[i];
        const cand = s.a !== null ? s.a : pending;
        if (cand === null) return;
        if (t >= last + iv) {
          model.push([i, cand]);
          last = t;
          pending = null;
        } else if (s.a !== null && trailing) {
          pending = s.a;
        }
      });
      assertEquals(out, model);
    }),
    params,
  );
});

test("debounce matches the model: a value is emitted at the first step quietNs after it", () => {
  fc.assert(
    fc.property(stepsArb, fc.integer({ min: 0, max: 60 }), (steps, q) => {
      const { out } = drive(steps, (ex, a) => debounce(ex, a, q));
      const times = timesOf(steps);
      // Declarative: push at step i is emitted at the first step j >= i with
      // times[j] >= times[i] + q, provided no other push happened in steps i+1 .. j-1.
      const model: Out<number> = [];
      steps.forEach((s, i) => {
        if (s.a === null) return;
        for (let j = i; j < steps.length; j++) {
          if (j - 1 > i && steps[j - 1].a !== null) return; // superseded by a later push
          if (times[j] >= times[i] + q) {
            model.push([j, s.a]);
            return;
          }
        }
      });
      model.sort((x, y) => x[0] - y[0]);
      assertEquals(out, model);
    }),
    params,
  );
});

test("windowTime matches the model: grid windows from the first value, emitted at close", () => {
  fc.assert(
    fc.property(stepsArb, fc.integer({ min: 1, max: 50 }), (steps, d) => {
      const { out } = drive(steps, (ex, a) => windowTime(ex, a, d));
      const times = timesOf(steps);
      let anchor: number | null = null;
      const win = new Map<number, number[]>(); // window index -> values
      steps.forEach((s, i) => {
        if (s.a === null) return;
        anchor ??= times[i];
        const k = Math.floor((times[i] - anchor) / d);
        (win.get(k) ?? win.set(k, []).get(k)!).push(s.a);
      });
      const model: Out<readonly number[]> = [];
      for (const [k, vals] of [...win].sort((x, y) => x[0] - y[0])) {
        const end = anchor! + (k + 1) * d;
        const j = times.findIndex((t) => t >= end);
        if (j >= 0) model.push([j, vals]);
      }
      assertEquals(out, model);
    }),
    params,
  );
});

test("periodic matches the model: a tick at the first step past each new grid deadline", () => {
  fc.assert(
    fc.property(stepsArb, fc.integer({ min: 1, max: 50 }), (steps, period) => {
      const { out } = drive(steps, (ex) => periodic(ex, period));
      const times = timesOf(steps);
      const start = times[0];
      const model: Out<number> = [];
      let lastK = 0;
      times.forEach((t, i) => {
        const k = Math.floor((t - start) / period);
        if (k > lastK) model.push([i, lastK = k]);
      });
      assertEquals(out, model);
    }),
    params,
  );
});
