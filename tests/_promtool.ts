/**
 * `promtool check metrics` (Debian's `prometheus` package; `.ci/run` installs it) over a text,
 * for the tests of the metrics endpoint.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

/** What promtool said. */
export interface PromtoolResult {
  /** Its exit code: 0 when the text is valid and lint-clean. */
  code: number | null;
  /** Its stdout and stderr. */
  out: string;
}

/** Runs `promtool check metrics` with `text` on stdin. */
export function promtoolCheck(text: string): Promise<PromtoolResult> {
  const bin = ["/usr/bin/promtool", "/usr/local/bin/promtool"].find((p) => existsSync(p));
  if (bin === undefined) {
    throw new Error("promtool is not installed (Debian: apt-get install prometheus)");
  }
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    const dec = new TextDecoder();
    child.stdout!.on("data", (d: Uint8Array) => (out += dec.decode(d)));
    child.stderr!.on("data", (d: Uint8Array) => (out += dec.decode(d)));
    child.once("error", reject);
    child.once("close", (code: number | null) => resolve({ code, out }));
    child.stdin!.end(text);
  });
}
