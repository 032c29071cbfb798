/**
 * Drives a child process step by step for the signal and terminal tests: wait for a line of its
 * output, then send it a signal or write bytes to its stdin (through `script`, bytes written to
 * stdin reach a real pseudo-terminal, where "\x03" is Ctrl-C). Every wait is bounded: a child
 * that hangs is killed with SIGKILL and reported as timed out, never waited for forever.
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { isBun } from "./_harness.ts";

/** One step: once `when` appears in the output, send `signal` or write `input`. */
export interface Step {
  /** Text (or pattern) to wait for in stdout and stderr, escape sequences removed. */
  when: string | RegExp;
  /** A signal for the child. */
  signal?: "SIGINT" | "SIGTERM";
  /** Bytes for the child's stdin. */
  input?: string;
  /** Wait this long after `when` appeared before acting (the child parks meanwhile). */
  delayMs?: number;
  /**
   * Send `signal` to the process whose id this pattern's first group captures in the output
   * (a grandchild, such as the program `script` runs) instead of the child itself.
   */
  pid?: RegExp;
}

/** How the child ended. */
export interface ChildResult {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it, or null. */
  signal: string | null;
  /** stdout then stderr, escape sequences and carriage returns removed. */
  out: string;
  /** True when it outlived the time limit and was killed. */
  timedOut: boolean;
  /** Steps that fired. */
  fired: number;
}

/** The command line that runs `script` on the current runtime (Deno: with -A). */
export function runtimeArgs(script: string, args: readonly string[] = []): string[] {
  // deno-lint-ignore no-explicit-any
  const D = (globalThis as any).Deno;
  return isBun
    ? [process.execPath, "run", script, ...args]
    : [D.execPath(), "run", "-A", script, ...args];
}

/** Removes terminal escape sequences and carriage returns. */
export function plain(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
}

/** Quotes `s` for a POSIX shell. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./=:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs `argv` and plays `steps` in order. Deno: `Deno.Command` (its node:child_process reports
 * the signal sent by kill() as the exit reason even when the child handled it and exited 0);
 * Bun: `node:child_process`.
 */
export async function driveChild(
  argv: readonly string[],
  steps: readonly Step[],
  timeoutMs: number,
): Promise<ChildResult> {
  const dec = new TextDecoder();
  let raw = "", fired = 0, timedOut = false;
  let kill!: (sig: string) => void;
  let write!: (s: string) => void;
  const onOutput = (chunk: string) => {
    raw += chunk;
    for (;;) {
      const step = steps[fired];
      if (step === undefined) return;
      const text = plain(raw);
      const hit = typeof step.when === "string" ? text.includes(step.when) : step.when.test(text);
      if (!hit) return;
      fired++;
      const act = () => {
        if (step.signal !== undefined && step.pid !== undefined) {
          const m = text.match(step.pid);
          if (m !== null) process.kill(Number(m[1]), step.signal);
        } else if (step.signal !== undefined) kill(step.signal);
        if (step.input !== undefined) write(step.input);
      };
      if (step.delayMs) setTimeout(act, step.delayMs);
      else act();
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true;
      kill("SIGKILL");
      resolve();
    }, timeoutMs);
  });
  try {
    if (!isBun) {
      // deno-lint-ignore no-explicit-any
      const D = (globalThis as any).Deno;
      const child = new D.Command(argv[0], {
        args: argv.slice(1),
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      kill = (sig) => {
        try {
          child.kill(sig);
        } catch {
          // already gone
        }
      };
      write = (s) => void writer.write(new TextEncoder().encode(s)).catch(() => {});
      const pump = async (stream: ReadableStream<Uint8Array>) => {
        const reader = stream.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          onOutput(dec.decode(value, { stream: true }));
        }
      };
      const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
      const status = await child.status;
      await Promise.race([pumped, limit]);
      await writer.close().catch(() => {});
      return { code: status.code, signal: status.signal, out: plain(raw), timedOut, fired };
    }
    const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    kill = (sig) => {
      child.kill(sig as "SIGKILL");
    };
    write = (s) => {
      child.stdin.write(s);
    };
    child.stdout.on("data", (d: Uint8Array) => onOutput(dec.decode(d)));
    child.stderr.on("data", (d: Uint8Array) => onOutput(dec.decode(d)));
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.on("close", (c, s) => resolve([c, s]))
    );
    child.stdin.destroy();
    return { code, signal, out: plain(raw), timedOut, fired };
  } finally {
    clearTimeout(timer);
  }
}

/** A one-line summary of a child's end, for assertion messages. */
export function describe(r: ChildResult): string {
  return `code ${r.code}, signal ${r.signal}, timed out ${r.timedOut}, steps fired ${r.fired}\n` +
    `output:\n${r.out}`;
}
