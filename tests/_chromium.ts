/**
 * Headless Chromium driven through the DevTools protocol, for tests that read a live page's DOM
 * (and for the script that takes the inspector's screenshot): start it on a free debugging port,
 * open a URL, evaluate expressions in the page, capture a screenshot, stop it. Works under Deno
 * and Bun (both have `WebSocket` and `fetch`). Debian's package is `chromium`; `.ci/run`
 * installs it.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** The Chromium binary, or null when none is installed. */
export function chromiumPath(): string | null {
  for (const p of ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]) {
    if (existsSync(p)) return p;
  }
  return null;
}

/** A headless browser with one page. */
export class Browser {
  readonly #proc: ChildProcess;
  readonly #dir: string;
  readonly #ws: WebSocket;
  #next = 1;
  readonly #pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  #closed = false;

  private constructor(proc: ChildProcess, dir: string, ws: WebSocket) {
    this.#proc = proc;
    this.#dir = dir;
    this.#ws = ws;
    ws.onmessage = (e: MessageEvent) => {
      const m = JSON.parse(String(e.data));
      const p = m.id === undefined ? undefined : this.#pending.get(m.id);
      if (p === undefined) return;
      this.#pending.delete(m.id);
      if (m.error !== undefined) p.fail(new Error(`DevTools: ${JSON.stringify(m.error)}`));
      else p.ok(m.result);
    };
  }

  /** Starts Chromium (window `width` x `height`) and attaches to its first page. */
  static async launch(width = 1400, height = 1000): Promise<Browser> {
    const bin = chromiumPath();
    if (bin === null) {
      throw new Error("Chromium is not installed (Debian: apt-get install chromium)");
    }
    const dir = mkdtempSync(join(tmpdir(), "wavelet-chromium-"));
    const proc = spawn(bin, [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--hide-scrollbars",
      `--window-size=${width},${height}`,
      "--remote-debugging-port=0",
      `--user-data-dir=${dir}`,
      "about:blank",
    ], { stdio: ["ignore", "ignore", "pipe"], detached: true });
    let stderr = "";
    proc.stderr!.on("data", (d: Uint8Array) => (stderr += new TextDecoder().decode(d)));
    try {
      // Chromium writes the port it picked into the profile folder.
      const portFile = join(dir, "DevToolsActivePort");
      let port = 0;
      for (let i = 0; i < 300 && port === 0; i++) {
        if (existsSync(portFile)) port = Number(readFileSync(portFile, "utf8").split("\n")[0]);
        if (port === 0) await sleep(100);
      }
      if (!(port > 0)) throw new Error(`Chromium did not start: ${stderr.slice(-2000)}`);
      let url: string | undefined;
      for (let i = 0; i < 100 && url === undefined; i++) {
        const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
        url = targets.find((t: { type: string }) => t.type === "page")?.webSocketDebuggerUrl;
        if (url === undefined) await sleep(100);
      }
      if (url === undefined) throw new Error("Chromium has no page to attach to");
      const ws = new WebSocket(url);
      await new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error("cannot connect to Chromium's DevTools socket"));
      });
      return new Browser(proc, dir, ws);
    } catch (err) {
      kill(proc);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Sends a DevTools command and waits for its result. */
  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#next++;
    return new Promise((ok, fail) => {
      this.#pending.set(id, { ok, fail });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Opens `url` in the page. */
  async open(url: string): Promise<void> {
    await this.send("Page.enable");
    await this.send("Page.navigate", { url });
  }

  /** Evaluates `expression` in the page and returns its (JSON) value. */
  async eval<T>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression, returnByValue: true }) as {
      result: { value?: T };
      exceptionDetails?: { text: string };
    };
    if (r.exceptionDetails !== undefined) {
      throw new Error(`page threw: ${JSON.stringify(r.exceptionDetails)}`);
    }
    return r.result.value as T;
  }

  /** Waits until `expression` is truthy in the page (or throws after `timeoutMs`). */
  async waitFor(expression: string, timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (await this.eval<boolean>(`Boolean(${expression})`)) return;
      if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`);
      await sleep(100);
    }
  }

  /** A PNG of the page's viewport. */
  async screenshot(): Promise<Uint8Array> {
    const r = await this.send("Page.captureScreenshot", { format: "png" }) as { data: string };
    const bin = atob(r.data);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  /** Stops Chromium and removes its profile. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) p.fail(new Error("the browser closed"));
    this.#pending.clear();
    const closed = new Promise<void>((r) => {
      if (this.#ws.readyState === WebSocket.CLOSED) r();
      else this.#ws.onclose = () => r();
    });
    this.#ws.close();
    await within(closed, 2000);
    const exited = new Promise<void>((r) => {
      if (this.#proc.exitCode !== null || this.#proc.signalCode !== null) r();
      else this.#proc.once("exit", () => r());
    });
    kill(this.#proc);
    await within(exited, 5000);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Ends Chromium and its helper processes (it was started as a process group). */
function kill(proc: ChildProcess): void {
  try {
    if (proc.pid !== undefined) process.kill(-proc.pid, "SIGKILL");
  } catch {
    proc.kill("SIGKILL"); // no group (already gone, or not a group leader)
  }
}

/** Waits for `p`, or `ms` at most (the timer is cleared either way: no timer is left behind). */
async function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
