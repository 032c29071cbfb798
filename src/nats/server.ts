/**
 * A local `nats-server -js` for tests, examples and benchmarks: started on a free loopback port
 * with its JetStream store in a temporary folder (removed when it stops), and account subject
 * mappings (the partition function) written into its configuration.
 *
 * @module
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, WaveletError } from "../core/errors.ts";
import { checkInteger, checkOptions, checkString, describe, invalid } from "../core/validate.ts";

/** The default when the option is absent (null is no absence: it is checked and refused). */
const orDefault = <T>(v: T | undefined, d: T): T => v === undefined ? d : v;

/**
 * Options of {@linkcode startNatsServer}.
 *
 * @example A server that partitions `orders.<key>` into 4
 * ```ts
 * import type { NatsServerOptions } from "@wavelet/wavelet/nats";
 *
 * const options: NatsServerOptions = {
 *   mappings: { "orders.*": "orders.{{partition(4,1)}}.{{wildcard(1)}}" },
 * };
 * if (Object.keys(options.mappings!).length !== 1) throw new Error("one mapping");
 * ```
 */
export interface NatsServerOptions {
  /** Account subject mappings, source subject to destination (see `partitionMapping`). */
  mappings?: Record<string, string>;
  /** The port (default: a free one the server picks). */
  port?: number;
  /** The server binary (default `nats-server` on the PATH). */
  binary?: string;
  /** Longest wait for the server to be ready, in ms (default 10000). */
  readyTimeoutMs?: number;
}

/**
 * A running local server, from {@linkcode startNatsServer}.
 *
 * @example Where to connect
 * ```ts
 * import type { NatsServer } from "@wavelet/wavelet/nats";
 *
 * function servers(s: NatsServer): string {
 *   return s.url; // "nats://127.0.0.1:PORT"
 * }
 * if (typeof servers !== "function") throw new Error("a function");
 * ```
 */
export interface NatsServer {
  /** `nats://127.0.0.1:PORT`. */
  readonly url: string;
  /** The port it listens on (kept across restarts). */
  readonly port: number;
  /** The JetStream store folder. */
  readonly storeDir: string;
  /** The server process id (changes on restart). */
  readonly pid: number;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and removes its folder. Idempotent. */
  stop(): Promise<void>;
  /** Stops the process but keeps the store; `restart()` brings it back on the same port. */
  halt(): Promise<void>;
  /** Starts it again on the same port with the same store (after `halt()`). */
  restart(): Promise<void>;
}

/**
 * True when a `nats-server` binary can be run (it answers `--version`).
 *
 * @param binary The binary (default `nats-server`).
 * @returns Whether it runs.
 *
 * @example Saying how to get one
 * ```ts
 * import { natsServerAvailable } from "@wavelet/wavelet/nats";
 *
 * if (!natsServerAvailable()) console.log("apt-get install nats-server");
 * ```
 */
export function natsServerAvailable(binary = "nats-server"): boolean {
  try {
    const r = spawnSync(binary, ["--version"], { stdio: "ignore", timeout: 5000 });
    return r.status === 0;
  } catch {
    return false;
  }
}

/**
 * Starts `nats-server` with JetStream on 127.0.0.1, its store in a new temporary folder, and
 * the given subject mappings. Resolves once it accepts clients.
 *
 * @param options Mappings, port, binary, ready timeout.
 * @returns The server: its URL, `stop()`, `halt()` and `restart()`.
 * @throws {InvalidArgumentError} If an option is not valid.
 * @throws {WaveletError} `UNSUPPORTED` if the binary cannot be run, `FAILED` if the server
 *   exits or is not ready in time (its output is in the message).
 *
 * @example A server for a test
 * ```ts ignore
 * import { startNatsServer } from "@wavelet/wavelet/nats";
 *
 * const server = await startNatsServer();
 * console.log(server.url);
 * await server.stop();
 * ```
 */
