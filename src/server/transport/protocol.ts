// The frames of the peer wire protocol (SPEC §6) and its handshake.
//
// Every frame's payload starts with one byte naming its kind. Handshake frames carry small JSON objects; message
// frames carry one MessagePack-encoded Raft message; a keepalive carries nothing.
//
//   dialer                                              listener
//     hello   {version, cluster, from, to, nonce}  ->        checks version, cluster, `to` is itself, `from` a peer
//             <- welcome {version, cluster, from, to, nonce, proof}
//   checks cluster, `from` is the peer it dialed,
//   the listener's proof
//     proof   {proof}                               ->        checks the dialer's proof
//     message, message, keepalive, ...              ->        (the dialer sends; the listener only keeps alive)
//
// Either side that rejects the other sends `refuse {reason}` and closes. With a shared secret, each side proves
// that it knows it without sending it: proof = HMAC-SHA256(secret, transcript), where the transcript names the
// prover's role, both nonces, the cluster and both ids. Each side checks the other's proof over its own fresh
// nonce, so a recorded proof is worth nothing later; the role in the transcript stops a proof made as listener
// from being replayed as a dialer's. Without a secret, proofs are empty and both sides must agree on that.
// The handshake authenticates peers; it does not encrypt: run the cluster on a trusted network or inside a VPN.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NodeId } from '../../core/types.ts';
import { FRAME_BYTES_MAX_DEFAULT, FRAME_HEADER_BYTES, FrameTooLargeError } from './frame.ts';

export const PROTOCOL_VERSION = 1;

export const FrameKind = {
  hello: 1,
  welcome: 2,
  proof: 3,
  refuse: 4,
  message: 5,
  keepalive: 6,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Until the handshake is done a peer is unknown, so its frames may be small only. */
export const HANDSHAKE_FRAME_BYTES_MAX = 4096;

const CLUSTER_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const NONCE_PATTERN = /^[0-9a-f]{64}$/;
const PROOF_PATTERN = /^(?:[0-9a-f]{64})?$/;

export interface Hello {
  readonly version: number;
  readonly cluster: string;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly nonce: string;
}

export interface Welcome extends Hello {
  /** HMAC over the listener's transcript, hex; empty when no secret is configured. */
  readonly proof: string;
}

export interface Proof {
  /** HMAC over the dialer's transcript, hex; empty when no secret is configured. */
  readonly proof: string;
}

/** Why a handshake was refused, sent to the other side before closing (codes only, never details). */
export type RefuseReason = 'version-mismatch' | 'wrong-cluster' | 'wrong-node' | 'unknown-peer' | 'bad-proof' | 'malformed-frame';
const REFUSE_REASONS: readonly RefuseReason[] = ['version-mismatch', 'wrong-cluster', 'wrong-node', 'unknown-peer', 'bad-proof', 'malformed-frame'];

export interface Refuse {
  readonly reason: RefuseReason;
}

export function checkClusterName(cluster: string): void {
  if (!CLUSTER_NAME_PATTERN.test(cluster)) {
    throw new Error(`cluster name must be 1 to 64 letters, digits, '.', '_' or '-', got ${JSON.stringify(cluster)}`);
  }
}

export function createNonce(): string {
  return randomBytes(32).toString('hex');
}

// ---- Frame payloads ---------------------------------------------------------------------------------------

/** A whole frame: the length, the kind byte, then `body`. Throws a FrameTooLargeError above `frameBytesMax`. */
export function encodeKindFrame(kind: FrameKind, body: Uint8Array, frameBytesMax = FRAME_BYTES_MAX_DEFAULT): Buffer {
  const payloadBytes = 1 + body.byteLength;
  if (payloadBytes > frameBytesMax) throw new FrameTooLargeError(payloadBytes, frameBytesMax);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes);
  frame.writeUInt32BE(payloadBytes, 0);
  frame[FRAME_HEADER_BYTES] = kind;
  frame.set(body, FRAME_HEADER_BYTES + 1);
  return frame;
}

export function helloFrame(hello: Hello): Buffer {
  return encodeKindFrame(FrameKind.hello, Buffer.from(JSON.stringify(hello)));
}

export function welcomeFrame(welcome: Welcome): Buffer {
  return encodeKindFrame(FrameKind.welcome, Buffer.from(JSON.stringify(welcome)));
}

export function proofFrame(proof: Proof): Buffer {
  return encodeKindFrame(FrameKind.proof, Buffer.from(JSON.stringify(proof)));
}

export function refuseFrame(refuse: Refuse): Buffer {
  return encodeKindFrame(FrameKind.refuse, Buffer.from(JSON.stringify(refuse)));
}

