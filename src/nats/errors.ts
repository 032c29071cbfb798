/**
 * The errors of the NATS JetStream nodes: one class, {@linkcode JetStreamError}, whose code
 * classifies what the client reported (`NATS_DISCONNECTED`, `NATS_TIMEOUT`, `NATS_NOT_FOUND`,
 * `NATS_FAILED`), with the client's own error as the cause.
 *
 * @module
 */

import { ErrorCode, WaveletError } from "../core/errors.ts";
import { describeThrown } from "../core/validate.ts";

/**
 * A JetStream operation failed. The source and sink nodes report these to `executor.onError`
 * (phase `"source"` or `"sink"`) and retry with backoff; `op` says what was tried and `cause`
 * holds the client's error.
 *
 * @example Branching on the code
 * ```ts
 * import { ErrorCode } from "@wavelet/wavelet";
 * import { JetStreamError } from "@wavelet/wavelet/nats";
 *
 * const e = new JetStreamError("fetch", "the connection closed", ErrorCode.NatsDisconnected);
 * if (e.code !== ErrorCode.NatsDisconnected || e.op !== "fetch") throw new Error("typed");
 * if (e.message !== "JetStream fetch failed: the connection closed") throw new Error(e.message);
 * ```
 */
export class JetStreamError extends WaveletError {
  /** `NATS_FAILED` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.NatsFailed;
  /** What was tried (`fetch`, `publish`, `consumer`, ...). */
  readonly op: string;

  /**
   * Creates the error.
   *
   * @param op What was tried.
   * @param why What went wrong.
   * @param code The classification.
   * @param options `cause`: the client's error.
   */
  constructor(op: string, why: string, code: ErrorCode, options?: ErrorOptions) {
    super(`JetStream ${op} failed: ${why}`, { ...options, code });
    this.op = op;
  }
}

/** The name of a thrown value's class, read without letting a getter throw. */
function nameOf(e: unknown): string {
  try {
    return e instanceof Error ? e.name : "";
  } catch {
    return "";
  }
}

/** A JetStream API or status code carried by a client error, or 0. */
function apiCodeOf(e: unknown): number {
  try {
    const c = (e as { code?: unknown }).code;
    return typeof c === "number" ? c : 0;
  } catch {
    return 0;
  }
}

/**
 * Classifies a client error: the connection (closed, draining, no responders: nobody serves
 * JetStream there now), a timeout, a consumer or stream that does not exist, or anything else.
 */
export function classify(op: string, e: unknown): JetStreamError {
  if (e instanceof JetStreamError) return e;
  const name = nameOf(e);
  const text = describeThrown(e);
  const api = apiCodeOf(e);
  let code: ErrorCode = ErrorCode.NatsFailed;
  if (
    name === "ClosedConnectionError" || name === "DrainingConnectionError" ||
    name === "ConnectionError" || name === "NoRespondersError" ||
    /heartbeat|connection closed|closed connection/i.test(text)
  ) {
    code = ErrorCode.NatsDisconnected;
  } else if (name === "TimeoutError" || /timeout/i.test(text)) {
    code = ErrorCode.NatsTimeout;
  } else if (
    name === "ConsumerNotFoundError" || name === "StreamNotFoundError" || api === 10014 ||
    api === 10059 || /consumer (is )?deleted|not found/i.test(text)
  ) {
    code = ErrorCode.NatsNotFound;
  }
  return new JetStreamError(op, text, code, { cause: e });
}
