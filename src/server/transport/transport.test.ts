// Real TCP sockets on 127.0.0.1, free ports, short timers. Every transport and socket is closed after each test.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import type { Message, NodeId } from '../../core/types.ts';
import { FrameDecoder } from './frame.ts';
import { encodeMessage } from './message-codec.ts';
import { FrameKind, PROTOCOL_VERSION, computeProof, createNonce, encodeKindFrame, helloFrame, parseWelcome, proofFrame } from './protocol.ts';
import type { CloseReason } from './transport-metrics.ts';
import { Transport, type LogLevel, type PeerAddress, type TransportOptions } from './transport.ts';

interface LogRecord {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

interface TestNode {
  readonly transport: Transport;
  readonly address: PeerAddress;
  readonly received: Message[];
  readonly logs: LogRecord[];
}

const LOCALHOST = '127.0.0.1';
const transports: Transport[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(transports.splice(0).map((transport) => transport.stop()));
});

async function startNode(id: NodeId, options: Partial<TransportOptions> = {}): Promise<TestNode> {
  const received: Message[] = [];
  const logs: LogRecord[] = [];
  const transport = new Transport({
    id,
    cluster: 'lab',
    listen: { host: LOCALHOST, port: 0 },
    onMessage: (message) => received.push(message),
    log: (level, message, fields) => logs.push({ level, message, fields }),
    connectTimeoutMs: 500,
    handshakeTimeoutMs: 300,
    keepaliveIntervalMs: 100,
    silenceTimeoutMs: 400,
    reconnectDelayMsMin: 10,
    reconnectDelayMsMax: 100,
    ...options,
  });
  transports.push(transport);
  const address = await transport.start();
  return { transport, address, received, logs };
}

/** Two nodes that know each other's address. */
async function startPair(options: Partial<TransportOptions> = {}): Promise<[TestNode, TestNode]> {
  const one = await startNode(1, options);
  const two = await startNode(2, options);
  one.transport.setPeer(2, two.address);
  two.transport.setPeer(1, one.address);
  return [one, two];
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function heartbeat(from: NodeId, to: NodeId, round: number): Message {
  return { type: 'Heartbeat', from, to, term: 1, leaderCommit: 0, round };
}

/** Sends heartbeats (Raft retries, so the first ones may be dropped while the link comes up) until one arrives. */
async function expectDelivery(from: TestNode, to: TestNode, toId: NodeId): Promise<void> {
  const fromId = from.transport.id;
  let round = 1_000_000 * fromId;
  const arrived = (): boolean => to.received.some((message) => message.from === fromId && message.type === 'Heartbeat' && message.round > 1_000_000 * fromId);
  await waitFor(() => {
    from.transport.send(heartbeat(fromId, toId, ++round));
    return arrived();
  }, `a message from S${fromId} to S${toId}`);
}

/** The node keeps serving: a correct peer (S1) can still reach it. */
async function expectStillServing(node: TestNode, options: Partial<TransportOptions> = {}): Promise<void> {
  const peer = await startNode(1, options);
  peer.transport.setPeer(2, node.address);
  node.transport.setPeer(1, peer.address);
  await expectDelivery(peer, node, 2);
}

function closedFor(node: TestNode, reason: CloseReason): LogRecord[] {
  return node.logs.filter((record) => record.fields['reason'] === reason && record.message.startsWith('closed the connection'));
}

async function rawConnect(address: PeerAddress): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect({ host: address.host, port: address.port });
  sockets.push(socket);
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, closed };
}

/** Runs the dialer's side of the handshake by hand, as S`from` towards S2, and returns the open socket. */
async function rawHandshake(address: PeerAddress, from: NodeId, secret: string | null = null): Promise<{ socket: Socket; closed: Promise<void> }> {
  const raw = await rawConnect(address);
  const dialerNonce = createNonce();
  raw.socket.write(helloFrame({ version: PROTOCOL_VERSION, cluster: 'lab', from, to: 2, nonce: dialerNonce }));
  const decoder = new FrameDecoder();
  const payload = await new Promise<Buffer>((resolve) => {
    raw.socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      const frame = decoder.next();
      if (frame !== null) resolve(frame);
    });
  });
  expect(payload[0]).toBe(FrameKind.welcome);
  const welcome = parseWelcome(payload.subarray(1));
  const transcript = { cluster: 'lab', dialer: from, listener: 2, dialerNonce, listenerNonce: welcome.nonce };
  raw.socket.write(proofFrame({ proof: secret === null ? '' : computeProof(Buffer.from(secret), 'dialer', transcript) }));
  return raw;
}

