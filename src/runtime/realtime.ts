/**
 * The realtime runtime: an executor on the real clock, waking on OS events through the native
 * backend (epoll, eventfd, the signal bridge), or on `Atomics.wait` with the pure-JS backend.
 *
 * @module
 */

import {
  checkInstance,
  checkInteger,
  checkNumber,
  checkOptions,
  describe,
  invalid,
} from "../core/validate.ts";
import { ExecutionMode, ExecutorState } from "../core/control.ts";
import { ErrorCode, InvalidArgumentError, WaveletError } from "../core/errors.ts";
import { CAUSE_IO, type RuntimePort } from "../core/hooks.ts";
import { Executor, runtimePort } from "../core/executor.ts";
import { type NotifyQueue, WAKE_WORD } from "../drivers/notify.ts";
import { IoDriver } from "../drivers/io.ts";
import { checkClock, type Clock } from "../clock/clock.ts";
import { CycleTime } from "../core/time.ts";
import { type LogSink, Recorder } from "../replay/tap.ts";
import { PrecisionClock } from "../clock/precision_clock.ts";
import {
  EpollEvents,
  EpollOp,
  Errno,
  MAX_EPOLL_EVENTS,
  type NativeBackend,
} from "../../ffi/backend.ts";
import { NativeError } from "../core/system_errors.ts";
import { defaultBackend } from "./backend.ts";
import { abandonWakeFd, closeWakeFd, openWakeFd } from "./wake_fd.ts";
import { holdSignals } from "./signals.ts";
import { macrotask } from "./host.ts";

/** epoll data of the wake eventfd. */
const TOKEN_WAKE = 0xffffffff;
/** epoll data of the signal eventfd. */
const TOKEN_SIGNAL = 0xfffffffe;

/** The option keys of {@linkcode RealtimeRuntime}, read once from the caller's object. */
const OPTION_KEYS = [
  "mode",
  "backend",
  "clock",
  "initialCapacity",
  "notifierCapacity",
  "maxEvents",
  "spinBeforeParkNs",
  "runLingerNs",
  "executor",
] as const;

/** The backend calls a runtime makes: a backend option without them is refused up front. */
const BACKEND_CALLS = [
  "monotonicNs",
  "realtime",
  "epollCreate",
  "epollCtl",
  "epollWait",
  "epollWaitAsync",
  "eventfdCreate",
  "eventfdWrite",
  "eventfdRead",
  "close",
  "signalBridgeAdd",
  "signalBridgeRemove",
  "signalBridgeReassert",
  "signalBridgeLast",
  "signalBridgeCount",
] as const;

function checkBackendOption(backend: unknown): NativeBackend {
  let ok = backend !== null && typeof backend === "object";
  try {
    if (ok) {
      const b = backend as NativeBackend;
      ok = typeof b.hasEpoll === "boolean" &&
        BACKEND_CALLS.every((k) => typeof b[k] === "function");
    }
  } catch (cause) {
    throw invalid("The backend option could not be read", cause);
  }
  if (!ok) throw invalid(`The backend option must be a native backend, got ${describe(backend)}`);
  return backend as NativeBackend;
}

/**
 * An executor a new runtime may take over: not inside a cycle, and not owned by another live
 * runtime (whose epoll set and wake-up would be silently replaced).
 */
function checkAdoptable(executor: unknown, name: string): Executor {
  const ex = checkInstance(executor, Executor, name);
  if (ex.inCycle) {
    throw new WaveletError("Cannot adopt an executor inside a cycle", {
      code: ErrorCode.ReentrantCycle,
    });
  }
  if (runtimePort(ex).hasPoller) {
    throw invalid(`${name} belongs to a realtime runtime that has not shut down`);
  }
  return ex;
}

/**
 * Options for {@linkcode RealtimeRuntime}.
 *
 * @example A spinning runtime with small capacities
 * ```ts
 * import {
 *   ExecutionMode,
 *   NodeBuilder,
 *   RealtimeRuntime,
 *   type RealtimeRuntimeOptions,
 * } from "@wavelet/wavelet";
 *
 * const options: RealtimeRuntimeOptions = {
 *   mode: ExecutionMode.Spin,
 *   initialCapacity: 256,
 *   notifierCapacity: 64,
 *   maxEvents: 64,
 * };
 * const rt = new RealtimeRuntime(options);
 * try {
 *   let runs = 0;
 *   new NodeBuilder(0)
 *     .onInit((ex, self) => ex.yieldNow(self))
 *     .build(rt.executor, () => {
 *       runs++;
 *     });
 *   rt.runOneCycle();
 *   if (runs !== 1 || rt.mode !== ExecutionMode.Spin) throw new Error("one spinning cycle");
 * } finally {
 *   rt.shutdown();
 * }
 * ```
 */
