// Counters for a node's /metrics: plain numbers, only ever incremented, read at any time.

/** Why a connection ended. Each close is logged with its reason and counted under it. */
export type CloseReason =
  // protocol violations by the other side
  | 'frame-too-large' // a length prefix above the limit (before the handshake the limit is 4 KiB)
  | 'malformed-frame' // an empty frame, an unknown frame kind, or a handshake frame that does not parse
  | 'unexpected-frame' // a frame of a kind that is not allowed at this point of the protocol
  | 'malformed-message' // a message frame that does not decode or validate, or whose from/to are not this link's
  // handshake rejections (either side)
  | 'version-mismatch'
  | 'wrong-cluster'
  | 'wrong-node' // the listener is not the node the dialer meant, or the hello names another node as its target
  | 'unknown-peer' // the hello comes from a node id that is not one of our peers
  | 'bad-proof' // a wrong or missing shared-secret proof
  | 'refused-by-peer' // the other side rejected our handshake
  // timers
  | 'connect-timeout'
  | 'handshake-timeout'
  | 'silence-timeout' // no frame for the silence timeout, although both sides send keepalives when idle
  // the ordinary life of a link
  | 'connect-failed'
  | 'peer-closed'
  | 'socket-error'
  | 'replaced' // a newer connection from the same peer took its place
  | 'too-many-connections' // more handshakes in progress than allowed
  | 'stopped'; // the transport stopped or the peer was removed

export const CLOSE_REASONS: readonly CloseReason[] = [
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
  'connect-timeout',
  'handshake-timeout',
  'silence-timeout',
  'connect-failed',
  'peer-closed',
  'socket-error',
  'replaced',
  'too-many-connections',
  'stopped',
];

/** Why an outgoing message was not sent. Raft tolerates loss: heartbeats, probes and timeouts resend. */
export type DropReason =
  | 'disconnected' // the link to that peer is down (waiting to reconnect)
  | 'queue-full' // the peer's outbound queue is at its bound (messages or bytes): the newest message is dropped
  | 'unknown-peer' // addressed to a node that is not a peer
  | 'too-large' // the encoded message exceeds the frame limit
  | 'stopped'; // the transport is stopped

export const DROP_REASONS: readonly DropReason[] = ['disconnected', 'queue-full', 'unknown-peer', 'too-large', 'stopped'];

export interface TransportMetrics {
  /** Messages written to a socket. */
  messagesSent: number;
  /** Valid messages handed to `onMessage`. */
  messagesReceived: number;
  /** Messages not sent, in all; `messagesDroppedByReason` splits them. */
  messagesDropped: number;
  readonly messagesDroppedByReason: Record<DropReason, number>;
  /** Frame bytes (headers included) written and read, keepalives and handshakes too. */
  bytesSent: number;
  bytesReceived: number;
  /** Connections we dialed (attempts) and accepted, and handshakes completed either way. */
  connectionsDialed: number;
  connectionsAccepted: number;
  handshakesCompleted: number;
  readonly connectionsClosedByReason: Record<CloseReason, number>;
}

export function createTransportMetrics(): TransportMetrics {
  return {
    messagesSent: 0,
    messagesReceived: 0,
    messagesDropped: 0,
    messagesDroppedByReason: Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>,
    bytesSent: 0,
    bytesReceived: 0,
    connectionsDialed: 0,
    connectionsAccepted: 0,
    handshakesCompleted: 0,
    connectionsClosedByReason: Object.fromEntries(CLOSE_REASONS.map((reason) => [reason, 0])) as Record<CloseReason, number>,
  };
}
