// What a system under test offers the scenarios: start a cluster, open client connections that
// speak its wire protocol over plain `ws`, and publish events.
import type { Pinned } from '../procs.js';

export interface RunContext {
  /** Core the server processes (and their Redis) are pinned to. */
  readonly serverCpu: number;
  readonly redisServer: string;
  /** Repository root (the Switchboard CLI and the bench sources live under it). */
  readonly root: string;
}

export interface Cluster {
  /** One base address per node, e.g. ws://127.0.0.1:4000. */
  readonly nodes: readonly string[];
  /** The server processes whose CPU and memory are measured. */
  readonly servers: readonly Pinned[];
  /** The Redis they share, if any (its CPU is reported separately). */
  readonly redis?: Pinned;
  /** How events enter the system in this run, for the result rows. */
  readonly publishPath: string;
  /** Publishes one event body (a JSON object text with `t` and `n`) to a topic. */
  publish(topic: string, body: string): void;
  stop(): Promise<void>;
}

export interface ClientOptions {
  /** Distinct per connection within a run (user id, socket name). */
  readonly index: number;
  /** Source address, so many connections do not exhaust one address's ephemeral ports. */
  readonly localAddress: string;
  /** Called with each event frame's raw bytes; other frames are handled by the client itself. */
  readonly onEvent: (frame: Buffer) => void;
  readonly onClose: (code: number) => void;
}

export interface Client {
  /** Resolves once the server confirms the subscription (or room join). */
  subscribe(topic: string): Promise<void>;
  close(): void;
}

export interface System {
  readonly name: string;
  /** Whether `nodes` > 1 is supported (a cluster over Redis). */
  readonly clustered: boolean;
  start(ctx: RunContext, nodes: number): Promise<Cluster>;
  connect(node: string, options: ClientOptions): Promise<Client>;
}