export async function startNatsServer(options?: NatsServerOptions): Promise<NatsServer> {
  if (options === undefined) options = {};
  const o = checkOptions(options, "startNatsServer's options", [
    "mappings",
    "port",
    "binary",
    "readyTimeoutMs",
  ]);
  const binary = o.binary === undefined
    ? "nats-server"
    : checkString(o.binary, "The binary option");
  const readyMs = checkInteger(
    orDefault(o.readyTimeoutMs, 10_000),
    "The readyTimeoutMs option",
    1,
    3.6e5,
  );
  let port = o.port === undefined ? -1 : checkInteger(o.port, "The port option", 1, 65535);
  const mappings: [string, string][] = [];
  if (o.mappings !== undefined) {
    if (o.mappings === null || typeof o.mappings !== "object") {
      throw invalid(`The mappings option must be an object, got ${describe(o.mappings)}`);
    }
    for (const [from, to] of Object.entries(o.mappings)) {
      const bad = /["\n\\]/;
      if (typeof to !== "string" || bad.test(from) || bad.test(to)) {
        throw invalid(
          `A mapping must be subject to subject, got ${describe(from)}: ${describe(to)}`,
        );
      }
      mappings.push([from, to]);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "wavelet-nats-"));
  const storeDir = join(dir, "store");
  const confPath = join(dir, "nats.conf");
  const writeConf = () =>
    writeFileSync(
      confPath,
      [
        `host: "127.0.0.1"`,
        `port: ${port}`,
        `jetstream { store_dir: "${storeDir}" }`,
        mappings.length === 0
          ? ""
          : `mappings = {\n${mappings.map(([f, t]) => `  "${f}": "${t}"`).join("\n")}\n}`,
        "",
      ].join("\n"),
    );
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let removed = false;

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      writeConf();
      let p: ChildProcess;
      try {
        p = spawn(binary, ["-c", confPath], { stdio: ["ignore", "ignore", "pipe"] });
      } catch (cause) {
        reject(
          new WaveletError(`Cannot run ${binary}: ${String(cause)}`, {
            code: ErrorCode.Unsupported,
            cause,
          }),
        );
        return;
      }
      child = p;
      let out = "";
      let ready = false;
      const timer = setTimeout(() => {
        fail(new WaveletError(`${binary} was not ready within ${readyMs} ms:\n${out}`));
      }, readyMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        if (!ready) {
          ready = true;
          try {
            p.kill("SIGKILL");
          } catch {
            // Already gone.
          }
          reject(e);
        }
      };
      exited = new Promise<void>((done) => {
        p.once("exit", (code, signal) => {
          if (child === p) child = null;
          fail(
            new WaveletError(`${binary} exited (${code ?? signal}) before it was ready:\n${out}`),
          );
          done();
        });
        // A binary that cannot be spawned never exits: it is over here.
        p.once("error", (cause) => {
          if (child === p) child = null;
          fail(
            new WaveletError(
              `Cannot run ${binary} (on Debian: apt-get install nats-server): ${cause.message}`,
              { code: ErrorCode.Unsupported, cause },
            ),
          );
          done();
        });
      });
      p.stderr!.setEncoding("utf8");
      p.stderr!.on("data", (chunk: string) => {
        if (ready) return;
        out += chunk;
        const m = /Listening for client connections on [^\s]*:(\d+)/.exec(out);
        if (m !== null && port < 0) port = Number(m[1]);
        if (/Server is ready/.test(out) && port > 0) {
          ready = true;
          clearTimeout(timer);
          p.stderr!.removeAllListeners("data");
          p.stderr!.resume(); // keep draining, so a chatty server never blocks on its pipe
          resolve();
        }
      });
    });

  const halt = async () => {
    const p = child;
    if (p === null) return;
    p.kill("SIGTERM");
    const t = setTimeout(() => p.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
  };

  try {
    await launch();
  } catch (e) {
    await halt();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    storeDir,
    get pid() {
      return (child as ChildProcess | null)?.pid ?? -1;
    },
    halt,
    async restart() {
      if (removed) throw invalid("Cannot restart a server that was stopped");
      await halt();
      await launch();
    },
    async stop() {
      await halt();
      if (!removed) {
        removed = true;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
