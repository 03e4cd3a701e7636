// The peer transport of a real node process (SPEC §6): Raft messages between nodes over TCP.
//
// Each node listens for its peers and dials each of them once: a message to S2 leaves on our outbound connection
// to S2, and S2's messages to us arrive on its outbound connection, which we accepted. So every pair of nodes has
// two connections, each carrying messages one way (and keepalives both ways).
//
// Loss is allowed, as Raft retries: a message to a peer that is not connected is dropped at once. While a
// connection is being set up, or while its socket is full, messages wait in a bounded queue per peer; a message
// that finds the queue full is dropped (the newest goes, as in etcd's rafthttp), so what does leave is a
// contiguous run of what Raft sent and a pipelined AppendEntries stream keeps no holes.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Message, NodeId } from '../../core/types.ts';
import { FRAME_BYTES_MAX_DEFAULT, FrameTooLargeError } from './frame.ts';
import { encodeMessage } from './message-codec.ts';
import { PeerConnection, type ConnectionEvents, type ConnectionSettings, type TransportLog } from './peer-connection.ts';
import { FrameKind, checkClusterName, encodeKindFrame } from './protocol.ts';
import { createTransportMetrics, type CloseReason, type DropReason, type TransportMetrics } from './transport-metrics.ts';

export type { LogLevel, TransportLog } from './peer-connection.ts';

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export interface TransportOptions {
  readonly id: NodeId;
  /** Both ends of every connection must name the same cluster. */
  readonly cluster: string;
  /** Where to listen; port 0 picks a free port (see `start`'s result). */
  readonly listen: PeerAddress;
  /** The peers and where they listen. An entry for this node's own id is ignored, so one list serves all nodes. */
  readonly peers?: ReadonlyMap<NodeId, PeerAddress>;
  /** The shared secret; null or absent: no authentication (both sides must agree). */
  readonly secret?: Uint8Array | string | null;
  /** Called with every valid message from a peer; an exception is logged, never thrown back into the socket. */
  readonly onMessage: (message: Message) => void;
  readonly log?: TransportLog;
  /** A float in [0, 1) for the reconnection jitter; Math.random when absent. */
  readonly random?: () => number;
  /** Largest frame accepted and sent, in bytes (payload, after the 4-byte length). Default 16 MiB. */
  readonly frameBytesMax?: number;
  /** Bounds of each peer's outbound queue. Defaults 1024 messages, 64 MiB. */
  readonly outboundQueueMessagesMax?: number;
  readonly outboundQueueBytesMax?: number;
  /** Handshakes in progress at once on the listening side; more connections are closed at once. Default 64. */
  readonly handshakesInProgressMax?: number;
  /** Defaults: connect 3000 ms, handshake 5000 ms, silence 5000 ms, keepalive every 1000 ms when idle. */
  readonly connectTimeoutMs?: number;
  readonly handshakeTimeoutMs?: number;
  readonly silenceTimeoutMs?: number;
  readonly keepaliveIntervalMs?: number;
  /** Reconnection delays grow from min to max, doubling per failed attempt, with jitter. Defaults 50 and 5000 ms. */
  readonly reconnectDelayMsMin?: number;
  readonly reconnectDelayMsMax?: number;
}

export type OutboundState = 'idle' | 'connecting' | 'open' | 'backoff' | 'stopped';

export interface PeerStatus {
  readonly id: NodeId;
  readonly address: PeerAddress;
  /** Our connection to the peer, which carries our messages to it. */
  readonly outbound: OutboundState;
  /** Whether the peer's connection to us is up (its messages to us). */
  readonly inbound: boolean;
  /** Messages waiting in the outbound queue. */
  readonly queuedMessages: number;
}

interface TransportSettings extends ConnectionSettings {
  readonly outboundQueueMessagesMax: number;
  readonly outboundQueueBytesMax: number;
  readonly reconnectDelayMsMin: number;
  readonly reconnectDelayMsMax: number;
  readonly random: () => number;
  drop(reason: DropReason, count?: number): void;
  /** Keeps a connection in the transport's set until its socket has closed, so that `stop` can cut it. */
  track(connection: PeerConnection): void;
}

export class Transport {
  readonly metrics: TransportMetrics = createTransportMetrics();
  private readonly settings: TransportSettings;
  private readonly links = new Map<NodeId, PeerLink>();
  /** Every connection, either way, until its socket has closed (a refusing one lingers briefly). */
  private readonly connections = new Set<PeerConnection>();
  /** Accepted connections whose handshake is done, by peer. */
  private readonly inboundByPeer = new Map<NodeId, PeerConnection>();
  private readonly handshakesInProgressMax: number;
  private server: Server | null = null;
  private state: 'new' | 'started' | 'stopped' = 'new';