export interface RealtimeRuntimeOptions {
  /** `ExecutionMode.Park` (default: block until a stimulus) or `ExecutionMode.Spin`. */
  mode?: ExecutionMode;
  /** The backend; default: the native one when FFI is available, else the pure-JS one. */
  backend?: NativeBackend;
  /** The clock; default: a {@linkcode PrecisionClock} over the backend. */
  clock?: Clock;
  /** Node slots to reserve up front. */
  initialCapacity?: number;
  /** Most live notifiers at once (default 4096). */
  notifierCapacity?: number;
  /** Most OS events handled per wait (default 256). */
  maxEvents?: number;
  /**
   * Park mode: before blocking, poll the notification queue for this many nanoseconds
   * (default 0: block at once). A consumer that is busy in bursts then picks the next
   * notification up without a wake-up syscall on either side (the producer sees it is not
   * parked), at the cost of that much CPU per idle period. Worth it with cores to spare; on a
   * machine where the producers need every core, leave it at 0.
   */
  spinBeforeParkNs?: number;
  /**
   * `run()` in Park mode: when the graph goes idle while stimuli are arriving densely, wait for
   * the next one on this thread for up to this many nanoseconds before handing the wait to the
   * host event loop (default 200 000: 200 us; 0: always hand it over). A stimulus that arrives
   * within the window reaches its node as fast as under `runForever()`, where a wait through
   * the host event loop adds tens of microseconds. The window is used only while it pays: one
   * that passes empty turns it off until an idle period shorter than the window shows traffic
   * again, so a sparse graph does not block the host loop at all. The host loop still gets a
   * turn at least about once a millisecond, as after a burst.
   */
  runLingerNs?: number;
  /**
   * Adopt an existing executor (with its graph) instead of creating one: the way a graph that
   * replayed history continues live. Pending timers are moved to the live clock so that each
   * fires at the same wall time it was due at. See {@linkcode RealtimeRuntime.adopt}.
   */
  executor?: Executor;
}

/**
 * The runtime was used after it shut down.
 *
 * @example Cycling a runtime that shut down
 * ```ts
 * import { RealtimeRuntime, RuntimeShutDownError } from "@wavelet/wavelet";
 *
 * const rt = new RealtimeRuntime();
 * rt.shutdown();
 * let caught: unknown;
 * try {
 *   rt.runOneCycle();
 * } catch (e) {
 *   caught = e;
 * }
 * if (!rt.isShutDown || !(caught instanceof RuntimeShutDownError)) {
 *   throw new Error("expected a RuntimeShutDownError");
 * }
 * ```
 */
