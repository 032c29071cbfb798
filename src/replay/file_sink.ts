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
