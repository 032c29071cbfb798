// Ctrl-C in a real terminal: each program runs on a pseudo-terminal made by `script` (util-linux;
// `.ci/run` installs it where it is missing), so its stdio is a terminal and the host runtimes
// install their terminal handling (Bun: a SIGINT handler that restores the terminal and
// re-raises; Deno: its own signal handling once process.stdout is touched). Writing "\x03" to
// the terminal is pressing Ctrl-C: the line discipline sends SIGINT to the program. Every case
// asserts that every onDrop ran and the exit code is 0.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, assertEquals, test } from "./_harness.ts";
import {
  type ChildResult,
  describe,
  driveChild,
  runtimeArgs,
  shellQuote,
  type Step,
} from "./_child.ts";

const CTRL_C = "\x03";
const fixture = fileURLToPath(new URL("./fixtures/terminal_child.ts", import.meta.url));
const root = fileURLToPath(new URL("../", import.meta.url));

/** Fails with a clear message where `script` is missing (it is part of util-linux). */
function requireScript(): void {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error(
      "These tests need `script` from util-linux on the PATH (Debian: apt-get install bsdutils; " +
        ".ci/run installs it)",
    );
  }
}

/** Runs `argv` on a pseudo-terminal and plays `steps`; the exit code is the program's. */
function inTerminal(argv: readonly string[], steps: readonly Step[]): Promise<ChildResult> {
  requireScript();
  // `script` runs the line with $SHELL -c. `exec` leaves no shell between the terminal and the
  // program: dash (the /bin/sh of a Debian CI machine) stays as a parent, hears the same
  // Ctrl-C and exits 130 after the program exited 0.
  const line = "exec " + argv.map(shellQuote).join(" ");
  // -e: exit with the program's status; -q: no banner; /dev/null: no typescript file.
  return driveChild(["script", "-q", "-e", "-c", line, "/dev/null"], steps, 40_000);
}

/** The README's realtime example (the heartbeat), importing this checkout's mod.ts. */
function readmeHeartbeat(dir: string): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  const code = blocks.find((b) => b.includes('.named("heartbeat")'));
  assert(code !== undefined, "the README has no heartbeat example");
  const file = join(dir, "heartbeat.ts");
  writeFileSync(
    file,
    code.replace(`"@wavelet/wavelet"`, JSON.stringify(new URL("../mod.ts", import.meta.url).href)),
  );
  return file;
}

test("Ctrl-C in a terminal stops the README's heartbeat example: onDrop ran, exit 0", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wavelet-readme-"));
  try {
    const r = await inTerminal(runtimeArgs(readmeHeartbeat(dir)), [
      { when: "Ctrl-C stops it", input: CTRL_C, delayMs: 150 },
    ]);
    assert(/heartbeat dropped after \d+ beats/.test(r.out), describe(r));
    assert(r.out.includes("stopped by signal 2"), describe(r));
    assertEquals([r.code, r.signal, r.timedOut], [0, null, false], describe(r));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, { timeoutMs: 50_000 });

test("Ctrl-C in a terminal stops a runtime after process.stdout was touched mid-run", async () => {
  const r = await inTerminal(runtimeArgs(fixture, ["touch"]), [
    { when: "ready", input: CTRL_C, delayMs: 150 },
  ]);
  assert(r.out.includes("stdout is a terminal: true"), `not on a terminal? ${describe(r)}`);
  assert(r.out.includes("done: dropped 4 signal 2"), describe(r));
  assertEquals([r.code, r.signal, r.timedOut], [0, null, false], describe(r));
}, { timeoutMs: 50_000 });

test("Ctrl-C in a terminal stops a runtime that runs in a Worker: onDrop ran, exit 0", async () => {
  const r = await inTerminal(runtimeArgs(fixture, ["worker"]), [
    { when: "ready", input: CTRL_C, delayMs: 150 },
  ]);
  assert(r.out.includes("done: dropped 4 signal 2"), describe(r));
  assertEquals([r.code, r.signal, r.timedOut], [0, null, false], describe(r));
}, { timeoutMs: 50_000 });

test("SIGTERM stops a runtime whose stdio is a terminal: onDrop ran, exit 0", async () => {
  const r = await inTerminal(runtimeArgs(fixture, ["touch"]), [
    { when: /ready pid=\d+/, pid: /ready pid=(\d+)/, signal: "SIGTERM", delayMs: 150 },
  ]);
  assert(r.out.includes("done: dropped 4 signal 15"), describe(r));
  assertEquals([r.code, r.signal, r.timedOut], [0, null, false], describe(r));
}, { timeoutMs: 50_000 });

test(
  "Ctrl-C pressed again during onDrop and after runForever() returns does not kill the process",
  async () => {
    const r = await inTerminal(runtimeArgs(fixture, ["touch", "slow"]), [
      { when: "ready", input: CTRL_C, delayMs: 150 },
      { when: "dropping", input: CTRL_C, delayMs: 100 },
      { when: "wrapping up", input: CTRL_C, delayMs: 100 },
    ]);
    assertEquals(r.fired, 3, describe(r));
    assert(r.out.includes("done: dropped 4 signal 2"), describe(r));
    assertEquals([r.code, r.signal, r.timedOut], [0, null, false], describe(r));
  },
  { timeoutMs: 50_000 },
);

/** The numbers of the demo's summary line that accounts for every update. */
function accounting(out: string): number[] | null {
  const m = out.match(
    /producers made ([\d,]+) updates = ([\d,]+) processed \+ ([\d,]+) dropped by the ring \+ ([\d,]+) in flight at stop \(left in the ring\) \+ ([\d,]+) refused after the stop \+ ([\d,]+) timed out on a full ring/,
  );
  return m === null ? null : m.slice(1).map((s) => Number(s.replace(/,/g, "")));
}

test(
  "Ctrl-C in a terminal stops the demo: every node dropped, the summary adds up, exit 0",
  async () => {
    const demo = join(root, "examples", "demo.ts");
    const r = await inTerminal(runtimeArgs(demo, ["--seconds", "30", "--rate", "20000"]), [
      // The live view redraws the frame; once it shows a latency line the graph has run a while.
      { when: /latency +p50/, input: CTRL_C, delayMs: 300 },
    ]);
    assert(r.out.includes("(stopped by SIGINT)"), describe(r));
    const m = r.out.match(/shut down: (\d+) of (\d+) graph nodes left the graph/);
    assert(m !== null && m[1] === m[2] && Number(m[2]) > 0, describe(r));
    const a = accounting(r.out);
    assert(a !== null, `no accounting line: ${describe(r)}`);
    const [made, ...parts] = a;
    assert(made > 0, describe(r));
    assertEquals(parts.reduce((x, y) => x + y, 0), made, `the summary adds up: ${a}`);
    assert(r.out.includes("bars digest"), describe(r));
    assertEquals([r.code, r.signal, r.timedOut], [0, null, false], describe(r));
  },
  { timeoutMs: 50_000 },
);