  constructor(private readonly options: TransportOptions) {
    checkClusterName(options.cluster);
    assertPositiveInteger('id', options.id);
    const secret = options.secret === undefined || options.secret === null ? null : Buffer.from(options.secret);
    if (secret !== null && secret.byteLength === 0) throw new Error('the shared secret is empty; give a secret or none');
    const keepaliveIntervalMs = options.keepaliveIntervalMs ?? 1000;
    const silenceTimeoutMs = options.silenceTimeoutMs ?? 5000;
    const reconnectDelayMsMin = options.reconnectDelayMsMin ?? 50;
    const reconnectDelayMsMax = options.reconnectDelayMsMax ?? 5000;
    const log = options.log ?? (() => {});
    const metrics = this.metrics;
    const connections = this.connections;
    this.handshakesInProgressMax = options.handshakesInProgressMax ?? 64;
    assertPositiveInteger('handshakesInProgressMax', this.handshakesInProgressMax);
    this.settings = {
      id: options.id,
      cluster: options.cluster,
      secret,
      frameBytesMax: options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT,
      connectTimeoutMs: options.connectTimeoutMs ?? 3000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5000,
      silenceTimeoutMs,
      keepaliveIntervalMs,
      outboundQueueMessagesMax: options.outboundQueueMessagesMax ?? 1024,
      outboundQueueBytesMax: options.outboundQueueBytesMax ?? 64 * 1024 * 1024,
      reconnectDelayMsMin,
      reconnectDelayMsMax,
      random: options.random ?? Math.random,
      log,
      metrics,
      isPeer: (id) => this.links.has(id),
      drop(reason, count = 1) {
        metrics.messagesDropped += count;
        metrics.messagesDroppedByReason[reason] += count;
      },
      track(connection) {
        connections.add(connection);
        void connection.closed.then(() => connections.delete(connection));
      },
    };
    for (const [name, value] of Object.entries(this.settings)) {
      if (name.endsWith('Ms') || name.endsWith('Max')) assertPositiveInteger(name, value as number);
    }
    // A healthy link sends at least every keepalive interval; the silence timeout must leave room for that.
    if (silenceTimeoutMs < 2 * keepaliveIntervalMs) {
      throw new Error(`silenceTimeoutMs (${silenceTimeoutMs}) must be at least twice keepaliveIntervalMs (${keepaliveIntervalMs})`);
    }
    if (reconnectDelayMsMin > reconnectDelayMsMax) {
      throw new Error(`reconnectDelayMsMin (${reconnectDelayMsMin}) is above reconnectDelayMsMax (${reconnectDelayMsMax})`);
    }
    for (const [id, address] of options.peers ?? []) if (id !== options.id) this.setPeer(id, address);
  }

  get id(): NodeId {
    return this.options.id;
  }