describe('peer transport over TCP', () => {
  test('two transports exchange messages both ways, with every field intact', async () => {
    const [one, two] = await startPair();
    const append: Message = {
      type: 'AppendEntries',
      from: 1,
      to: 2,
      term: 1,
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries: [{ index: 1, term: 1, type: 'command', data: JSON.stringify({ command: { op: 'put', key: 'x', value: 'y'.repeat(300) } }) }],
      leaderCommit: 0,
    };
    await expectDelivery(one, two, 2);
    await expectDelivery(two, one, 1);
    one.transport.send(append);
    await waitFor(() => two.received.some((message) => message.type === 'AppendEntries'), 'the AppendEntries');
    expect(two.received.find((message) => message.type === 'AppendEntries')).toEqual(append);
    expect(one.transport.peers()).toEqual([{ id: 2, address: two.address, outbound: 'open', inbound: true, queuedMessages: 0 }]);
    expect(one.transport.metrics.messagesSent).toBeGreaterThanOrEqual(2);
    expect(two.transport.metrics.messagesReceived).toBe(two.received.length);
  });

  test('many messages in a burst all arrive, in order', async () => {
    const [one, two] = await startPair();
    await expectDelivery(one, two, 2);
    for (let round = 1; round <= 500; round++) one.transport.send(heartbeat(1, 2, round));
    const burst = (): number[] => two.received.map((message) => (message as Extract<Message, { type: 'Heartbeat' }>).round).filter((round) => round <= 500);
    await waitFor(() => burst().length === 500, '500 heartbeats');
    expect(burst()).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
  });

  test('a restarted peer is reached again: the sender reconnects with backoff and delivery resumes', async () => {
    const [one, two] = await startPair();
    await expectDelivery(one, two, 2);
    await two.transport.stop();
    await waitFor(() => one.transport.peers()[0]!.outbound === 'backoff', 'the link to go down');
    one.transport.send(heartbeat(1, 2, 1));
    expect(one.transport.metrics.messagesDroppedByReason.disconnected).toBeGreaterThanOrEqual(1);
    const dialedWhileDown = one.transport.metrics.connectionsDialed;
    // Let a few attempts fail against the closed port before the peer comes back on it.
    await waitFor(() => one.transport.metrics.connectionsDialed >= dialedWhileDown + 2, 'reconnection attempts');
    const restarted = await startNode(2, { listen: two.address });
    restarted.transport.setPeer(1, one.address);
    await expectDelivery(one, restarted, 2);
    await expectDelivery(restarted, one, 1);
    expect(one.logs.some((record) => record.message.startsWith('lost S2'))).toBe(true);
    expect(one.logs.some((record) => record.message.startsWith('reached S2') && record.message.endsWith('again'))).toBe(true);
  });

  test('an idle link stays up: keepalives keep the silence timeout from firing', async () => {
    const [one, two] = await startPair({ keepaliveIntervalMs: 50, silenceTimeoutMs: 400 });
    await expectDelivery(one, two, 2);
    await expectDelivery(two, one, 1);
    const dialed = one.transport.metrics.connectionsDialed;
    await new Promise((resolve) => setTimeout(resolve, 1000)); // more than twice the silence timeout
    expect(one.transport.metrics.connectionsClosedByReason['silence-timeout']).toBe(0);
    expect(two.transport.metrics.connectionsClosedByReason['silence-timeout']).toBe(0);
    expect(one.transport.metrics.connectionsDialed).toBe(dialed);
  });

  test('with the same secret on both sides the handshake succeeds', async () => {
    const [one, two] = await startPair({ secret: 'correct horse battery staple' });
    await expectDelivery(one, two, 2);
    await expectDelivery(two, one, 1);
    expect(two.transport.metrics.handshakesCompleted).toBeGreaterThanOrEqual(2);
  });
});

