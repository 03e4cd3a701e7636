// One TCP connection between two nodes, from either end: the dialer sends Raft messages over it, the listener
// receives them. It runs the handshake (protocol.ts), decodes frames, checks every message, keeps the link from
// going silent, and closes itself, once, with a logged and counted reason. No event handler here ever throws.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Message, NodeId } from '../../core/types.ts';
import { FrameDecoder, FrameTooLargeError } from './frame.ts';
import { decodeMessage, validateMessage } from './message-codec.ts';
import {
  FrameKind,
  HANDSHAKE_FRAME_BYTES_MAX,
  KEEPALIVE_FRAME,
  MalformedFrameError,
  PROTOCOL_VERSION,
  computeProof,
  createNonce,
  helloFrame,
  parseHello,
  parseProof,
  parseRefuse,
  parseWelcome,
  proofFrame,
  proofMatches,
  refuseFrame,
  welcomeFrame,
  type HandshakeRole,
  type HandshakeTranscript,
  type RefuseReason,
} from './protocol.ts';
import type { CloseReason, TransportMetrics } from './transport-metrics.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** Where the transport says what happened; `fields` are for machines (reason, peer, remote address). */
export type TransportLog = (level: LogLevel, message: string, fields: Record<string, unknown>) => void;

/** What every connection of one transport shares. */
export interface ConnectionSettings {
  readonly id: NodeId;
  readonly cluster: string;
  readonly secret: Buffer | null;
  readonly frameBytesMax: number;
  readonly connectTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly silenceTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  readonly log: TransportLog;
  readonly metrics: TransportMetrics;
  /** Whether a node id is one of our peers (a listener accepts hellos from peers only). */
  isPeer(id: NodeId): boolean;
}

export interface ConnectionEvents {
  established(connection: PeerConnection): void;
  message(connection: PeerConnection, message: Message): void;
  /** The socket can take more after a write returned false. */
  drain(connection: PeerConnection): void;
  closed(connection: PeerConnection, reason: CloseReason): void;
}

type Step = 'connecting' | 'await-hello' | 'await-proof' | 'await-welcome' | 'open' | 'closed';

/** Reasons that are the other side's fault or a misconfiguration: worth a warning every time. */
const WARNING_REASONS: ReadonlySet<CloseReason> = new Set<CloseReason>([
  'frame-too-large',
  'malformed-frame',
  'unexpected-frame',
  'malformed-message',
  'version-mismatch',
  'wrong-cluster',
  'wrong-node',
  'unknown-peer',
  'bad-proof',
  'refused-by-peer',
  'handshake-timeout',
  'silence-timeout',
  'too-many-connections',
]);
/** Reasons that repeat while a peer is down: the link logs the first of a streak, these stay at debug. */
const QUIET_REASONS: ReadonlySet<CloseReason> = new Set<CloseReason>(['connect-failed', 'connect-timeout']);

/** How long a refusing side lets its refuse frame leave before it cuts the socket. */
const REFUSE_LINGER_MS = 200;

export class PeerConnection {
  private step: Step;
  /** The other node: known from the start when we dialed, after the hello when we listened. */
  private peerValue: NodeId | null;
  private readonly decoder = new FrameDecoder(HANDSHAKE_FRAME_BYTES_MAX);
  private dialerNonce = '';
  private lastReceivedAtMs = performance.now();
  private lastSentAtMs = performance.now();
  private connectTimer: NodeJS.Timeout | null = null;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  /** What both sides have said, once hello and welcome have crossed: what the proofs cover. */
  private transcript: HandshakeTranscript | null = null;
  /** Resolves once the socket is fully closed. */
  readonly closed: Promise<void>;

