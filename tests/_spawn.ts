/**
 * A child process the test talks to while it runs (the endpoint tests read its output for a
 * URL, then use the URL, then signal it): `Deno.Command` under Deno (its node:child_process
 * reports the signal sent by kill() as the exit reason even when the child handled it and
 * exited 0), node:child_process under Bun.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { isBun } from "./_harness.ts";

/** A running child. */
export interface Running {
  /** Its stdout and stderr so far. */
  output(): string;
  /** Resolves with the first match of `re` in the output, or rejects when the child exits. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends a signal (ignored once it exited). */
  kill(signal: "SIGINT" | "SIGTERM" | "SIGKILL"): void;
  /** Its exit code once it ended (null when a signal ended it). */
  exited: Promise<number | null>;
}

/** Starts `argv` with stdout and stderr collected. */
export function start(argv: readonly string[]): Running {
  const dec = new TextDecoder();
  let out = "", ended = false;
  let exited: Promise<number | null>;
  let kill: (s: string) => void;
  if (!isBun) {
    // deno-lint-ignore no-explicit-any
    const D = (globalThis as any).Deno;
    const child = new D.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      const reader = stream.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        out += dec.decode(value, { stream: true });
      }
    };
    const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
    exited = (async () => {
      const status = await child.status;
      await pumped;
      return status.code;
    })();
    kill = (s) => {
      try {
        child.kill(s);
      } catch {
        // already gone
      }
    };
  } else {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (d: Uint8Array) => (out += dec.decode(d)));
    child.stderr!.on("data", (d: Uint8Array) => (out += dec.decode(d)));
    exited = new Promise((r) => child.once("close", (code: number | null) => r(code)));
    kill = (s) => {
      if (!ended) child.kill(s as "SIGKILL");
    };
  }
  exited.then(() => (ended = true));
  return {
    output: () => out,
    exited,
    kill: (s) => {
      if (!ended) kill(s);
    },
    waitFor(re, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const end = Date.now() + timeoutMs;
        const poll = () => {
          const m = re.exec(out);
          if (m !== null) return resolve(m);
          if (ended) return reject(new Error(`the child exited without ${re}:\n${out}`));
          if (Date.now() > end) {
            return reject(new Error(`no ${re} within ${timeoutMs} ms:\n${out}`));
          }
          setTimeout(poll, 20);
        };
        poll();
      });
    },
  };
}