describe('handshake rejections: the connection closes with a logged reason and the node keeps serving', () => {
  test('a wrong secret', async () => {
    const secret = 'correct horse battery staple';
    const two = await startNode(2, { secret, peers: new Map([[1, { host: LOCALHOST, port: 1 }]]) });
    const impostor = await startNode(1, { secret: 'wrong', peers: new Map([[2, two.address]]) });
    await waitFor(() => closedFor(impostor, 'bad-proof').length > 0 && closedFor(two, 'refused-by-peer').length > 0, 'the rejection');
    expect(closedFor(impostor, 'bad-proof')[0]!.level).toBe('warn');
    await impostor.transport.stop();
    // A dialer that sends no proof, or a wrong one, without checking the listener's: the listener refuses it.
    await (await rawHandshake(two.address, 1, null)).closed;
    await (await rawHandshake(two.address, 1, 'wrong')).closed;
    expect(closedFor(two, 'bad-proof').map((record) => record.fields['detail'])).toEqual([
      expect.stringMatching(/sent no proof of the shared secret/),
      expect.stringMatching(/the proof of the shared secret is wrong/),
    ]);
    expect(JSON.stringify(two.logs)).not.toContain(secret);
    expect(two.received).toEqual([]);
    await expectStillServing(two, { secret });
  });

  test('a wrong cluster name', async () => {
    const two = await startNode(2, { peers: new Map([[1, { host: LOCALHOST, port: 1 }]]) });
    const stranger = await startNode(1, { cluster: 'prod', peers: new Map([[2, two.address]]) });
    await waitFor(() => closedFor(two, 'wrong-cluster').length > 0, 'the rejection');
    expect(closedFor(two, 'wrong-cluster')[0]!.message).toMatch(/cluster "prod", this node in "lab"/);
    await waitFor(() => closedFor(stranger, 'refused-by-peer').length > 0, 'the dialer to hear why');
    await stranger.transport.stop();
    await expectStillServing(two);
  });

  test('an unknown node id, and a node that dials the wrong node', async () => {
    const two = await startNode(2, { peers: new Map([[1, { host: LOCALHOST, port: 1 }]]) });
    const unknown = await startNode(9, { peers: new Map([[2, two.address]]) });
    await waitFor(() => closedFor(two, 'unknown-peer').length > 0, 'the unknown peer to be refused');
    await unknown.transport.stop();
    // S1 believes S3 listens at S2's address: S2 is not the node it wants.
    const confused = await startNode(1, { peers: new Map([[3, two.address]]) });
    await waitFor(() => closedFor(two, 'wrong-node').length > 0, 'the misaddressed peer to be refused');
    await confused.transport.stop();
    expect(two.received).toEqual([]);
    await expectStillServing(two);
  });
});

