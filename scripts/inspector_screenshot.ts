/**
 * Takes `docs/inspector.png`: runs the demo with `--http 0`, opens its inspector in headless
 * Chromium, selects the `sink` node once live counters have arrived, and captures the page.
 *
 *     deno run -A scripts/inspector_screenshot.ts [OUT.png]    (or: bun run ...)
 *
 * @module
 */

import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import process from "node:process";
import { Browser } from "../tests/_chromium.ts";

const out = process.argv[2] ?? new URL("../docs/inspector.png", import.meta.url).pathname;
const demo = new URL("../examples/demo.ts", import.meta.url).pathname;
// deno-lint-ignore no-explicit-any
const isBun = typeof (globalThis as any).Bun !== "undefined";
const args = isBun ? ["run", demo] : ["run", "-A", demo];
const child = spawn(process.execPath, [
  ...args,
  "--seconds",
  "40",
  "--host-seconds",
  "0",
  "--rate",
  "50000",
  "--http",
  "0",
], { stdio: ["ignore", "pipe", "inherit"] });
let text = "";
const url = await new Promise<string>((resolve, reject) => {
  child.stdout!.on("data", (d: Uint8Array) => {
    text += new TextDecoder().decode(d);
    const m = /inspector on (http:\/\/\S+)/.exec(text);
    if (m !== null) resolve(m[1]);
  });
  child.once("exit", (code) => reject(new Error(`the demo exited (${code}) before serving`)));
});
const browser = await Browser.launch(1440, 1010);
try {
  await browser.open(url);
  await browser.waitFor(`document.querySelectorAll("#graph .node").length >= 8`);
  // Let a few updates arrive, so that rates and histograms have data.
  await new Promise((r) => setTimeout(r, 4000));
  await browser.eval(
    `document.querySelector('#graph .node[data-name="sink"]').dispatchEvent(new MouseEvent("click"))`,
  );
  await browser.waitFor(`document.querySelectorAll("#detail .trace li").length >= 3`);
  await new Promise((r) => setTimeout(r, 1500));
  writeFileSync(out, await browser.screenshot());
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  child.kill("SIGINT");
}
