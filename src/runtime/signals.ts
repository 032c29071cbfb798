/**
 * How runtimes with graceful shutdown hold SIGINT and SIGTERM against the host runtime.
 *
 * Two layers work together:
 * - The native signal bridge (`wv_signal_bridge_add`): a C handler that writes every member
 *   runtime's eventfd, so that a loop parked in `runForever()` wakes while no JavaScript runs.
 * - Host listeners (`Deno.addSignalListener`, `process.on`), held here while any runtime has
 *   graceful shutdown. They are the delivery path of the pure-JS backend, and on the native
 *   backend they keep the host from applying its own default action: Bun with a terminal
 *   installs a SIGINT handler that restores the terminal and re-raises the signal, and Deno,
 *   once anything registers a signal (touching `process.stdout` on a terminal does), re-raises
 *   SIGINT, SIGTERM and SIGHUP that no listener claims. A held listener claims them, and because
 *   it is registered before the bridge installs its handler, the handler the bridge chains to
 *   is the host's dispatcher, which queues the signal for the listener instead of killing.
 *
 * After the last runtime lets go: when no signal arrived while they held, the listeners are
 * removed at once. When one did (a signal started the shutdown), the listeners stay for a
 * grace period ({@linkcode SIGNAL_GRACE_MS}), without keeping the process alive, and until
 * the host has delivered every bridged signal to them, so that a repeated Ctrl-C cannot kill
 * the process while it finishes (prints its summary, flushes files). Then signals get the
 * process's previous disposition back: by default they end it.
 *
 * @module
 */

import { addSignalListener, detectRuntime, unrefTimer } from "./host.ts";
import type { NativeBackend } from "../../ffi/backend.ts";

/** A runtime holding the signals. */
export interface SignalClient {
  /** SIGINT (2) or SIGTERM (15) reached the host's listeners while this client held them. */
  onHostSignal(signal: number): void;
}

/** How long host listeners outlive the last runtime after a signal stopped it, in ms. */
export const SIGNAL_GRACE_MS = 1000;
/** Most grace periods to wait for the host to deliver a bridged signal to the listeners. */
const MAX_GRACE_ROUNDS = 10;

const HOST_SIGNALS: readonly (readonly [string, number])[] = [["SIGINT", 2], ["SIGTERM", 15]];

const isDeno = detectRuntime() === "deno";

/** The clients, each with whether it is a member of a native bridge. */
const clients = new Map<SignalClient, boolean>();
/** Native backends whose bridge counts show signals that reached the bridge. */
const bridges = new Set<NativeBackend>();
let removeListeners: (() => void) | null = null;
/** The bridges' total count when the host last delivered a signal to the listeners. */
let accounted = 0;
/** True once a signal arrived in this holding session. */
let signalled = false;
let graceTimer: unknown = null;
let graceRounds = 0;

function bridgeTotal(): number {
  let n = 0;
  for (const b of bridges) n += b.signalBridgeCount();
  return n;
}

function onHostSignal(signal: number): void {
  const total = bridgeTotal();
  // A signal the bridges did not count reached only the host (a handler replaced the bridge's
  // while the host event loop ran): every client hears it here. One they counted was already
  // written to every member's eventfd; passing it on as well would stop a runtime that joined
  // after it arrived (the host delivers when its event loop turns, maybe much later).
  const bypassed = total === accounted;
  accounted = total;
  signalled = true;
  // A copy: a client's shutdown releases it from the map while this loop runs.
  for (const [c, bridged] of [...clients]) {
    if (bypassed || !bridged) c.onHostSignal(signal);
  }
}

/**
 * Registers the host listeners. Deno: `Deno.addSignalListener`; Bun and Node:
 * `process.on`. Neither keeps the process alive. Returns their removal, or null where the
 * host has no signal listeners (or refuses them, as a Worker may).
 */
function addHostListeners(): (() => void) | null {
  const removals: (() => void)[] = [];
  for (const [name, num] of HOST_SIGNALS) {
    try {
      removals.push(addSignalListener(name, () => onHostSignal(num)));
    } catch {
      // A host that refuses signal listeners (a Worker may): the bridge alone wakes parked
      // loops.
      break;
    }
  }
  if (removals.length === 0) return null;
  return () => {
    for (const remove of removals) remove();
  };
}

/**
 * Deno sets up its signal handling on the first signal listener of the process, with a socket
 * pair, and aborts the process when it cannot get those two fds. Checks that two are free, so
 * that a full fd table is a NativeError (EMFILE) instead.
 *
 * @throws {NativeError} If two fds cannot be had.
 */
function ensureSpareFds(b: NativeBackend): void {
  const first = b.eventfdCreate();
  try {
    b.close(b.eventfdCreate());
  } finally {
    b.close(first);
  }
}

function cancelGrace(): void {
  if (graceTimer !== null) {
    clearTimeout(graceTimer as number);
    graceTimer = null;
  }
}

function endSession(): void {
  cancelGrace();
  removeListeners?.();
  removeListeners = null;
  bridges.clear();
  signalled = false;
  accounted = 0;
}

function armGrace(): void {
  graceTimer = setTimeout(() => {
    graceTimer = null;
    // A bridged signal the host has not delivered to the listeners yet: removing them now
    // would let the host apply its default action to it.
    if (bridgeTotal() !== accounted && ++graceRounds < MAX_GRACE_ROUNDS) armGrace();
    else endSession();
  }, SIGNAL_GRACE_MS);
  unrefTimer(graceTimer);
}

/**
 * Holds SIGINT and SIGTERM for `client` until the returned function is called. Call it before
 * adding an eventfd to the native bridge, so that the bridge chains to the host's dispatcher.
 *
 * @param client Told when the host delivers one of the signals.
 * @param bridge The native backend whose bridge the client joins, or null (pure-JS backend).
 * @returns The release: pass true when a signal stopped the client.
 */
export function holdSignals(
  client: SignalClient,
  bridge: NativeBackend | null,
): (stoppedBySignal: boolean) => void {
  if (clients.size === 0 && removeListeners === null && bridge !== null && isDeno) {
    ensureSpareFds(bridge);
  }
  cancelGrace();
  graceRounds = 0;
  if (clients.size === 0) {
    // A new session (perhaps inside the last one's grace period, whose listeners it keeps).
    signalled = false;
    if (removeListeners === null) {
      removeListeners = addHostListeners();
      accounted = 0;
    }
  }
  if (bridge !== null && !bridges.has(bridge)) {
    // Counts that arrived before this bridge joined are not this session's.
    accounted += bridge.signalBridgeCount();
    bridges.add(bridge);
  }
  clients.set(client, bridge !== null);
  let held = true;
  return (stoppedBySignal: boolean) => {
    if (!held) return;
    held = false;
    clients.delete(client);
    if (stoppedBySignal) signalled = true;
    if (clients.size > 0) return;
    if (signalled || bridgeTotal() !== accounted) armGrace();
    else endSession();
  };
}

/** True while host signal listeners are registered (runtimes hold them, or a grace period runs). */
export function hostSignalsHeld(): boolean {
  return removeListeners !== null;
}
