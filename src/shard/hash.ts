/**
 * The stable key hash that routes records to shards: the same key goes to the same shard on
 * every run, every thread and both runtimes, so one key's records are handled by one graph in
 * the order they were sent.
 *
 * @module
 */

import { checkInteger, describe, invalid } from "../core/validate.ts";

/** murmur3's 32-bit finalizer: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-8 bytes of `s` (what NATS's `partition()` mapping hashes). */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) {
      h = Math.imul(h ^ c, 0x01000193);
    } else if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), 0x01000193);
      h = Math.imul(h ^ (0x80 | (c & 63)), 0x01000193);
    } else if (c < 0x10000) {
      h = Math.imul(h ^ (0xe0 | (c >> 12)), 0x01000193);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 63)), 0x01000193);
      h = Math.imul(h ^ (0x80 | (c & 63)), 0x01000193);
    } else {
      h = Math.imul(h ^ (0xf0 | (c >> 18)), 0x01000193);
      h = Math.imul(h ^ (0x80 | ((c >> 12) & 63)), 0x01000193);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 63)), 0x01000193);
      h = Math.imul(h ^ (0x80 | (c & 63)), 0x01000193);
    }
  }
  return h >>> 0;
}

/**
 * The shard a key belongs to, out of `shards`: a stable hash of the key modulo the count. An
 * integer key is hashed from its value (so `7` and `7.0` agree), a string from its UTF-8 bytes.
 * The hash is not the one NATS's `partition()` mapping uses, on purpose: the keys of one
 * partition still spread over every shard of the process that owns it.
 *
 * @param key The record's key: a safe integer or a string.
 * @param shards How many shards: an integer in [1, 1024].
 * @returns The shard index, in [0, shards).
 * @throws {InvalidArgumentError} If the key is neither a safe integer nor a string, or `shards`
 *   is out of range.
 *
 * @example Routing keys
 * ```ts
 * import { shardOf } from "@wavelet/wavelet/shard";
 *
 * const a = shardOf(42, 4);
 * if (a !== shardOf(42, 4) || a < 0 || a > 3) throw new Error("stable and in range");
 * if (shardOf("acct-7", 1) !== 0) throw new Error("one shard takes every key");
 * ```
 */
export function shardOf(key: number | string, shards: number): number {
  checkInteger(shards, "The shard count", 1, 1024);
  return keyHash(key) % shards;
}

/** The 32-bit hash behind {@linkcode shardOf} (unchecked count; the key is checked). */
export function keyHash(key: number | string): number {
  if (typeof key === "number") {
    if (!Number.isSafeInteger(key)) {
      throw invalid(`A shard key must be a safe integer or a string, got ${describe(key)}`);
    }
    const lo = key >>> 0, hi = Math.floor(key / 4294967296) >>> 0;
    return fmix32(lo ^ fmix32(hi ^ 0x9e3779b9));
  }
  if (typeof key === "string") return fmix32(fnv1a32(key));
  throw invalid(`A shard key must be a safe integer or a string, got ${describe(key)}`);
}