describe('hostile or broken connections are closed with a logged reason; valid peers are still served', () => {
  test('random bytes', async () => {
    const two = await startNode(2);
    const raw = await rawConnect(two.address);
    raw.socket.write(randomBytes(1024));
    await raw.closed;
    await waitFor(() => two.logs.some((record) => record.level === 'warn' && record.message.startsWith('closed the connection from')), 'the log line');
    await expectStillServing(two);
  });

  test('an oversized length prefix, before and after the handshake', async () => {
    const two = await startNode(2, { frameBytesMax: 64 * 1024, peers: new Map([[1, { host: LOCALHOST, port: 1 }]]) });
    // Before the handshake a peer is unknown: 4 KiB is all it may send in one frame.
    const early = await rawConnect(two.address);
    early.socket.write(Buffer.from([0, 0, 0x20, 0]));
    await early.closed;
    expect(closedFor(two, 'frame-too-large')[0]!.message).toMatch(/8192 bytes, above the limit of 4096/);
    const late = await rawHandshake(two.address, 1);
    late.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await late.closed;
    expect(closedFor(two, 'frame-too-large')[1]!.message).toMatch(/4294967295 bytes, above the limit of 65536/);
    await expectStillServing(two);
  });

  test('a half-open connection that never sends is closed by the handshake timeout', async () => {
    const two = await startNode(2);
    const raw = await rawConnect(two.address);
    await raw.closed;
    expect(closedFor(two, 'handshake-timeout')).toHaveLength(1);
    await expectStillServing(two);
  });

  test('a peer that completes the handshake and then falls silent is closed by the silence timeout', async () => {
    const two = await startNode(2, { peers: new Map([[1, { host: LOCALHOST, port: 1 }]]) });
    const raw = await rawHandshake(two.address, 1);
    await raw.closed;
    expect(closedFor(two, 'silence-timeout')).toHaveLength(1);
    await expectStillServing(two);
  });

  test('malformed message frames: bytes that do not decode, an invalid message, a message from another node', async () => {
    const secret = 'shared';
    const two = await startNode(2, { secret, peers: new Map([[1, { host: LOCALHOST, port: 1 }]]) });
    const frames = [
      encodeKindFrame(FrameKind.message, Buffer.from([0x92, 0x01])), // an array of two that ends after one
      encodeKindFrame(FrameKind.message, encodeMessage({ type: 'Heartbeat', from: 1, to: 2, term: -1 } as unknown as Message)),
      encodeKindFrame(FrameKind.message, encodeMessage(heartbeat(3, 2, 1))),
      encodeKindFrame(FrameKind.message, encodeMessage(heartbeat(1, 3, 1))),
      encodeKindFrame(FrameKind.welcome, Buffer.from('{}')),
      encodeKindFrame(99 as FrameKind, Buffer.alloc(0)),
    ];
    for (const frame of frames) {
      const raw = await rawHandshake(two.address, 1, secret);
      // A valid message first: the connection works until the bad frame.
      raw.socket.write(encodeKindFrame(FrameKind.message, encodeMessage(heartbeat(1, 2, 7))));
      raw.socket.write(frame);
      await raw.closed;
    }
    const problems = two.logs.filter((record) => record.level === 'warn').map((record) => `${String(record.fields['reason'])}: ${String(record.fields['detail'])}`);
    expect(problems).toEqual([
      expect.stringMatching(/^malformed-message: a message frame does not decode/),
      expect.stringMatching(/^malformed-message: term: expected a non-negative integer, got -1/),
      expect.stringMatching(/^malformed-message: a Heartbeat from S3 on S1's connection/),
      expect.stringMatching(/^malformed-message: a Heartbeat for S3 arrived at S2/),
      expect.stringMatching(/^unexpected-frame: a frame of kind 2 while open as listener/),
      expect.stringMatching(/^malformed-frame: unknown frame kind 99/),
    ]);
    expect(two.received).toHaveLength(frames.length);
    await expectStillServing(two, { secret });
  });

  test('a message handler that throws is logged; the connection stays up', async () => {
    let calls = 0;
    const one = await startNode(1);
    const throwing = await startNode(3, {
      onMessage: () => {
        calls++;
        throw new Error('boom');
      },
      peers: new Map([[1, one.address]]),
    });
    one.transport.setPeer(3, throwing.address);
    await waitFor(() => {
      one.transport.send(heartbeat(1, 3, calls + 1));
      return calls >= 2;
    }, 'two messages to the throwing handler');
    expect(throwing.logs.some((record) => record.level === 'error' && record.message.includes('boom'))).toBe(true);
    expect(throwing.transport.metrics.connectionsClosedByReason['socket-error']).toBe(0);
  });
});

describe('sending', () => {
  test('messages to an unknown peer or a peer that is down are dropped and counted, never thrown', async () => {
    const one = await startNode(1, { peers: new Map([[2, { host: LOCALHOST, port: 1 }]]) });
    one.transport.send(heartbeat(1, 7, 1));
    expect(one.transport.metrics.messagesDroppedByReason['unknown-peer']).toBe(1);
    await waitFor(() => one.transport.peers()[0]!.outbound === 'backoff', 'the first attempt to fail');
    one.transport.send(heartbeat(1, 2, 1));
    expect(one.transport.metrics.messagesDroppedByReason.disconnected).toBe(1);
    expect(one.transport.metrics.messagesDropped).toBe(2);
    expect(() => one.transport.send(heartbeat(2, 1, 1))).toThrow(/asked to send a Heartbeat from S2/);
  });

  test('while a link is being set up, a bounded queue holds messages and drops the newest when full', async () => {
    const [one, two] = await startPair({ outboundQueueMessagesMax: 3 });
    // S1's link to S2 is connecting right after setPeer; nothing is sent yet.
    expect(one.transport.peers()[0]!.outbound).toBe('connecting');
    for (let round = 1; round <= 5; round++) one.transport.send(heartbeat(1, 2, round));
    expect(one.transport.metrics.messagesDroppedByReason['queue-full']).toBe(2);
    await waitFor(() => two.received.length === 3, 'the queued messages');
    expect(two.received.map((message) => (message as Extract<Message, { type: 'Heartbeat' }>).round)).toEqual([1, 2, 3]);
  });

  test('a message larger than the frame limit is dropped with a warning', async () => {
    const [one, two] = await startPair({ frameBytesMax: 1024 });
    await expectDelivery(one, two, 2);
    one.transport.send({ type: 'InstallSnapshot', from: 1, to: 2, term: 1, lastIncludedIndex: 5, lastIncludedTerm: 1, config: { voters: [1, 2], learners: [] }, offset: 0, data: 'x'.repeat(2000), done: true });
    expect(one.transport.metrics.messagesDroppedByReason['too-large']).toBe(1);
    expect(one.logs.some((record) => record.level === 'warn' && record.message.includes('above the limit of 1024'))).toBe(true);
  });
});