export class RuntimeShutDownError extends WaveletError {
  /** `RUNTIME_SHUT_DOWN` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.RuntimeShutDown;
}

/**
 * Runs an executor on the real clock. `runForever()` owns the thread: in `Spin` mode it never
 * blocks (and with nothing registered makes no syscall per cycle beyond reading the clock); in
 * `Park` mode it blocks in the OS until a notifier, a timer deadline (microsecond precision, no
 * millisecond rounding) or a signal, and handles what woke it in the same cycle. The host event
 * loop does not run meanwhile: run the graph in a Worker or a process of its own, or see `run()`.
 *
 * When `runForever()` returns (a node returned `Terminate`, `shutdown()` was called, or a
 * signal arrived after `enableGracefulShutdown()`), the runtime is shut down: every node's
 * `onDrop` ran, notifiers are closed (notifying throws) and native resources are released.
 *
 * @example
 * ```ts ignore
 * import { Control, ExecutionMode, ms, NodeBuilder, RealtimeRuntime } from "@wavelet/wavelet";
 *
 * const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
 * rt.enableGracefulShutdown(); // Ctrl-C ends runForever() cleanly
 * new NodeBuilder(0)
 *   .onInit((ex, self) => {
 *     ex.registerTimerAfter(self, ms(10));
 *   })
 *   .build(rt.executor, (self, ctx) => {
 *     self.value++;
 *     if (self.value === 100) return Control.Terminate;
 *     ctx.registerTimerAfter(self, ms(10));
 *     return Control.Broadcast;
 *   });
 * rt.runForever(); // about one second
 * ```
 */
export class RealtimeRuntime {
  /** The executor. */
  readonly executor: Executor;
  /** The clock cycles are timed with. */
  readonly clock: Clock;
  /** Spin or Park. */
  readonly mode: ExecutionMode;
  /** The backend in use. */
  readonly backend: NativeBackend;
  readonly #notify: NotifyQueue;
  /** What the runtime drives its executor through (the poller, the wake-up, the hook). */
  readonly #port: RuntimePort;
  readonly #events: Int32Array;
  readonly #maxEvents: number;
  readonly #clockOut = new Float64Array(1);
  #epfd = -1;
  #wakeFd = -1;
  #sigFd = -1;
  #graceful = false;
  #signalsSeen = 0;
  #zeroWaits = 0;
  #releaseSignals: ((stoppedBySignal: boolean) => void) | null = null;
  #stopRequested = false;
  #shutDown = false;
  #running = false;
  #io: IoDriver | null = null;
  #recorder: Recorder | null = null;
  /** Events a wait returned, for the next cycle's collect phase. */
  #pending = 0;
  readonly #spinNs: number;
  readonly #lingerNs: number;
  #wakes = 0;
  #ioBits = 0;
  readonly #scheduleIo = (slot: number, gen: number): boolean => {
    const hook = this.#port.hook;
    if (hook === null) return this.executor.scheduleStimulus(slot, gen, CAUSE_IO);
    return hook.wake(slot, gen, CAUSE_IO, this.#ioBits, this.#scheduleLive);
  };
  readonly #scheduleLive = (slot: number, gen: number, cause: number): boolean =>
    this.executor.scheduleStimulus(slot, gen, cause);
  /** The signal that stopped the runtime, or 0. */
  #signal = 0;

