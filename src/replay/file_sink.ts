/**
 * A log sink that appends to a file.
 *
 * @module
 */

import { closeSync, openSync, writeSync } from "node:fs";
import { checkInstance, checkString, invalid } from "../core/validate.ts";
import type { LogSink } from "./tap.ts";

/**
 * A {@linkcode LogSink} writing to `path` (created or truncated).
 *
 * @param path The file to write.
 * @returns The sink (closing it twice is harmless; writing after closing is an error).
 * @throws {InvalidArgumentError} If `path` is not a string or the file cannot be opened.
 *
 * @example Recording to a file
 * ```ts
 * import { ms, NodeBuilder, RealtimeRuntime } from "@wavelet/wavelet";
 * import { fileSink } from "@wavelet/wavelet/replay";
 * import { Replayer } from "./tap.ts";
 * import { mkdtempSync, readFileSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "wavelet-"));
 * const path = join(dir, "run.wvlog");
 * const rt = new RealtimeRuntime();
 * rt.startRecording(fileSink(path));
 * new NodeBuilder(0).named("once").onInit((ex, self) => ex.yieldNow(self)).build(
 *   rt.executor,
 *   () => true,
 * );
 * rt.runOneCycle(ms(10));
 * rt.shutdown(); // closes the file
 * const cycles = new Replayer(new Uint8Array(readFileSync(path))).cycleCount;
 * rmSync(dir, { recursive: true });
 * if (cycles !== 1) throw new Error("the file holds the recorded cycle");
 * ```
 */
export function fileSink(path: string): LogSink {
  checkString(path, "fileSink's path");
  let fd: number;
  try {
    fd = openSync(path, "w");
  } catch (cause) {
    throw invalid(`Cannot open ${path} for writing: ${(cause as Error).message}`, cause);
  }
  return {
    write(bytes: Uint8Array) {
      checkInstance(bytes, Uint8Array, "The bytes written");
      if (fd < 0) throw invalid(`The file sink of ${path} is closed`);
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    },
    close() {
      if (fd < 0) return;
      const was = fd;
      fd = -1;
      closeSync(was);
    },
  };
}
