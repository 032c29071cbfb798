/**
 * The little HTTP/1.1 the metrics endpoint speaks: request heads read line by line (the
 * connection node cuts lines), GET and HEAD without bodies, keep-alive, and responses with a
 * `Content-Length` (or an open-ended event stream).
 *
 * @module
 */

/** Most header lines a request may have. */
export const MAX_HEADERS = 64;

/** A request head. */
export interface HttpRequest {
  /** `GET` or `HEAD`. */
  method: string;
  /** The path, without the query. */
  path: string;
  /** The query parameters. */
  query: Map<string, string>;
  /** Whether the connection stays open after the response. */
  keepAlive: boolean;
}

/** A request the endpoint refuses: the status to answer with (the connection closes after). */
export class HttpRefusal {
  /** The status code. */
  readonly status: number;
  /** Why, as the response body says. */
  readonly reason: string;
  constructor(status: number, reason: string) {
    this.status = status;
    this.reason = reason;
  }
}

/** Reads request heads from lines (CR already stripped). */
export class RequestReader {
  #lines: string[] = [];

  /**
   * Takes one line; returns the request when its head is complete, a refusal when it cannot
   * be served, or null while the head goes on.
   */
  feed(line: string): HttpRequest | HttpRefusal | null {
    if (line === "") {
      if (this.#lines.length === 0) return null; // blank lines between requests are allowed
      const head = this.#lines;
      this.#lines = [];
      return parse(head);
    }
    if (this.#lines.length > MAX_HEADERS) {
      this.#lines = [];
      return new HttpRefusal(431, "Too many header lines");
    }
    this.#lines.push(line);
    return null;
  }

  /** A line too long to serve: 414 for a request line, 431 for a header line. */
  tooLong(): HttpRefusal {
    const first = this.#lines.length === 0;
    this.#lines = [];
    return first
      ? new HttpRefusal(414, "The request line is too long")
      : new HttpRefusal(431, "A header line is too long");
  }
}

function parse(head: string[]): HttpRequest | HttpRefusal {
  const m = /^([A-Z]+) (\S+) HTTP\/(\d)\.(\d)$/.exec(head[0]);
  if (m === null) return new HttpRefusal(400, "Malformed request line");
  const [, method, target, major, minor] = m;
  if (major !== "1") return new HttpRefusal(505, "Only HTTP/1.x is spoken here");
  const headers = new Map<string, string>();
  for (let i = 1; i < head.length; i++) {
    const c = head[i].indexOf(":");
    if (c <= 0) return new HttpRefusal(400, "Malformed header line");
    headers.set(head[i].slice(0, c).trim().toLowerCase(), head[i].slice(c + 1).trim());
  }
  if (method !== "GET" && method !== "HEAD") return new HttpRefusal(405, "Only GET and HEAD");
  // A body would be cut into lines and read as more requests: refuse it.
  const length = headers.get("content-length");
  if (headers.has("transfer-encoding") || (length !== undefined && length !== "0")) {
    return new HttpRefusal(400, "A GET request has no body");
  }
  const connection = (headers.get("connection") ?? "").toLowerCase();
  const keepAlive = minor === "0" ? connection === "keep-alive" : connection !== "close";
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  const query = new Map<string, string>();
  if (q >= 0) {
    for (const part of target.slice(q + 1).split("&")) {
      if (part === "") continue;
      const e = part.indexOf("=");
      try {
        query.set(
          decodeURIComponent(e < 0 ? part : part.slice(0, e)),
          e < 0 ? "" : decodeURIComponent(part.slice(e + 1).replace(/\+/g, " ")),
        );
      } catch {
        return new HttpRefusal(400, "Malformed query");
      }
    }
  }
  return { method, path, query, keepAlive };
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  414: "URI Too Long",
  431: "Request Header Fields Too Large",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

const enc = new TextEncoder();

/**
 * A whole response: the head, then the body unless `headOnly` (a HEAD request still gets the
 * body's length).
 */
export function response(
  status: number,
  contentType: string,
  body: string | Uint8Array,
  keepAlive: boolean,
  headOnly = false,
  extra = "",
): Uint8Array {
  const bytes = typeof body === "string" ? enc.encode(body) : body;
  const head = enc.encode(
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}\r\n` +
      `Content-Type: ${contentType}\r\nContent-Length: ${bytes.length}\r\n` +
      `Cache-Control: no-store\r\n${extra}` +
      `Connection: ${keepAlive ? "keep-alive" : "close"}\r\n\r\n`,
  );
  if (headOnly) return head;
  const out = new Uint8Array(head.length + bytes.length);
  out.set(head);
  out.set(bytes, head.length);
  return out;
}

/** The head of an event stream (Server-Sent Events); events follow as they come. */
export function eventStreamHead(): Uint8Array {
  return enc.encode(
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n" +
      "Cache-Control: no-store\r\nConnection: keep-alive\r\nX-Accel-Buffering: no\r\n\r\n",
  );
}

/** One event of an event stream. */
export function event(name: string, data: string): Uint8Array {
  return enc.encode(`event: ${name}\ndata: ${data}\n\n`);
}
