/**
 * A log sink that appends to a file.
 *
 * @module
 */

import { closeSync, openSync, writeSync } from "node:fs";
import type { LogSink } from "./tap.ts";

/**
 * A {@linkcode LogSink} writing to `path` (created or truncated).
 *
 * @param path The file to write.
 * @returns The sink.
 *
 * @example Recording to a file
 * ```ts
 * import { fileSink, ms, NodeBuilder, RealtimeRuntime, Replayer } from "@wavelet/wavelet";
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
  const fd = openSync(path, "w");
  return {
    write(bytes: Uint8Array) {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    },
    close() {
      closeSync(fd);
    },
  };
}
