import { assert, assertEquals, isBun, test } from "./_harness.ts";
import { spawnSync } from "node:child_process";
import process from "node:process";

test("a listener out of fds (EMFILE) backs off instead of spinning, then accepts again", () => {
  const script = new URL("./fixtures/emfile_child.ts", import.meta.url).pathname;
  const run = isBun
    ? `"${process.execPath}" "${script}"`
    : `"${process.execPath}" run -A "${script}"`;
  // A small fd table for the child only: its client connections fill it.
  const r = spawnSync("bash", ["-c", `ulimit -n 96 && exec ${run}`], {
    encoding: "utf8",
    timeout: 30_000,
  });
  assertEquals(r.status, 0, `child failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  assert(out.clients > 40, `the child opened ${out.clients} connections before EMFILE`);
  // 300 ms with a full table and a level-triggered readable listener: spinning would run it
  // every cycle (thousands of times); the 50 ms back-off runs it a handful of times.
  assert(out.runsAtFull >= 1 && out.runsAtFull <= 20, `listener ran ${out.runsAtFull} times`);
  assertEquals(out.acceptedAfter, 40, "the 40 freed fds went to pending connections");
}, { timeoutMs: 60_000 });