  /** Listens, then starts dialing every peer. Resolves with the address listened on. */
  async start(): Promise<PeerAddress> {
    if (this.state !== 'new') throw new Error(`transport of S${this.id}: start() called when ${this.state}`);
    const server = createServer((socket) => {
      try {
        this.accept(socket);
      } catch (error) {
        this.settings.log('error', `transport of S${this.id}: cannot accept a connection: ${(error as Error).message}`, { stack: (error as Error).stack });
        socket.destroy();
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.listen.port, this.options.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.settings.log('error', `transport of S${this.id}: listening socket failed: ${error.message}`, {}));
    this.state = 'started';
    const address = this.address();
    this.settings.log('info', `S${this.id} listens for peers on ${address.host}:${address.port}`, { host: address.host, port: address.port });
    for (const link of this.links.values()) link.start();
    return address;
  }

  /** The address listened on (after `start`). */
  address(): PeerAddress {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (address === null || address === undefined) throw new Error(`transport of S${this.id} is not listening`);
    return { host: address.address, port: address.port };
  }

  /** Adds a peer or changes its address (the link reconnects to the new one). */
  setPeer(id: NodeId, address: PeerAddress): void {
    assertPositiveInteger('peer id', id);
    if (id === this.id) throw new Error(`S${id} cannot be a peer of itself`);
    if (this.state === 'stopped') return;
    const link = this.links.get(id);
    if (link !== undefined) {
      link.setAddress(address);
      return;
    }
    const added = new PeerLink(id, address, this.settings);
    this.links.set(id, added);
    if (this.state === 'started') added.start();
  }

  /** Forgets a peer: closes both connections with it and refuses its future handshakes. */
  removePeer(id: NodeId): void {
    this.links.get(id)?.stop();
    this.links.delete(id);
    this.inboundByPeer.get(id)?.close('stopped', `S${id} was removed from the peers`);
  }

  peers(): PeerStatus[] {
    return [...this.links.values()].map((link) => ({
      id: link.peer,
      address: link.address,
      outbound: link.state,
      inbound: this.inboundByPeer.has(link.peer),
      queuedMessages: link.queuedMessages,
    }));
  }

  /** Sends one message, or drops it (counted, never thrown): Raft tolerates loss. */
  send(message: Message): void {
    if (message.from !== this.id) throw new Error(`transport of S${this.id} asked to send a ${message.type} from S${message.from}`);
    if (this.state === 'stopped') return this.settings.drop('stopped');
    const link = this.links.get(message.to);
    if (link === undefined) return this.settings.drop('unknown-peer');
    if (!link.accepting) return this.settings.drop(link.state === 'stopped' ? 'stopped' : 'disconnected');
    let frame: Buffer;
    try {
      frame = encodeKindFrame(FrameKind.message, encodeMessage(message), this.settings.frameBytesMax);
    } catch (error) {
      if (!(error instanceof FrameTooLargeError)) throw error;
      this.settings.log('warn', `dropped a ${message.type} to S${message.to}: ${error.message} (lower the core's bytes per message)`, {
        peer: message.to,
        type: message.type,
        frameBytes: error.frameBytes,
      });
      return this.settings.drop('too-large');
    }
    link.send(frame);
  }

  sendAll(messages: readonly Message[]): void {
    for (const message of messages) this.send(message);
  }

  /** Stops listening, closes every connection and cancels every timer. Resolves once all sockets are closed. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    for (const link of this.links.values()) link.stop();
    const closing: Promise<void>[] = [];
    for (const connection of this.connections) {
      connection.close('stopped', `S${this.id} is stopping`);
      closing.push(connection.closed);
    }
    const server = this.server;
    if (server !== null) closing.push(new Promise<void>((resolve) => server.close(() => resolve())));
    await Promise.all(closing);
  }

  private accept(socket: Socket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (this.state !== 'started') {
      socket.destroy();
      return;
    }
    this.metrics.connectionsAccepted++;
    let handshaking = 0;
    for (const connection of this.connections) if (connection.role === 'listener' && !connection.isOpen && !connection.isClosed) handshaking++;
    if (handshaking >= this.handshakesInProgressMax) {
      this.metrics.connectionsClosedByReason['too-many-connections']++;
      this.settings.log('warn', `refused a connection from ${remote}: ${handshaking} handshakes in progress already (handshakesInProgressMax)`, {
        reason: 'too-many-connections',
        remote,
      });
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const events: ConnectionEvents = {
      established: (connection) => {
        const peer = connection.peer!;
        const previous = this.inboundByPeer.get(peer);
        this.inboundByPeer.set(peer, connection);
        // The peer dials us once; an older connection from it is a leftover of a restart or a network fault.
        previous?.close('replaced', `S${peer} opened a new connection`);
        this.settings.log('info', `S${peer} connected from ${remote}`, { peer, remote });
      },
      message: (_connection, message) => this.options.onMessage(message),
      drain: () => {},
      closed: (connection) => {
        const peer = connection.peer;
        if (peer !== null && this.inboundByPeer.get(peer) === connection) this.inboundByPeer.delete(peer);
      },
    };
    this.settings.track(new PeerConnection(socket, 'listener', remote, this.settings, events));
  }
}

/** Our side of the link to one peer: one reusable outbound connection, reconnected with backoff. */
class PeerLink {
  state: OutboundState = 'idle';
  private connection: PeerConnection | null = null;
  private readonly queue: Buffer[] = [];
  private queueBytes = 0;
  /** The socket refused a write: queue until it drains. */
  private blocked = false;
  /** Connection attempts since the last completed handshake. */
  private failedAttempts = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly peer: NodeId,
    public address: PeerAddress,
    private readonly settings: TransportSettings,
  ) {}

  /** Whether a message would be sent or queued now; when not, it is dropped without being encoded. */
  get accepting(): boolean {
    return this.state === 'connecting' || this.state === 'open';
  }

  get queuedMessages(): number {
    return this.queue.length;
  }

  start(): void {
    if (this.state === 'idle') this.connect();
  }

  setAddress(address: PeerAddress): void {
    if (address.host === this.address.host && address.port === this.address.port) return;
    this.address = address;
    if (this.state === 'idle' || this.state === 'stopped') return;
    this.connection?.close('stopped', `S${this.peer} moved to ${address.host}:${address.port}`);
    this.cancelReconnect();
    this.failedAttempts = 0;
    this.connect();
  }

  send(frame: Buffer): void {
    if (this.state === 'open' && !this.blocked && this.queue.length === 0) {
      this.write(frame);
      return;
    }
    const { outboundQueueMessagesMax, outboundQueueBytesMax } = this.settings;
    if (this.queue.length >= outboundQueueMessagesMax || this.queueBytes + frame.byteLength > outboundQueueBytesMax) {
      this.settings.drop('queue-full');
      return;
    }
    this.queue.push(frame);
    this.queueBytes += frame.byteLength;
  }

  stop(): void {
    this.state = 'stopped';
    this.cancelReconnect();
    this.discardQueue('stopped');
    this.connection?.close('stopped', 'the link to this peer is stopping');
  }

  private connect(): void {
    const { host, port } = this.address;
    this.state = 'connecting';
    this.blocked = false;
    this.settings.metrics.connectionsDialed++;
    const socket = connect({ host, port });
    const events: ConnectionEvents = {
      established: () => this.onEstablished(),
      message: () => {}, // a dialer never accepts messages: the connection closes on one
      drain: () => {
        this.blocked = false;
        this.flush();
      },
      closed: (connection, reason) => this.onClosed(connection, reason),
    };
    this.connection = new PeerConnection(socket, 'dialer', `${host}:${port}`, this.settings, events, this.peer);
    this.settings.track(this.connection);
  }

  private onEstablished(): void {
    if (this.failedAttempts > 0) {
      this.settings.log('info', `reached S${this.peer} at ${this.address.host}:${this.address.port} again`, { peer: this.peer });
    }
    this.state = 'open';
    this.failedAttempts = 0;
    this.flush();
  }

  private onClosed(connection: PeerConnection, reason: CloseReason): void {
    if (connection !== this.connection) return;
    this.connection = null;
    this.discardQueue('disconnected');
    if (this.state === 'stopped') return;
    const wasOpen = this.state === 'open';
    const delayMs = this.nextDelayMs();
    this.failedAttempts++;
    // A link that was up, or the first failure of a streak, is worth a line; the retries that follow are not.
    if (wasOpen || this.failedAttempts === 1) {
      this.settings.log('info', `${wasOpen ? 'lost' : 'cannot reach'} S${this.peer} at ${this.address.host}:${this.address.port} (${reason}); retrying with backoff`, {
        peer: this.peer,
        reason,
        delayMs,
      });
    }
    this.state = 'backoff';
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      try {
        if (this.state === 'backoff') this.connect();
      } catch (error) {
        this.settings.log('error', `transport: cannot dial S${this.peer}: ${(error as Error).message}`, { peer: this.peer });
      }
    }, delayMs);
  }