  /**
   * Creates the runtime and its OS resources (an epoll instance and a wake eventfd with the
   * native backend).
   *
   * @param options Mode, backend, clock and capacities.
   * @throws {InvalidArgumentError} On an invalid mode or capacity.
   * @throws {NativeError} When the OS refuses an fd (`EMFILE`); nothing is left open then.
   */
  constructor(options?: RealtimeRuntimeOptions) {
    if (options === undefined) options = {};
    const o = checkOptions(options, "RealtimeRuntime's options", OPTION_KEYS);
    const mode = o.mode ?? ExecutionMode.Park;
    if (mode !== ExecutionMode.Spin && mode !== ExecutionMode.Park) {
      throw invalid(
        `The mode must be ExecutionMode.Spin or ExecutionMode.Park, got ${describe(mode)}`,
      );
    }
    const maxEvents = checkInteger(o.maxEvents ?? 256, "maxEvents", 1, MAX_EPOLL_EVENTS);
    // undefined takes the default; null is refused like any other non-number.
    const spin = o.spinBeforeParkNs, linger = o.runLingerNs;
    this.#spinNs = spin === undefined ? 0 : checkNumber(spin, "spinBeforeParkNs", 0, Infinity);
    this.#lingerNs = linger === undefined ? 200_000 : checkNumber(linger, "runLingerNs", 0, 1e9);
    const adopted = o.executor === undefined
      ? undefined
      : checkAdoptable(o.executor, "The executor option");
    this.mode = mode;
    this.backend = o.backend === undefined ? defaultBackend() : checkBackendOption(o.backend);
    this.clock = o.clock === undefined
      ? new PrecisionClock(this.backend)
      : checkClock(o.clock, "The clock option");
    this.executor = adopted ?? new Executor({
      initialCapacity: o.initialCapacity,
      notifierCapacity: o.notifierCapacity,
      clock: this.clock,
    });
    this.#port = runtimePort(this.executor);
    this.#notify = this.#port.notifications();
    this.#maxEvents = maxEvents;
    this.#events = new Int32Array(maxEvents * 2);
    if (this.backend.hasEpoll) {
      const b = this.backend;
      const epfd = b.epollCreate();
      let fd = -1;
      try {
        fd = openWakeFd(b);
        // Edge-triggered: every write is a new edge, so the wake path need not read (reset)
        // the eventfd before running nodes; it is read now and then to keep the counter small.
        b.epollCtl(epfd, EpollOp.Add, fd, EpollEvents.In | EpollEvents.EdgeTriggered, TOKEN_WAKE);
      } catch (e) {
        // Out of fds (EMFILE) or epoll watches: give back what this constructor took.
        if (fd >= 0) abandonWakeFd(b, fd);
        b.close(epfd);
        throw e;
      }
      this.#epfd = epfd;
      this.#wakeFd = fd;
      this.#port.setWake({ wake: () => b.eventfdWrite(fd, 1) }, fd);
      // The driver reaches the epoll set through this private poller, never through the public
      // methods below: only it knows which fds and tokens the runtime's nodes own.
      this.#io = new IoDriver({
        ioAdd: (fd, events, token) => b.epollCtl(this.#epfd, EpollOp.Add, fd, events, token),
        ioModify: (fd, events, token) => b.epollCtl(this.#epfd, EpollOp.Mod, fd, events, token),
        ioRemove: (fd) => {
          if (this.#epfd >= 0) b.epollCtl(this.#epfd, EpollOp.Del, fd, 0, 0);
        },
      });
      this.#port.attachIo(this.#io);
    }
    // The poller is private: only the executor's own cycle calls it, with a timeout it checked.
    this.#port.attachPoller({ poll: () => this.#poll() });
  }

  /**
   * Continues a historical runtime's graph live: a realtime runtime that adopts its executor,
   * with every pending timer moved from simulated time to the live clock so that it fires at
   * the same wall time. Replay history up to now first, then call this.
   *
   * @param historical The runtime whose graph continues.
   * @param options Mode, backend, clock.
   * @returns The live runtime.
   */
  static adopt(
    historical: { executor: Executor; clock: Clock },
    options?: Omit<RealtimeRuntimeOptions, "executor">,
  ): RealtimeRuntime {
    if (options === undefined) options = {};
    const h = checkOptions(historical, "The adopted runtime", ["executor", "clock"]);
    const executor = checkAdoptable(h.executor, "The adopted runtime's executor");
    const clock = checkClock(h.clock, "The adopted runtime's clock");
    const o = checkOptions(options, "adopt's options", OPTION_KEYS.filter((k) => k !== "executor"));
    const hist = new CycleTime();
    clock.sample(hist);
    const live = new RealtimeRuntime({ ...o, executor });
    const now = new CycleTime();
    live.clock.sample(now);
    // A deadline D in simulated time is due at wall time W = histWall + (D - histMono); on the
    // live clock that is liveMono + (W - liveWall).
    const histWallNs = hist.unixSeconds * 1e9 + hist.unixSubsecNanos;
    const liveWallNs = now.unixSeconds * 1e9 + now.unixSubsecNanos;
    const delta = (now.monotonicNs - hist.monotonicNs) + (histWallNs - liveWallNs);
    runtimePort(executor).shiftTimers(delta);
    return live;
  }

  /**
   * Starts recording every external stimulus (cycle times, notifications, I/O readiness, channel
   * reads) so that `HistoricalRuntime.replayLog` can rerun this graph bit for bit.
   *
   * @param sink Where the log goes (for example {@linkcode fileSink}); default: memory, read
   *   with {@linkcode RealtimeRuntime.recordedBytes}. Closed when the runtime shuts down.
   */
  startRecording(sink: LogSink | null = null): void {
    this.#checkOpen();
    if (this.#port.hook !== null) {
      throw invalid("This runtime is already recording");
    }
    this.#recorder = new Recorder(this.executor, sink);
    this.#port.attachHook(this.#recorder);
  }

  /** The log recorded so far (in-memory recordings), or null when not recording to memory. */
  recordedBytes(): Uint8Array | null {
    return this.#recorder === null ? null : this.#recorder.bytes();
  }

  /** True once the runtime shut down. */
  get isShutDown(): boolean {
    return this.#shutDown;
  }

  /** The signal number that stopped the runtime (SIGINT 2, SIGTERM 15), or 0. */
  get stoppedBySignal(): number {
    return this.#signal;
  }

  /** @internal The epoll fd (-1 with the pure-JS backend), for I/O registrations. */
  get _epfd(): number {
    return this.#epfd;
  }

  /**
   * Runs one cycle.
   *
   * @param timeoutNs Longest wait for a stimulus when nothing is ready: 0 (default) never
   *   waits, `Infinity` waits until something happens.
   * @returns The executor's state.
   * @throws {RuntimeShutDownError} If the runtime shut down.
   */
  runOneCycle(timeoutNs = 0): ExecutorState {
    this.#checkOpen();
    if (timeoutNs !== 0 && !(typeof timeoutNs === "number" && timeoutNs > 0)) {
      throw new InvalidArgumentError(
        `A timeout must be a non-negative number of nanoseconds, got ${describe(timeoutNs)}`,
        { code: ErrorCode.InvalidTimeout },
      );
    }
    if (this.executor.inCycle) {
      // Refused before the wait: a node that waited for stimuli would wait for itself.
      throw new WaveletError(
        "Cannot start a cycle while another cycle of the same executor is running",
        { code: ErrorCode.ReentrantCycle },
      );
    }
    this.#wait(timeoutNs);
    return this.executor.cycle(this.clock);
  }

  /**
   * Runs cycles on this thread until a node returns `Terminate`, `shutdown()` is called, or a
   * signal arrives after `enableGracefulShutdown()`; then shuts the runtime down.
   *
   * @returns `ExecutorState.Terminated`.
   * @throws {RuntimeShutDownError} If the runtime already shut down.
   */
  runForever(): ExecutorState {
    this.#checkOpen();
    this.#checkIdle("runForever()");
    this.#running = true;
    const ex = this.executor, clock = this.clock;
    const timeout = this.mode === ExecutionMode.Park ? Infinity : 0;
    try {
      while (!this.#stopRequested) {
        this.#wait(timeout);
        if (ex.cycle(clock) === ExecutorState.Terminated) break;
      }
    } finally {
      this.#running = false;
      this.#teardown();
    }
    return ExecutorState.Terminated;
  }

  /**
   * Runs cycles cooperatively with the host event loop until a node returns `Terminate`,
   * `shutdown()` is called, or a signal arrives after `enableGracefulShutdown()`; then shuts
   * the runtime down. Ready work runs in bursts of at most about a millisecond, after which the
   * host event loop gets a turn; when idle (Park mode) the wait for the next stimulus or timer
   * happens off the JS thread (Deno: a nonblocking FFI `epoll_wait`; Bun: a waiter Worker
   * makes the blocking `epoll_wait` while this thread awaits `Atomics.waitAsync`, and where no
   * Worker can start, zero-timeout polls between host timer ticks; pure-JS backend:
   * `Atomics.waitAsync`), so host timers, `fetch` and servers keep working beside the graph.
   * While stimuli arrive densely, an idle period first waits on this thread for up to
   * `runLingerNs` (see {@linkcode RealtimeRuntimeOptions.runLingerNs}), so that the next one
   * reaches its node without a round trip through the host loop. It keeps the process alive
   * while it runs.
   *
   * @returns Resolves `ExecutorState.Terminated` once the runtime has shut down.
   * @throws {RuntimeShutDownError} If the runtime already shut down.
   */
  async run(): Promise<ExecutorState> {
    this.#checkOpen();
    this.#checkIdle("run()");
    this.#running = true;
    const ex = this.executor, b = this.backend, linger = this.#lingerNs;
    const keepAlive = setInterval(() => {}, 1 << 30);
    // The linger window (see runLingerNs): on while stimuli arrive densely.
    let lingering = linger > 0, lastYield = b.monotonicNs();
    try {
      for (;;) {
        if (this.#burst()) break;
        if (this.mode === ExecutionMode.Spin || ex.hasScheduledWork()) {
          await macrotask();
          lastYield = b.monotonicNs();
          continue;
        }
        let wait = Infinity;
        const next = ex.nextTimerDeadline();
        const idleAt = b.monotonicNs();
        if (next !== Infinity) wait = Math.max(0, next - idleAt);
        if (wait === 0) {
          await macrotask();
          lastYield = b.monotonicNs();
          continue;
        }
        if (lingering && idleAt - lastYield < 1e6) {
          // Wait on this thread, as runForever() does, but no longer than the window.
          this.#wait(Math.min(wait, linger));
          if (this.#pending > 0 || this.#notify.hasPending() || this.#stopRequested) continue;
          if (wait <= linger) continue; // the timer that bounded the wait is due
          lingering = false; // the window passed empty: hand the waits to the host loop
        }
        await this.#waitAsync(wait);
        const now = b.monotonicNs();
        lastYield = now;
        if (linger > 0 && now - idleAt < linger) lingering = true; // dense again
      }
    } finally {
      clearInterval(keepAlive);
      this.#running = false;
      this.#teardown();
    }
    return ExecutorState.Terminated;
  }

  /**
   * Runs cycles while work is ready, for at most about a millisecond. Returns true when the
   * runtime must stop (Terminate, shutdown, signal).
   */
  #burst(): boolean {
    const ex = this.executor, clock = this.clock, b = this.backend;
    const burstEnd = b.monotonicNs() + 1e6;
    for (;;) {
      if (this.#stopRequested) return true;
      if (ex.cycle(clock) === ExecutorState.Terminated) return true;
      if (this.#stopRequested) return true;
      const busy = ex.hasScheduledWork() || ex.nextTimerDeadline() <= b.monotonicNs() ||
        (this.#io !== null && this.#io.count > 0 && this.mode === ExecutionMode.Spin);
      if (!busy || b.monotonicNs() >= burstEnd) return false;
    }
  }

  /** The idle wait of run(): parks, waits without blocking the JS thread, unparks. */
  async #waitAsync(waitNs: number): Promise<void> {
    const q = this.#notify;
    const seen = Atomics.load(q.i32, WAKE_WORD);
    if (!q.park()) return;
    try {
      if (this.#epfd >= 0) {
        const n = await this.backend.epollWaitAsync(
          this.#epfd,
          this.#events,
          this.#maxEvents,
          waitNs,
          this.#clockOut,
        );
        this.#pending = n;
      } else {
        const r = Atomics.waitAsync(
          q.i32,
          WAKE_WORD,
          seen,
          waitNs === Infinity ? undefined : waitNs / 1e6,
        );
        if (r.async) await r.value;
      }
    } finally {
      q.unpark();
    }
  }

  /**
   * Makes SIGINT and SIGTERM stop the runtime gracefully, also while it is parked and with
   * stdio on a terminal: the current cycle finishes, every node's `onDrop` runs, resources are
   * released, `runForever()` returns (or `run()` resolves) and {@linkcode stoppedBySignal}
   * says which signal it was. Every runtime in the process that enabled it stops on the same
   * signal (several runtimes on one thread, or in Workers).
   *
   * How: the native backend adds an eventfd of this runtime to the signal bridge, a C handler
   * that writes every member's eventfd; host signal listeners (`Deno.addSignalListener`,
   * `process.on`) are held as well, registered first, so that the host's own SIGINT handling
   * (Bun restoring a terminal and re-raising, Deno re-raising signals no listener claims) never
   * kills the process, and before each blocking wait the bridge takes its handler back if
   * something replaced it. With the pure-JS backend the host listeners deliver the signal,
   * which needs the host event loop to turn (`run()`).
   *
   * A repeated signal while the runtime shuts down does not kill the process. After the last
   * runtime with graceful shutdown has shut down because of a signal, further SIGINT/SIGTERM
   * are still absorbed for about a second (longer while the process stays busy without
   * yielding to the event loop, as after `runForever()` returns), so the program can finish
   * its wrap-up; then signals get back the disposition they had (by default they end the
   * process). When no signal stopped the runtimes, that disposition returns at once.
   * Idempotent.
   *
   * @throws {RuntimeShutDownError} If the runtime shut down.
   * @throws {NativeError} If the process is out of fds (`EMFILE`) or the bridge is full
   *   (1024 runtimes); nothing changed then.
   *
   * @example A runtime that Ctrl-C stops cleanly
   * ```ts
   * import { ExecutionMode, NodeBuilder, RealtimeRuntime } from "@wavelet/wavelet";
   *
   * const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
   * rt.enableGracefulShutdown();
   * let dropped = false;
   * new NodeBuilder(0).onDrop(() => dropped = true).build(rt.executor, () => false);
   * // A signal (Ctrl-C) would end runForever() here; this example stops it itself.
   * rt.shutdown();
   * if (!dropped || rt.stoppedBySignal !== 0) throw new Error("shut down without a signal");
   * ```
   */
  enableGracefulShutdown(): void {
    this.#checkOpen();
    if (this.#graceful) return;
    const b = this.backend;
    // Host listeners first: the bridge's handler then chains to the host's dispatcher.
    const release = holdSignals({
      onHostSignal: (sig) => this.#onHostSignal(sig),
    }, b.hasEpoll ? b : null);
    if (b.hasEpoll) {
      let fd = -1;
      try {
        const seen = b.signalBridgeCount();
        fd = b.eventfdCreate(0, 0);
        b.epollCtl(this.#epfd, EpollOp.Add, fd, EpollEvents.In, TOKEN_SIGNAL);
        b.signalBridgeAdd(fd);
        this.#signalsSeen = seen;
        this.#sigFd = fd;
      } catch (e) {
        if (fd >= 0) b.close(fd); // closing also drops it from the epoll set
        release(false);
        throw e;
      }
    }
    this.#releaseSignals = release;
    this.#graceful = true;
  }

  /**
   * Stops the runtime: inside a cycle (or while `runForever()` runs) it stops after the current
   * cycle; otherwise it shuts down at once. Idempotent.
   */
  shutdown(): void {
    if (this.#shutDown) return;
    this.#stopRequested = true;
    if (this.#running || this.executor.inCycle) {
      // Wake a parked loop so it notices.
      if (this.#wakeFd >= 0) this.backend.eventfdWrite(this.#wakeFd, 1);
      else {
        Atomics.add(this.#notify.i32, WAKE_WORD, 1);
        Atomics.notify(this.#notify.i32, WAKE_WORD);
      }
      return;
    }
    this.#teardown();
  }

  /**
   * The wait, before a cycle and never inside one: blocks in Park until something arrives or
   * the next timer falls due (at most `timeoutNs`), unless work is ready. What the wait
   * returns is left in the events buffer for the cycle's collect phase (`#poll`).
   */
  #wait(timeoutNs: number): void {
    if (timeoutNs === 0 || this.#stopRequested || this.#pending > 0) return;
    const ex = this.executor;
    if (ex.hasScheduledWork()) return;
    let wait = timeoutNs, end = Infinity;
    const next = ex.nextTimerDeadline();
    if (next !== Infinity) {
      const now = this.backend.monotonicNs();
      const left = next - now;
      if (left <= 0) return; // due now: the cycle collects it
      if (left <= wait) {
        // The timer bounds the wait: end exactly at its deadline (now + (next - now) can round
        // a hair below it, and a coarse clock would then see the timer not yet due).
        wait = left;
        end = next;
      } else end = now + wait;
    } else if (wait !== Infinity) {
      end = this.backend.monotonicNs() + wait;
    }
    const q = this.#notify;
    // Something (a host runtime) may have replaced the bridge's handler since the last wait;
    // parked, this loop would never hear the signal.
    if (this.#sigFd >= 0) this.backend.signalBridgeReassert();
    if (this.#spinNs > 0 && this.#spin(end)) return;
    // Wait until something arrives or the deadline passes; a wait that ends early (host
    // timers round) waits again.
    for (;;) {
      const seen = Atomics.load(q.i32, WAKE_WORD);
      if (!q.park()) return;
      let events = 0;
      if (this.#epfd >= 0) {
        events = this.backend.epollWait(
          this.#epfd,
          this.#events,
          this.#maxEvents,
          wait,
          this.#clockOut,
        );
        this.#pending = events;
      } else {
        // Whatever Atomics.wait returns, what counts is what arrived: a notification in the
        // ring or a stop request (checked below); anything else waits on until the deadline.
        Atomics.wait(q.i32, WAKE_WORD, seen, wait === Infinity ? undefined : wait / 1e6);
      }
      q.unpark();
      if (events > 0 || this.#stopRequested || q.hasPending()) return;
      if (end === Infinity) continue;
      // The native wait samples the clock as it returns: no extra clock call here.
      wait = end - (this.#epfd >= 0 ? this.#clockOut[0] : this.backend.monotonicNs());
      if (wait <= 0) return;
    }
  }

  /**
   * The poller, in the cycle's collect phase: handles what the wait returned, else (with I/O
   * registered) what epoll has ready now; never waits.
   */
  #poll(): void {
    if (this.#pending > 0) {
      const n = this.#pending;
      this.#pending = 0;
      this.#handleEvents(n);
      return;
    }
    if (this.#epfd < 0) return;
    if (this.#io !== null && this.#io.count > 0) {
      this.#handleEvents(
        this.backend.epollWait(this.#epfd, this.#events, this.#maxEvents, 0, this.#clockOut),
      );
    }
    if (this.#sigFd >= 0) {
      if (this.backend.signalBridgeCount() !== this.#signalsSeen) this.#onSignal();
      // A spinning loop never blocks: take the handler back now and then instead.
      else if ((++this.#zeroWaits & 1023) === 0) this.backend.signalBridgeReassert();
    }
  }

  /**
   * Polls the notification queue (and the deadline) for up to spinBeforeParkNs; true if a
   * notification arrived or the deadline passed, so the loop need not block.
   */
  #spin(end: number): boolean {
    const b = this.backend, q = this.#notify;
    const stop = Math.min(end, b.monotonicNs() + this.#spinNs);
    for (let i = 0;; i++) {
      if (q.hasPending() || this.#stopRequested) return true;
      if ((i & 15) === 15) {
        const now = b.monotonicNs();
        if (now >= end) return true;
        if (now >= stop) return false;
      }
    }
  }

  /** Handles `n` events in the events buffer (wake, signal, I/O). */
  #handleEvents(n: number): void {
    const ev = this.#events;
    for (let i = 0; i < n; i++) {
      const data = ev[2 * i + 1] >>> 0;
      if (data === TOKEN_WAKE) {
        if ((++this.#wakes & 4095) === 0) this.backend.eventfdRead(this.#wakeFd);
      } else if (data === TOKEN_SIGNAL) {
        this.backend.eventfdRead(this.#sigFd);
        this.#onSignal();
      } else {
        this.#ioBits = ev[2 * i];
        this.#io?.onEvent(data, ev[2 * i], this.#port.tick, this.#scheduleIo);
      }
    }
  }

  #onSignal(): void {
    this.#signalsSeen = this.backend.signalBridgeCount();
    this.#signal = this.backend.signalBridgeLast() || this.#signal;
    this.#stopRequested = true;
  }

  /** A run call while the runtime runs (or a cycle is in progress) changes nothing and throws. */
  #checkIdle(what: string): void {
    if (this.#running || this.executor.inCycle) {
      throw new WaveletError(
        `Cannot call ${what} while the runtime is running or a cycle is in progress`,
        { code: ErrorCode.ReentrantCycle },
      );
    }
  }

  /** The host's listeners saw the signal (pure-JS backend; or the bridge's handler was replaced). */
  #onHostSignal(sig: number): void {
    if (this.#shutDown) return;
    if (this.#signal === 0) this.#signal = sig;
    this.shutdown();
  }

  #checkOpen(): void {
    if (this.#shutDown) {
      throw new RuntimeShutDownError(
        "Cannot use a runtime that has shut down",
      );
    }
  }

  #teardown(): void {
    if (this.#shutDown) return;
    this.#shutDown = true;
    this.#stopRequested = true;
    // Each step runs even if the one before threw: a half-torn-down runtime would keep fds
    // and signal handlers forever.
    try {
      if (this.#recorder !== null) {
        try {
          this.#recorder.close();
        } finally {
          this.#port.attachHook(null);
        }
      }
    } finally {
      try {
        this.executor.removeAll();
      } finally {
        this.#release();
      }
    }
  }

  /**
   * Releases what the runtime holds, last of all the signals: a signal that arrives while
   * nodes are being dropped still finds the bridge and the host listeners in place.
   */
  #release(): void {
    this.#notify.close();
    const b = this.backend;
    if (this.#sigFd >= 0) {
      const fd = this.#sigFd;
      this.#sigFd = -1;
      let closable = true;
      try {
        b.signalBridgeRemove(fd);
      } catch (e) {
        // EBUSY: a handler on another thread may still write it; an open eventfd nobody
        // reads is harmless, a write into a reused number is not.
        closable = !(e instanceof NativeError && e.errno === Errno.EBUSY);
      }
      if (closable) b.close(fd);
    }
    if (this.#epfd >= 0) {
      // Teardown releases everything it can: an epoll fd closed behind the runtime's back
      // (EBADF) must not keep the rest from being released.
      try {
        b.close(this.#epfd);
      } catch {
        // Already closed.
      }
      this.#epfd = -1;
      closeWakeFd(b, this.#wakeFd, this.#notify);
      this.#wakeFd = -1;
      this.#port.setWake(null, -1);
    }
    this.#port.attachPoller(null);
    this.#port.attachIo(null);
    const release = this.#releaseSignals;
    this.#releaseSignals = null;
    release?.(this.#signal !== 0);
  }
}