  /**
   * `socket` is connected already for a listener; for a dialer it comes straight from `net.connect` and
   * `dialedPeer` names the node we mean to reach.
   */
  constructor(
    private readonly socket: Socket,
    readonly role: HandshakeRole,
    readonly remote: string,
    private readonly settings: ConnectionSettings,
    private readonly events: ConnectionEvents,
    dialedPeer: NodeId | null = null,
  ) {
    if ((role === 'dialer') !== (dialedPeer !== null)) throw new Error('a dialer names the peer it dials, a listener does not');
    this.peerValue = dialedPeer;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.guard(() => this.onData(chunk)));
    socket.on('drain', () => this.guard(() => this.events.drain(this)));
    socket.on('end', () => this.guard(() => this.close('peer-closed', 'the peer closed the connection')));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      this.guard(() => this.close(this.step === 'connecting' ? 'connect-failed' : 'socket-error', error.code ?? error.message)),
    );
    socket.on('close', () => this.guard(() => this.close('peer-closed', 'the connection closed')));
    if (role === 'dialer') {
      this.step = 'connecting';
      this.connectTimer = setTimeout(
        () => this.guard(() => this.close('connect-timeout', `no connection after ${settings.connectTimeoutMs} ms`)),
        settings.connectTimeoutMs,
      );
      socket.once('connect', () => this.guard(() => this.onConnected()));
    } else {
      this.step = 'await-hello';
      this.startTimers();
    }
  }

  get peer(): NodeId | null {
    return this.peerValue;
  }

  get isOpen(): boolean {
    return this.step === 'open';
  }

  get isClosed(): boolean {
    return this.step === 'closed';
  }

  /** Writes a whole frame; false when the socket's buffer is full (wait for `drain`) or the connection is closed. */
  write(frame: Buffer): boolean {
    if (this.step === 'closed' || this.step === 'connecting') return false;
    this.settings.metrics.bytesSent += frame.byteLength;
    this.lastSentAtMs = performance.now();
    return this.socket.write(frame);
  }

  /**
   * Ends the connection: logs why, counts it, tells the owner, and destroys the socket. Once closed, a further
   * call only destroys the socket (cutting short a refusal that lingers).
   */
  close(reason: CloseReason, detail: string): void {
    this.finish(reason, detail, null);
  }

  /** `farewell`: a last frame to send before closing; the socket then lingers briefly so that it can leave. */
  private finish(reason: CloseReason, detail: string, farewell: Buffer | null): void {
    if (this.step === 'closed') {
      this.socket.destroy();
      return;
    }
    const wasOpen = this.step === 'open';
    this.step = 'closed';
    this.clearTimers();
    this.settings.metrics.connectionsClosedByReason[reason]++;
    const level = WARNING_REASONS.has(reason) ? 'warn' : QUIET_REASONS.has(reason) ? 'debug' : 'info';
    const who = this.peerValue === null ? this.remote : `S${this.peerValue} (${this.remote})`;
    const what = this.role === 'dialer' ? `connection to ${who}` : `connection from ${who}`;
    this.settings.log(level, `closed the ${what}: ${reason}: ${detail}`, {
      reason,
      detail,
      peer: this.peerValue,
      remote: this.remote,
      role: this.role,
      wasOpen,
    });
    if (farewell === null || this.socket.destroyed) {
      this.socket.destroy();
    } else {
      const socket = this.socket;
      socket.end(farewell);
      const lingerTimer = setTimeout(() => socket.destroy(), REFUSE_LINGER_MS);
      socket.once('close', () => clearTimeout(lingerTimer));
    }
    this.events.closed(this, reason);
  }

  // ---- Handshake ----------------------------------------------------------------------------------------

  private onConnected(): void {
    if (this.step !== 'connecting') return;
    this.clearTimer('connect');
    this.step = 'await-welcome';
    this.startTimers();
    this.dialerNonce = createNonce();
    this.write(helloFrame({ version: PROTOCOL_VERSION, cluster: this.settings.cluster, from: this.settings.id, to: this.peerValue!, nonce: this.dialerNonce }));
  }

  private handleHello(body: Buffer): void {
    const hello = parseHello(body);
    const { id, cluster } = this.settings;
    if (hello.version !== PROTOCOL_VERSION) return this.refuse('version-mismatch', `the peer speaks protocol version ${hello.version}, this node ${PROTOCOL_VERSION}`);
    if (hello.cluster !== cluster) return this.refuse('wrong-cluster', `the peer is in cluster ${JSON.stringify(hello.cluster)}, this node in ${JSON.stringify(cluster)}`);
    if (hello.to !== id) return this.refuse('wrong-node', `the peer wants S${hello.to}, this is S${id}`);
    if (hello.from === id || !this.settings.isPeer(hello.from)) return this.refuse('unknown-peer', `S${hello.from} is not a peer of S${id}`);
    this.peerValue = hello.from;
    this.dialerNonce = hello.nonce;
    const listenerNonce = createNonce();
    this.transcript = { cluster, dialer: hello.from, listener: id, dialerNonce: hello.nonce, listenerNonce };
    const proof = this.settings.secret === null ? '' : computeProof(this.settings.secret, 'listener', this.transcript);
    this.step = 'await-proof';
    this.write(welcomeFrame({ version: PROTOCOL_VERSION, cluster, from: id, to: hello.from, nonce: listenerNonce, proof }));
  }

  private handleWelcome(body: Buffer): void {
    const welcome = parseWelcome(body);
    const { id, cluster } = this.settings;
    if (welcome.version !== PROTOCOL_VERSION) return this.refuse('version-mismatch', `the peer speaks protocol version ${welcome.version}, this node ${PROTOCOL_VERSION}`);
    if (welcome.cluster !== cluster) return this.refuse('wrong-cluster', `the peer is in cluster ${JSON.stringify(welcome.cluster)}, this node in ${JSON.stringify(cluster)}`);
    if (welcome.from !== this.peerValue) return this.refuse('wrong-node', `S${this.peerValue}'s address answers as S${welcome.from}`);
    if (welcome.to !== id) return this.refuse('wrong-node', `the peer answers S${welcome.to}, this is S${id}`);
    this.transcript = { cluster, dialer: id, listener: welcome.from, dialerNonce: this.dialerNonce, listenerNonce: welcome.nonce };
    const problem = this.checkProof('listener', welcome.proof);
    if (problem !== null) return this.refuse('bad-proof', problem);
    const proof = this.settings.secret === null ? '' : computeProof(this.settings.secret, 'dialer', this.transcript);
    this.write(proofFrame({ proof }));
    this.establish();
  }

  private handleProof(body: Buffer): void {
    const problem = this.checkProof('dialer', parseProof(body).proof);
    if (problem !== null) return this.refuse('bad-proof', problem);
    this.establish();
  }

  /** Null when the other side's proof is right (or both sides run without a secret); what is wrong otherwise. */
  private checkProof(role: HandshakeRole, proof: string): string | null {
    const secret = this.settings.secret;
    if (secret === null) return proof === '' ? null : 'the peer proves a shared secret, but none is configured here';
    if (proof === '') return 'the peer sent no proof of the shared secret (is a secret configured there?)';
    return proofMatches(secret, role, this.transcript!, proof) ? null : 'the proof of the shared secret is wrong (the secrets differ)';
  }

  private establish(): void {
    this.step = 'open';
    this.clearTimer('handshake');
    this.decoder.frameBytesMax = this.settings.frameBytesMax;
    this.settings.metrics.handshakesCompleted++;
    this.events.established(this);
  }

  /** Rejects the handshake: tells the other side why (a reason code, never the details) and closes. */
  private refuse(code: RefuseReason, detail: string, reason: CloseReason = code): void {
    this.finish(reason, detail, refuseFrame({ reason: code }));
  }

  // ---- Frames -------------------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.isClosed) return;
    this.lastReceivedAtMs = performance.now();
    this.settings.metrics.bytesReceived += chunk.byteLength;
    this.decoder.push(chunk);
    while (!this.isClosed) {
      let payload: Buffer | null;
      try {
        payload = this.decoder.next();
      } catch (error) {
        if (error instanceof FrameTooLargeError) return this.close('frame-too-large', error.message);
        throw error;
      }
      if (payload === null) return;
      try {
        this.handleFrame(payload);
      } catch (error) {
        if (!(error instanceof MalformedFrameError)) throw error;
        if (this.step === 'open') this.close('malformed-frame', error.message);
        else this.refuse('malformed-frame', error.message);
      }
    }
  }

  private handleFrame(payload: Buffer): void {
    if (payload.byteLength === 0) throw new MalformedFrameError('an empty frame (every frame starts with its kind)');
    const kind = payload[0]!;
    const body = payload.subarray(1);
    if (kind === FrameKind.refuse && this.step !== 'open') {
      const { reason } = parseRefuse(body);
      return this.close('refused-by-peer', `the peer refused the handshake: ${reason}`);
    }
    switch (this.step) {
      case 'await-hello':
        if (kind === FrameKind.hello) return this.handleHello(body);
        break;
      case 'await-welcome':
        if (kind === FrameKind.welcome) return this.handleWelcome(body);
        break;
      case 'await-proof':
        if (kind === FrameKind.proof) return this.handleProof(body);
        break;
      case 'open':
        if (kind === FrameKind.keepalive && body.byteLength === 0) return;
        if (kind === FrameKind.message && this.role === 'listener') return this.handleMessage(body);
        break;
      case 'connecting':
      case 'closed':
        return;
    }
    if (!Object.values(FrameKind).includes(kind as FrameKind)) throw new MalformedFrameError(`unknown frame kind ${kind}`);
    const detail = `a frame of kind ${kind} while ${this.step === 'open' ? `open as ${this.role}` : `waiting (${this.step})`}`;
    if (this.step === 'open') this.close('unexpected-frame', detail);
    else this.refuse('malformed-frame', detail, 'unexpected-frame');
  }

  private handleMessage(body: Buffer): void {
    let value: unknown;
    try {
      value = decodeMessage(body);
    } catch (error) {
      return this.close('malformed-message', `a message frame does not decode: ${(error as Error).message}`);
    }
    const validation = validateMessage(value);
    if (!validation.ok) return this.close('malformed-message', validation.problem);
    const message = validation.message;
    if (message.from !== this.peerValue) return this.close('malformed-message', `a ${message.type} from S${message.from} on S${this.peerValue}'s connection`);
    if (message.to !== this.settings.id) return this.close('malformed-message', `a ${message.type} for S${message.to} arrived at S${this.settings.id}`);
    this.settings.metrics.messagesReceived++;
    try {
      this.events.message(this, message);
    } catch (error) {
      // The host's handler failed: that is not the peer's fault, so the connection stays up.
      this.settings.log('error', `the message handler threw on a ${message.type} from S${message.from}: ${(error as Error).message}`, {
        peer: this.peerValue,
        type: message.type,
        stack: (error as Error).stack,
      });
    }
  }

  // ---- Timers -------------------------------------------------------------------------------------------

  private startTimers(): void {
    const { handshakeTimeoutMs, keepaliveIntervalMs, silenceTimeoutMs } = this.settings;
    this.lastReceivedAtMs = performance.now();
    this.handshakeTimer = setTimeout(
      () => this.guard(() => this.close('handshake-timeout', `no complete handshake after ${handshakeTimeoutMs} ms`)),
      handshakeTimeoutMs,
    );
    // Checked every half keepalive interval: a healthy link sends something at least every keepalive interval.
    this.tickTimer = setInterval(
      () =>
        this.guard(() => {
          if (this.step !== 'open') return;
          const nowMs = performance.now();
          if (nowMs - this.lastReceivedAtMs >= silenceTimeoutMs) {
            return this.close('silence-timeout', `nothing received for ${Math.round(nowMs - this.lastReceivedAtMs)} ms`);
          }
          if (nowMs - this.lastSentAtMs >= keepaliveIntervalMs / 2) this.write(KEEPALIVE_FRAME);
        }),
      keepaliveIntervalMs / 2,
    );
  }

  private clearTimer(which: 'connect' | 'handshake' | 'tick'): void {
    const timer = which === 'connect' ? this.connectTimer : which === 'handshake' ? this.handshakeTimer : this.tickTimer;
    if (timer !== null) clearTimeout(timer);
    if (which === 'connect') this.connectTimer = null;
    else if (which === 'handshake') this.handshakeTimer = null;
    else this.tickTimer = null;
  }

  private clearTimers(): void {
    this.clearTimer('connect');
    this.clearTimer('handshake');
    this.clearTimer('tick');
  }

  /** Event handlers never throw: an unexpected error closes this connection and is logged as an error. */
  private guard(handler: () => void): void {
    try {
      handler();
    } catch (error) {
      this.settings.log('error', `transport: unexpected error on the connection with ${this.remote}: ${(error as Error).message}`, {
        peer: this.peerValue,
        remote: this.remote,
        stack: (error as Error).stack,
      });
      try {
        this.close('socket-error', `internal error: ${(error as Error).message}`);
      } catch {
        this.socket.destroy();
      }
    }
  }
}