  /**
   * The wait before the next attempt: the base doubles with each failed attempt from the minimum up to the
   * maximum, and the wait is drawn in [base / 2, base] so that nodes restarted together do not retry in step.
   */
  private nextDelayMs(): number {
    const { reconnectDelayMsMin, reconnectDelayMsMax, random } = this.settings;
    const baseMs = Math.min(reconnectDelayMsMax, reconnectDelayMsMin * 2 ** Math.min(this.failedAttempts, 30));
    return Math.round(baseMs / 2 + (random() * baseMs) / 2);
  }

  private flush(): void {
    while (this.state === 'open' && !this.blocked && this.queue.length > 0) {
      const frame = this.queue.shift()!;
      this.queueBytes -= frame.byteLength;
      this.write(frame);
    }
  }

  private write(frame: Buffer): void {
    const connection = this.connection;
    if (connection === null || !connection.isOpen) {
      this.settings.drop('disconnected');
      return;
    }
    this.settings.metrics.messagesSent++;
    if (!connection.write(frame)) this.blocked = true;
  }

  private discardQueue(reason: DropReason): void {
    if (this.queue.length > 0) this.settings.drop(reason, this.queue.length);
    this.queue.length = 0;
    this.queueBytes = 0;
  }

  private cancelReconnect(): void {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }
}

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
}
