/**
 * Socket addresses: numeric IPv4 and IPv6 addresses with a port, parsed by `inet_pton` in the
 * native library and kept as the 24-byte buffer the socket calls take (parse once, send many).
 * Host names are not resolved: the runtime never blocks on DNS.
 *
 * @module
 */

import { ADDR_LEN, type NativeBackend } from "../../ffi/backend.ts";
import { describe, invalid } from "../core/validate.ts";
import { NetError } from "./errors.ts";
import { ErrorCode } from "../core/errors.ts";

/**
 * @internal Checks a backend argument: an object with the socket calls (the native backend or
 * the pure-JS one, which refuses them with an `UnsupportedError`).
 */
export function checkBackend(backend: unknown, what: string): NativeBackend {
  let create: unknown;
  try {
    create = backend !== null && typeof backend === "object"
      ? (backend as NativeBackend).socketCreate
      : undefined;
  } catch (cause) {
    throw invalid(`${what} could not be read`, cause);
  }
  if (typeof create !== "function") {
    throw invalid(`${what} must be a native backend, got ${describe(backend)}`);
  }
  return backend as NativeBackend;
}

/** @internal The backend of a `NetRuntime` argument (`{ backend }` or a realtime runtime). */
export function netBackend(rt: unknown, what: string): NativeBackend {
  let backend: unknown;
  try {
    backend = rt !== null && typeof rt === "object" ? (rt as NetRuntime).backend : undefined;
  } catch (cause) {
    throw invalid(`${what} could not be read`, cause);
  }
  if (backend === undefined) {
    throw invalid(`${what} must be a runtime with a backend, got ${describe(rt)}`);
  }
  return checkBackend(backend, `${what}'s backend`);
}

/**
 * Anything that carries a backend: a `RealtimeRuntime`, or `{ backend }`.
 *
 * @example Anything with a backend
 * ```ts
 * import { RealtimeRuntime } from "@wavelet/wavelet";
 * import { type NetRuntime, SocketAddress } from "@wavelet/wavelet/net";
 *
 * function loopback(net: NetRuntime, port: number): SocketAddress {
 *   return SocketAddress.parse(net, "127.0.0.1", port);
 * }
 * const rt = new RealtimeRuntime();
 * const viaRuntime = loopback(rt, 8080);
 * const viaBackend = loopback({ backend: rt.backend }, 8081);
 * rt.shutdown();
 * if (viaRuntime.toString() !== "127.0.0.1:8080" || viaBackend.port !== 8081) {
 *   throw new Error("parsed with the runtime's native library");
 * }
 * ```
 */
export interface NetRuntime {
  /** The native backend the sockets are created with. */
  readonly backend: NativeBackend;
}

/**
 * An IPv4 or IPv6 address with a port.
 *
 * @example
 * ```ts ignore
 * import { RealtimeRuntime } from "@wavelet/wavelet";
 * import { SocketAddress } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * const a = SocketAddress.parse(rt, "::1", 8080);
 * console.log(a.family, a.toString()); // 6 "[::1]:8080"
 * rt.shutdown();
 * ```
 */
export class SocketAddress {
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** The address in its canonical text form (`"127.0.0.1"`, `"::1"`). */
  readonly address: string;
  /** The port, 0..65535. */
  readonly port: number;
  /** @internal The native address buffer (ADDR_LEN bytes). */
  readonly _bytes: Uint8Array;

  /**
   * @internal Wraps a filled native address buffer (use {@linkcode SocketAddress.parse}).
   *
   * @param bytes An address buffer written by the native library.
   * @throws {InvalidArgumentError} If `bytes` is not a Uint8Array of `ADDR_LEN` bytes.
   */
  constructor(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== ADDR_LEN) {
      throw invalid(
        `A socket address needs a Uint8Array of ${ADDR_LEN} bytes, got ${describe(bytes)}`,
      );
    }
    this._bytes = bytes;
    this.family = bytes[22] === 6 ? 6 : 4;
    this.port = (bytes[20] << 8) | bytes[21];
    this.address = this.family === 4
      ? `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`
      : v6(bytes);
  }

  /**
   * Parses a numeric address (`"127.0.0.1"`, `"::1"`, `"[::1]"`) and a port.
   *
   * @param rt The runtime (or `{ backend }`) whose native library parses it.
   * @param host A numeric IPv4 or IPv6 address; names are not resolved.
   * @param port 0..65535 (0 asks the kernel for a free port when binding).
   * @returns The address.
   * @throws {NetError} With code `INVALID_ADDRESS` when the text or the port does not parse.
   * @throws {InvalidArgumentError} If `rt` has no backend.
   */
  static parse(rt: NetRuntime, host: string, port: number): SocketAddress {
    const backend = netBackend(rt, "SocketAddress.parse's runtime");
    const bytes = new Uint8Array(ADDR_LEN);
    let h = host;
    if (typeof h === "string" && h.length > 2 && h[0] === "[" && h[h.length - 1] === "]") {
      h = h.slice(1, -1);
    }
    const okPort = Number.isInteger(port) && port >= 0 && port <= 65535;
    const rc = typeof h === "string" && okPort
      ? backend.addrParse(h, port === 0 ? 0 : port, bytes)
      : -22;
    if (rc < 0) {
      throw new NetError(
        okPort
          ? `Cannot use ${describe(host)} as an address: it is not a numeric IPv4 or ` +
            `IPv6 address (host names are not resolved)`
          : `Cannot use port ${describe(port)}: a port is an integer in [0, 65535]`,
        { code: ErrorCode.InvalidAddress, op: "parse address", errno: 0 },
      );
    }
    return new SocketAddress(bytes);
  }

  /** `"127.0.0.1:80"` or `"[::1]:80"`. */
  toString(): string {
    return this.family === 6 ? `[${this.address}]:${this.port}` : `${this.address}:${this.port}`;
  }
}

/** The RFC 5952 text of an IPv6 address (longest zero run compressed, lowercase). */
function v6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i] << 8) | b[i + 1]);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) (bestAt = i), (bestLen = j - i);
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}
