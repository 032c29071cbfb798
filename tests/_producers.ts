// Producer Workers for the channel tests.

/** What a producer Worker reports when it is done. */
export interface Done {
  sent: number;
  full: number;
  closed: boolean;
}

/**
 * Starts `n` producer Workers (tests/fixtures/ring_producer.ts), each sending `count` records
 * through its own sender made from `sender`, then closes the main thread's `sender`.
 */
export function startProducers(
  // deno-lint-ignore no-explicit-any
  sender: any,
  n: number,
  count: number,
  retryOnFull: boolean,
  extra: Record<string, unknown> = {},
): { workers: Worker[]; done: Promise<Done>[] } {
  const workers: Worker[] = [];
  const done: Promise<Done>[] = [];
  for (let p = 0; p < n; p++) {
    const w = new Worker(new URL("./fixtures/ring_producer.ts", import.meta.url).href, {
      type: "module",
    });
    workers.push(w);
    done.push(
      new Promise((resolve, reject) => {
        w.onmessage = (e) => resolve(e.data);
        w.onerror = (e) => {
          e.preventDefault();
          reject(new Error(`worker ${p} failed: ${e.message}`));
        };
      }),
    );
    w.postMessage({
      sender: sender.toTransferable(),
      producer: p,
      count,
      retryOnFull,
      ...extra,
    });
  }
  sender.close(); // the main thread's own sender; the Workers hold the others
  return { workers, done };
}
