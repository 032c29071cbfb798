/**
 * Recording and replaying a graph's stimuli. A {@linkcode Recorder} attached to an executor
 * writes, for every cycle that ran a node, the cycle's number and time, which nodes notifiers
 * and I/O scheduled, and every value a node read from outside the graph (channel items and
 * results). A {@linkcode Replayer} feeds the same back to the same graph in a historical
 * runtime, so it runs the same nodes in the same cycles and computes the same values, without
 * Workers, sockets or the wall clock.
 *
 * Both implement the core's `StimulusHook`: a runtime attaches one to its executor when
 * recording or replay starts, and the executor hands each channel receiver the hook's receiver
 * side, so neither the executor nor the channels ask which of the two is attached.
 *
 * The log binds itself to the graph: its header holds the graph's fingerprint (node names in id
 * order, depths, edges, channel layouts), and a replay into a graph with another fingerprint is
 * refused before any cycle runs. Every block of the log carries a checksum and the log ends with
 * an end marker, so a damaged or cut log is refused too. Anything the replayed graph then does
 * differently from the log (reading more or less from a channel, a stimulus for a node it does
 * not have) is a {@linkcode ReplayError}.
 *
 * @module
 */

export { type LogSink, Recorder } from "./recorder.ts";
export { Replayer } from "./replayer.ts";