export const KEEPALIVE_FRAME: Buffer = encodeKindFrame(FrameKind.keepalive, new Uint8Array(0));

/** Thrown for a handshake frame that is not what the protocol says; the connection closes as malformed. */
export class MalformedFrameError extends Error {
  override readonly name = 'MalformedFrameError';
}

export function parseHello(body: Buffer): Hello {
  const value = parseJsonObject(body, ['version', 'cluster', 'from', 'to', 'nonce']);
  return { version: readVersion(value), cluster: readString(value, 'cluster'), from: readNodeId(value, 'from'), to: readNodeId(value, 'to'), nonce: readNonce(value) };
}

export function parseWelcome(body: Buffer): Welcome {
  const value = parseJsonObject(body, ['version', 'cluster', 'from', 'to', 'nonce', 'proof']);
  return {
    version: readVersion(value),
    cluster: readString(value, 'cluster'),
    from: readNodeId(value, 'from'),
    to: readNodeId(value, 'to'),
    nonce: readNonce(value),
    proof: readProof(value),
  };
}

export function parseProof(body: Buffer): Proof {
  return { proof: readProof(parseJsonObject(body, ['proof'])) };
}

export function parseRefuse(body: Buffer): Refuse {
  const reason = readString(parseJsonObject(body, ['reason']), 'reason');
  if (!(REFUSE_REASONS as readonly string[]).includes(reason)) throw new MalformedFrameError(`refuse: unknown reason ${JSON.stringify(reason.slice(0, 40))}`);
  return { reason: reason as RefuseReason };
}

function parseJsonObject(body: Buffer, fields: readonly string[]): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new MalformedFrameError('handshake frame: expected JSON text');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedFrameError('handshake frame: expected a JSON object');
  const record = value as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    if (!fields.includes(name)) throw new MalformedFrameError(`handshake frame: unknown field ${JSON.stringify(name.slice(0, 40))}`);
  }
  return record;
}

function readVersion(value: Record<string, unknown>): number {
  const version = value['version'];
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) throw new MalformedFrameError('handshake frame: version: expected a positive integer');
  return version;
}

function readString(value: Record<string, unknown>, name: string): string {
  const text = value[name];
  if (typeof text !== 'string' || text.length > 256) throw new MalformedFrameError(`handshake frame: ${name}: expected a string of at most 256 characters`);
  return text;
}

function readNodeId(value: Record<string, unknown>, name: string): NodeId {
  const id = value[name];
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) throw new MalformedFrameError(`handshake frame: ${name}: expected a node id (a positive integer)`);
  return id;
}

function readNonce(value: Record<string, unknown>): string {
  const nonce = value['nonce'];
  if (typeof nonce !== 'string' || !NONCE_PATTERN.test(nonce)) throw new MalformedFrameError('handshake frame: nonce: expected 64 hexadecimal digits');
  return nonce;
}

function readProof(value: Record<string, unknown>): string {
  const proof = value['proof'];
  if (typeof proof !== 'string' || !PROOF_PATTERN.test(proof)) throw new MalformedFrameError('handshake frame: proof: expected 64 hexadecimal digits or nothing');
  return proof;
}

// ---- Proofs -----------------------------------------------------------------------------------------------

export type HandshakeRole = 'dialer' | 'listener';

/** Everything both sides know once hello and welcome have crossed. */
export interface HandshakeTranscript {
  readonly cluster: string;
  readonly dialer: NodeId;
  readonly listener: NodeId;
  readonly dialerNonce: string;
  readonly listenerNonce: string;
}

/** HMAC-SHA256(secret, transcript as seen by `role`), hex. JSON keeps the fields apart unambiguously. */
export function computeProof(secret: Uint8Array, role: HandshakeRole, transcript: HandshakeTranscript): string {
  const text = JSON.stringify([
    'raft-playground-peer',
    PROTOCOL_VERSION,
    role,
    transcript.dialerNonce,
    transcript.listenerNonce,
    transcript.cluster,
    transcript.dialer,
    transcript.listener,
  ]);
  return createHmac('sha256', secret).update(text).digest('hex');
}

/** Whether `proof` is what `role` must send for `transcript`: compared in constant time. */
export function proofMatches(secret: Uint8Array, role: HandshakeRole, transcript: HandshakeTranscript, proof: string): boolean {
  if (!NONCE_PATTERN.test(proof)) return false; // 32 bytes as hex, like a nonce
  return timingSafeEqual(Buffer.from(computeProof(secret, role, transcript), 'hex'), Buffer.from(proof, 'hex'));
}
