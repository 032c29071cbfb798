/**
 * Metrics and the live inspector: a registry that counts node runs and node time, cycle
 * durations, notify-to-run latency and timer lateness without allocating on the cycle's path
 * (`Metrics`), formats them in the Prometheus text format, and an HTTP endpoint that runs as
 * nodes of the graph on the runtime's own sockets (`serveMetrics`): `/metrics` for Prometheus,
 * `/` for the inspector in a browser. Nothing is measured or served unless asked for.
 *
 * @example Serving a running graph (open the printed URL in a browser)
 * ```ts ignore
 * import { ExecutionMode, RealtimeRuntime } from "@wavelet/wavelet";
 * import { serveMetrics } from "@wavelet/wavelet/metrics";
 *
 * const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
 * // ... build the graph ...
 * const server = serveMetrics(rt, { port: 9464 });
 * console.log(`inspector: ${server.url}  metrics: ${server.url}metrics`);
 * rt.runForever(); // or: await rt.run()
 * ```
 *
 * @module
 */

export {
  type ChannelProbe,
  Metrics,
  type MetricsOptions,
  NodeHistogram,
  type NodeMetrics,
} from "./src/metrics/metrics.ts";
export {
  type MetricsRuntime,
  MetricsServer,
  type MetricsServerOptions,
  serveMetrics,
} from "./src/metrics/server.ts";
export { BUCKET_BOUNDS_NS, BucketHistogram, type BucketSnapshot } from "./src/metrics/buckets.ts";
