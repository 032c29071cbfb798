// The demo (examples/demo.ts) as a child process under the current runtime: a short bounded run
// ends by itself with exit code 0 and a summary; Ctrl-C (SIGINT) ends it gracefully; and a
// recorded run replays on a historical runtime to the same bars (same digest).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { assert, assertEquals, isBun, test } from "./_harness.ts";

const demo = new URL("../examples/demo.ts", import.meta.url).pathname;

interface Result {
  code: number | null;
  out: string;
  err: string;
}

/**
 * Runs the demo with `args`. With `interrupt`, sends SIGINT `interrupt` ms after the demo printed
 * its banner (the graph is running by then).
 */
async function runDemo(args: string[], interrupt?: number): Promise<Result> {
  const dec = new TextDecoder();
  if (!isBun) {
    // deno-lint-ignore no-explicit-any
    const D = (globalThis as any).Deno;
    const child = new D.Command(D.execPath(), {
      args: ["run", "-A", demo, ...args],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let out = "", err = "";
    const readAll = async (stream: ReadableStream<Uint8Array>, sink: (s: string) => void) => {
      const reader = stream.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        sink(dec.decode(value, { stream: true }));
      }
    };
    let sent = false;
    const outDone = readAll(child.stdout, (s) => {
      out += s;
      if (interrupt !== undefined && !sent && out.includes("bars stream on")) {
        sent = true;
        setTimeout(() => child.kill("SIGINT"), interrupt);
      }
    });
    const errDone = readAll(child.stderr, (s) => (err += s));
    const status = await child.status;
    await Promise.all([outDone, errDone]);
    return { code: status.code, out, err };
  }
  const child = spawn(process.execPath, ["run", demo, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "", err = "", sent = false;
  child.stdout.on("data", (d: Uint8Array) => {
    out += dec.decode(d);
    if (interrupt !== undefined && !sent && out.includes("bars stream on")) {
      sent = true;
      setTimeout(() => child.kill("SIGINT"), interrupt);
    }
  });
  child.stderr.on("data", (d: Uint8Array) => (err += dec.decode(d)));
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  return { code, out, err };
}

function num(out: string, re: RegExp): number {
  const m = out.match(re);
  assert(m !== null, `no match for ${re} in:\n${out}`);
  return Number(m[1].replace(/,/g, ""));
}

/**
 * Checks the summary's accounting: every update the producers made is processed, dropped by
 * the ring, in flight at stop, refused after the stop, or timed out; and every node of the
 * graph left it (its onDrop ran).
 */
function assertAddsUp(out: string): void {
  const m = out.match(
    /^producers made ([\d,]+) updates = ([\d,]+) processed \+ ([\d,]+) dropped by the ring \+ ([\d,]+) in flight at stop \(left in the ring\) \+ ([\d,]+) refused after the stop \+ ([\d,]+) timed out on a full ring$/m,
  );
  assert(m !== null, `no accounting line in:\n${out}`);
  const [made, processed, ...rest] = m.slice(1).map((x) => Number(x.replace(/,/g, "")));
  assert(made > 0 && processed > 0, m[0]);
  assertEquals(processed + rest.reduce((a, b) => a + b, 0), made, m[0]);
  assertEquals(processed, num(out, /^updates ([\d,]+)/m), "the processed count is the updates");
  assert(rest.every((n) => n >= 0), m[0]);
  const nodes = out.match(/^shut down: (\d+) of (\d+) graph nodes left the graph/m);
  assert(nodes !== null && nodes[1] === nodes[2], `not every node left the graph:\n${out}`);
}

function digest(out: string): { digest: string; bars: number } {
  const m = out.match(/^bars digest ([0-9a-f]{16})\s+\((\d+) bars\)$/m);
  assert(m !== null, `no bars digest in:\n${out}`);
  return { digest: m[1], bars: Number(m[2]) };
}

test("the demo runs for 2 s, ends by itself with exit code 0 and prints a summary", async () => {
  const r = await runDemo(["--seconds", "2", "--host-seconds", "1", "--rate", "50000"]);
  const all = `stdout:\n${r.out}\nstderr:\n${r.err}`;
  assertEquals(r.code, 0, all);
  assert(r.out.includes("== summary"), all);
  assert(num(r.out, /^updates ([\d,]+)/m) > 0, all);
  assertEquals(num(r.out, /glitches (\d+)/), 0, all);
  assert(/^latency update->sink .*p50 .* p99 .* p99\.9 /m.test(r.out), all);
  assert(/^\s+p99\.9\s+\S+ \S+\s+\S+ \S+$/m.test(r.out), `no side-by-side table:\n${all}`);
  assert(digest(r.out).bars > 0, all);
  assertAddsUp(r.out);
}, { timeoutMs: 45_000 });

test("SIGINT stops the demo gracefully: exit code 0, producers stopped, summary", async () => {
  const r = await runDemo(["--seconds", "30", "--rate", "50000"], 1500);
  const all = `stdout:\n${r.out}\nstderr:\n${r.err}`;
  assertEquals(r.code, 0, all);
  assert(r.out.includes("(stopped by SIGINT)"), all);
  assert(num(r.out, /^updates ([\d,]+)/m) > 0, all);
  assert(!r.out.includes("host-loop baseline"), "the baseline is skipped after Ctrl-C");
  assertAddsUp(r.out);
}, { timeoutMs: 45_000 });

test("a recorded run replays on a historical runtime to the same bars", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wavelet-demo-"));
  const log = join(dir, "demo.log");
  try {
    const rec = await runDemo([
      "--seconds",
      "1.5",
      "--host-seconds",
      "0",
      "--rate",
      "50000",
      "--record",
      log,
    ]);
    assertEquals(rec.code, 0, `stdout:\n${rec.out}\nstderr:\n${rec.err}`);
    const rep = await runDemo(["--replay", log]);
    assertEquals(rep.code, 0, `stdout:\n${rep.out}\nstderr:\n${rep.err}`);
    const live = digest(rec.out), replayed = digest(rep.out);
    assert(live.bars > 0, `the recorded run closed no bars:\n${rec.out}`);
    assertEquals(replayed, live, "same bars, same digest");
    assertEquals(
      num(rep.out, /: ([\d,]+) updates/),
      num(rec.out, /^updates ([\d,]+)/m),
      "same updates",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, { timeoutMs: 45_000 });
