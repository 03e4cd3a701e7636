// Log compaction and InstallSnapshot (§7, Figure 13), after the MIT 6.5840 lab 3D tests, rewritten for this
// simulator: everything runs in virtual milliseconds and is a function of the seed, so a bound on time or on
// log size is a statement about the protocol, not about the machine's speed. Every test ends by asserting
// that the safety checker, which runs after every simulated event, found nothing.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RAFT_OPTIONS, RaftNode, type Ready, type StoredState } from '../core/raft-node.ts';
import type { Random } from '../core/random.ts';
import type { ClusterConfig, Entry, InstallSnapshot, InstallSnapshotResponse, NodeId, Snapshot } from '../core/types.ts';
import { ReplicatedService } from '../machines/replicated-service.ts';
import { runLivenessPhase } from './liveness.ts';
import { DEFAULT_SIM_CONFIG } from './scenario.ts';
import { awaitLeader, expectNoViolations, ids, put, raft, status, upIds, waitFor } from './test-cluster.ts';
import { Simulation } from './simulation.ts';
import { MemoryStorage } from './storage.ts';
import type { TraceEvent, TraceListener } from './trace.ts';

// ---- Helpers ------------------------------------------------------------------------------------------------

const ELECTION_MAX_MS = DEFAULT_SIM_CONFIG.electionTimeoutMs[1]; // 300
const LATENCY_MAX_MS = DEFAULT_SIM_CONFIG.latencyMs[1]; // 15
const HEARTBEAT_MS = DEFAULT_SIM_CONFIG.heartbeatMs; // 50

/**
 * Settling on a leader with the default timings: one election timeout (300 ms), possibly one split vote and a
 * second timeout (300 ms), a round of votes and the first append (3 × 15 ms), the answers that commit the
 * leader's no-op (15 ms; a settled leader has committed an entry of its term), and a margin (see lab.test.ts).
 */
const ELECTION_BOUND_MS = 2 * ELECTION_MAX_MS + 4 * LATENCY_MAX_MS + 55;

/** Run `forMs` of virtual time, calling `onEvent` after every event. */
function runFor(sim: Simulation, forMs: number, onEvent: () => void): void {
  sim.runUntil(sim.now + forMs, () => {
    onEvent();
    return false;
  });
}

/**
 * Put every pair through the leader and wait until each node of `on` has applied all of them. Pairs not yet
 * applied are submitted again every second (a put of a fixed key and value is idempotent), so a leader
 * change along the way costs time, not correctness.
 */
function putAll(
  sim: Simulation,
  pairs: readonly (readonly [string, string])[],
  on: readonly NodeId[],
  options: { readonly limitMs?: number; readonly onEvent?: () => void } = {},
): void {
  const done = () => pairs.every(([k, v]) => on.every((id) => sim.node(id).machine.get(k) === v));
  const deadline = sim.now + (options.limitMs ?? 10_000);
  while (!done()) {
    if (sim.now >= deadline) throw new Error(`puts not applied on ${on.map((id) => `S${id}`).join(', ')}\n${status(sim)}`);
    const leader = sim.leader();
    if (leader !== null) {
      for (const [k, v] of pairs) if (sim.node(leader).machine.get(k) !== v) sim.submit(leader, 'put', put(k, v));
    }
    waitFor(sim, done, 1000, options.onEvent);
  }
}

/** `count` distinct puts k{from}..k{from+count-1}, each value padded to `valueBytes` so snapshots grow. */
function pairs(from: number, count: number, valueBytes = 8): [string, string][] {
  const result: [string, string][] = [];
  for (let i = from; i < from + count; i++) result.push([`k${i}`, `${i}:`.padEnd(valueBytes, 'v')]);
  return result;
}

/** Put `pairs` in waves of `wave` concurrent puts, each wave applied on `on` before the next. */
function putInWaves(sim: Simulation, all: readonly (readonly [string, string])[], wave: number, on: readonly NodeId[], onEvent?: () => void): void {
  for (let i = 0; i < all.length; i += wave) putAll(sim, all.slice(i, i + wave), on, onEvent ? { onEvent } : {});
}

/** Every node of `on` holds every pair. */
function expectAllOn(sim: Simulation, all: readonly (readonly [string, string])[], on: readonly NodeId[]): void {
  for (const id of on) {
    const machine = sim.node(id).machine;
    const missing = all.filter(([k, v]) => machine.get(k) !== v).map(([k]) => k);
    expect(missing, `S${id} lacks puts\n${status(sim)}`).toEqual([]);
  }
}

function converge(sim: Simulation): void {
  const outcome = runLivenessPhase(sim);
  expect(outcome.problem, `not converged\n${status(sim)}`).toBeNull();
  expect(outcome.converged).toBe(true);
}

/** The state a snapshot's data describes, as the machine's sorted entries. */
function snapshotContents(snapshot: Snapshot): [string, string][] {
  const machine = new ReplicatedService();
  machine.restore(snapshot.data);
  return machine.entries();
}

type SendEvent = Extract<TraceEvent, { type: 'send' }>;
type SnapshotEvent = Extract<TraceEvent, { type: 'snapshot' }>;

/** Records the whole trace (runs here are short enough to keep it). */
function recordAll(into: TraceEvent[]): TraceListener {
  return (e) => {
    into.push(e);
  };
}

function chunksTo(trace: readonly TraceEvent[], to: NodeId, sinceMs = -1): (SendEvent & { message: InstallSnapshot })[] {
  return trace.filter(
    (e): e is SendEvent & { message: InstallSnapshot } => e.type === 'send' && e.t >= sinceMs && e.message.type === 'InstallSnapshot' && e.message.to === to,
  );
}

function snapshotAnswersFrom(trace: readonly TraceEvent[], from: NodeId, sinceMs = -1): (SendEvent & { message: InstallSnapshotResponse })[] {
  return trace.filter(
    (e): e is SendEvent & { message: InstallSnapshotResponse } =>
      e.type === 'send' && e.t >= sinceMs && e.message.type === 'InstallSnapshotResponse' && e.message.from === from,
  );
}

function snapshotEvents(trace: readonly TraceEvent[], node: NodeId, phase: 'taken' | 'installed', sinceMs = -1): SnapshotEvent[] {
  return trace.filter((e): e is SnapshotEvent => e.type === 'snapshot' && e.node === node && e.phase === phase && e.t >= sinceMs);
}

/** InstallSnapshot chunks delivered to `to` (the trace's deliver events carry no body: match them by id). */
function deliveredChunks(trace: readonly TraceEvent[], to: NodeId, sinceMs = -1): number {
  return trace.filter((e) => e.type === 'deliver' && e.node === to && e.messageType === 'InstallSnapshot' && e.t >= sinceMs).length;
}

/**
 * Right after a (re)start, before any message arrives: the node's log begins at its stored snapshot and its
 * state machine already holds exactly the snapshot's contents.
 */
function expectStartsFromSnapshot(sim: Simulation, id: NodeId): void {
  const stored = sim.node(id).storage.snapshot;
  expect(stored, `S${id} has a stored snapshot`).not.toBeNull();
  const r = raft(sim, id);
  expect(r.log.snapshotIndex, `S${id}'s log starts at its snapshot`).toBe(stored!.index);
  expect(r.log.snapshotTerm).toBe(stored!.term);
  expect(r.lastApplied).toBe(stored!.index);
  expect(r.commit).toBe(stored!.index);
  expect(sim.node(id).machine.entries(), `S${id}'s machine right after restart`).toEqual(snapshotContents(stored!));
}

// ---- Basic compaction ---------------------------------------------------------------------------------------

describe('3D snapshots: compaction', () => {
  it('basic: with snapshotEveryEntries = 10, 300 puts keep every persisted log short; every node takes snapshots; all machines agree', () => {
    const THRESHOLD = 10;
    const WAVE = 5;
    const trace: TraceEvent[] = [];
    const sim = new Simulation({ seed: 301, nodes: 3, config: { snapshotEveryEntries: THRESHOLD }, onTrace: recordAll(trace) });
    const all = ids(sim);
    awaitLeader(sim, all, ELECTION_BOUND_MS);

    // A node compacts as soon as THRESHOLD applied entries follow its snapshot, so what it stores is fewer
    // than THRESHOLD applied entries plus those not applied yet: at most one wave and the leader's no-op.
    // Twice the threshold bounds that; sampled after every single event of the run, on every node.
    let maxStored = 0;
    const sample = () => {
      for (const n of sim.nodes) maxStored = Math.max(maxStored, n.storage.entries.length);
    };
    const puts = pairs(0, 300);
    putInWaves(sim, puts, WAVE, all, sample);
    runFor(sim, 500, sample);

    expect(maxStored, status(sim)).toBeLessThan(2 * THRESHOLD);
    expect(maxStored).toBeGreaterThanOrEqual(WAVE); // the sampling did see the log grow between snapshots
    for (const id of all) {
      const taken = snapshotEvents(trace, id, 'taken');
      // 300 puts and a no-op, compacted every 10 applied entries: 30 snapshots on each node.
      expect(taken.length, `S${id}'s snapshots`).toBeGreaterThanOrEqual(30);
      const indexes = taken.map((e) => e.index);
      expect(indexes, `S${id}'s snapshot indexes increase`).toEqual([...indexes].sort((a, b) => a - b));
      expect(new Set(indexes).size).toBe(indexes.length);
      const r = raft(sim, id);
      const stored = sim.node(id).storage.snapshot!;
      expect(stored.index).toBe(r.log.snapshotIndex);
      expect(stored.index).toBe(indexes[indexes.length - 1]);
      expect(r.log.lastIndex() - r.log.snapshotIndex).toBeLessThan(THRESHOLD);
      expect(r.log.termAt(1)).toBeUndefined(); // the head of the log is really gone
    }
    const hash = sim.node(all[0]!).machine.hash();
    for (const id of all) expect(sim.node(id).machine.hash(), `S${id}'s machine`).toBe(hash);
    expectAllOn(sim, puts, all);
    expectNoViolations(sim);
  });
});

// ---- InstallSnapshot ----------------------------------------------------------------------------------------

describe('3D snapshots: InstallSnapshot', () => {
  it('install to a lagging follower: chunks with increasing offsets and one done, installed, then the entries after it; its machine equals the leader\'s', () => {
    const CHUNK = 64;
    const trace: TraceEvent[] = [];
    // A fixed latency keeps every link first-in first-out, so no chunk overtakes another and none needs to be
    // sent again: the transfer is the plain sequence of Figure 13. (With random delays a later chunk can
    // arrive first; the follower then asks for the missing one again. The lossy test below covers that.)
    const sim = new Simulation({
      seed: 302,
      nodes: 3,
      config: { snapshotEveryEntries: 10, latencyMs: [10, 10], snapshotChunkBytes: CHUNK },
      tuning: { snapshotChunksInflightMax: 2 },
      onTrace: recordAll(trace),
    });
    const all = ids(sim);
    const leader = awaitLeader(sim, all, ELECTION_BOUND_MS);
    const [lagging, other] = all.filter((id) => id !== leader) as [NodeId, NodeId];

    // The follower takes a snapshot of its own, then crashes.
    const early = pairs(0, 15);
    putAll(sim, early, all);
    const oldSnapshot = sim.node(lagging).storage.snapshot;
    expect(oldSnapshot, status(sim)).not.toBeNull();
    sim.crash(lagging);
    const crashedAt = sim.now;

    // Well past several snapshots without it.
    const late = pairs(15, 80, 16);
    putInWaves(sim, late, 5, [leader, other]);
    expect(snapshotEvents(trace, leader, 'taken', crashedAt).length).toBeGreaterThanOrEqual(5);
    expect(raft(sim, leader).log.snapshotIndex).toBeGreaterThan(sim.node(lagging).storage.lastIndex());
    sim.runUntil(sim.now + 200);

    const restartedAt = sim.now;
    sim.restart(lagging);
    expectStartsFromSnapshot(sim, lagging);
    expect(waitFor(sim, () => snapshotEvents(trace, lagging, 'installed', restartedAt).length > 0, 2000), status(sim)).toBe(true);
    const installedAt = sim.now;
    const [installed] = snapshotEvents(trace, lagging, 'installed', restartedAt);

    // Then a few more puts; the follower must apply them through ordinary appends after the snapshot.
    const after = pairs(95, 3);
    putAll(sim, after, all);
    expect(waitFor(sim, () => raft(sim, lagging).log.lastIndex() === raft(sim, leader).log.lastIndex(), 1000)).toBe(true);

    // One transfer (the network is reliable and no new snapshot was taken meanwhile), made of several chunks
    // that go in order: each starts where the previous ended, and only the last says done.
    const chunks = chunksTo(trace, lagging, restartedAt);
    const transfers = new Set(chunks.map((c) => c.message.lastIncludedIndex));
    expect([...transfers]).toEqual([installed!.index]);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    let offset = 0;
    for (const [i, chunk] of chunks.entries()) {
      expect(chunk.message.from).toBe(leader);
      expect(chunk.message.offset, `chunk ${i}`).toBe(offset);
      expect(chunk.message.data.length).toBeLessThanOrEqual(CHUNK);
      expect(chunk.message.done, `chunk ${i} of ${chunks.length}`).toBe(i === chunks.length - 1);
      offset += chunk.message.data.length;
    }
    expect(chunks.filter((c) => c.message.done)).toHaveLength(1);
    // The pieces make up the leader's snapshot, which the follower now holds.
    const data = chunks.map((c) => c.message.data).join('');
    const stored = sim.node(lagging).storage.snapshot!;
    expect(stored.index).toBe(installed!.index);
    expect(stored.data).toBe(data);
    expect(installed!.index).toBeGreaterThan(oldSnapshot!.index);

    // After the install, ordinary appends carried the entries after the snapshot.
    const appendsAfter = trace.filter(
      (e) =>
        e.type === 'send' &&
        e.t >= installedAt &&
        e.message.type === 'AppendEntries' &&
        e.message.to === lagging &&
        e.message.entries.length > 0 &&
        e.message.prevLogIndex >= installed!.index,
    );
    expect(appendsAfter.length).toBeGreaterThan(0);
    expect(raft(sim, lagging).log.snapshotIndex).toBeGreaterThanOrEqual(installed!.index);
    expect(raft(sim, lagging).lastApplied).toBe(raft(sim, leader).lastApplied);
    expect(sim.node(lagging).machine.hash()).toBe(sim.node(leader).machine.hash());
    expectAllOn(sim, [...early, ...late, ...after], all);
    expectNoViolations(sim);
  });

  it('a lagging follower catches up while clients keep writing, even when a transfer outlasts the interval between snapshots (default chunking)', () => {
    // 100 keys of 1000-byte values make a ~100 KB snapshot: 100 chunks of the default 1024 bytes, 4 in
    // flight per round trip of at most 30 ms, so about 25 round trips (0.75 s) to send. Clients write 200
    // puts a second and every node compacts every 64 entries, so the leader takes a new snapshot every
    // ~320 ms, while a transfer is still under way. The follower must still get one snapshot through.
    const trace: TraceEvent[] = [];
    const sim = new Simulation({ seed: 311, nodes: 3, config: { snapshotEveryEntries: 64 }, onTrace: recordAll(trace) });
    const all = ids(sim);
    const leader = awaitLeader(sim, all, ELECTION_BOUND_MS);
    const lagging = all.find((id) => id !== leader)!;
    let n = 0;
    let writing = true;
    const write = (): void => {
      if (!writing) return;
      const target = sim.leader();
      if (target !== null) sim.submit(target, 'put', put(`k${n % 100}`, `${n}:`.padEnd(1000, 'x')));
      n++;
      sim.at(sim.now + 5, write);
    };
    sim.crash(lagging);
    write();
    sim.runUntil(sim.now + 2000);
    expect(sim.node(leader).storage.snapshot!.data.length).toBeGreaterThan(100_000);
    const restartedAt = sim.now;
    sim.restart(lagging);

    // Five seconds is more than six times what one transfer needs.
    const installed = waitFor(sim, () => snapshotEvents(trace, lagging, 'installed', restartedAt).length > 0, 5000);
    const transfers = new Map<number, number>();
    for (const c of chunksTo(trace, lagging, restartedAt)) {
      transfers.set(c.message.lastIncludedIndex, Math.max(transfers.get(c.message.lastIncludedIndex) ?? 0, c.message.offset + c.message.data.length));
    }
    const summary = [...transfers].map(([index, bytes]) => `snapshot ${index}: ${bytes} bytes sent`).join('; ');
    expect(installed, `S${lagging} installed no snapshot in 5 s of load; transfers begun: ${summary}\n${status(sim)}`).toBe(true);
    writing = false;
    converge(sim);
    expect(sim.node(lagging).machine.hash()).toBe(sim.node(leader).machine.hash());
    expectNoViolations(sim);
  });

  it('over a lossy, duplicating, reordering network: lost chunks are resent, every install completes, the cluster converges', () => {
    for (const seed of [303, 304, 305]) {
      const trace: TraceEvent[] = [];
      const sim = new Simulation({
        seed,
        nodes: 5,
        config: { snapshotEveryEntries: 8, lossRatio: 0.1, duplicateRatio: 0.1, latencyMs: [1, 40], snapshotChunkBytes: 32 },
        tuning: { snapshotChunksInflightMax: 3 },
        onTrace: recordAll(trace),
      });
      const all = ids(sim);
      // A lossy network may need a few rounds to elect.
      expect(waitFor(sim, () => sim.leader() !== null, 5000), status(sim)).toBe(true);
      const leader = sim.leader()!;
      const laggards = all.filter((id) => id !== leader).slice(0, 2);
      const majority = all.filter((id) => !laggards.includes(id));
      sim.network.partition([laggards], all);
      const partitionedAt = sim.now;

      const puts = pairs(0, 60, 12);
      putInWaves(sim, puts, 6, majority);
      sim.network.heal();
      const healedAt = sim.now;

      // Still lossy: each laggard must get a whole snapshot through.
      const installedOnBoth = () => laggards.every((id) => snapshotEvents(trace, id, 'installed', healedAt).length > 0);
      expect(waitFor(sim, installedOnBoth, 20_000), status(sim)).toBe(true);
      expect(sim.config.lossRatio).toBe(0.1);

      // Each completed transfer had chunks lost, yet every piece of the snapshot got through: the leader
      // sent lost chunks again. (A lost chunk may also be a needless resend of a piece already delivered.)
      const chunks = laggards.flatMap((id) => chunksTo(trace, id, partitionedAt));
      const lostIds = new Set(trace.flatMap((e) => (e.type === 'drop' && e.reason === 'loss' && e.messageType === 'InstallSnapshot' ? [e.id] : [])));
      const deliveredIds = new Set(trace.flatMap((e) => (e.type === 'deliver' && e.messageType === 'InstallSnapshot' ? [e.id] : [])));
      let resentAfterLoss = 0;
      for (const id of laggards) {
        for (const installed of snapshotEvents(trace, id, 'installed', healedAt)) {
          const transfer = chunks.filter((c) => c.message.to === id && c.message.lastIncludedIndex === installed.index);
          const last = transfer.find((c) => c.message.done)!;
          expect(last, `seed ${seed}: S${id}'s transfer of ${installed.index}`).toBeDefined();
          const delivered = new Set(transfer.filter((c) => deliveredIds.has(c.id)).map((c) => c.message.offset));
          for (let offset = 0; offset <= last.message.offset; offset += 32) {
            expect(delivered.has(offset), `seed ${seed}: S${id} received offset ${offset} of snapshot ${installed.index}`).toBe(true);
          }
          for (const lost of transfer.filter((c) => lostIds.has(c.id))) {
            if (transfer.some((c) => c.message.offset === lost.message.offset && c.t > lost.t && deliveredIds.has(c.id))) resentAfterLoss++;
          }
        }
      }
      expect(resentAfterLoss, `seed ${seed}: lost chunks sent again and delivered`).toBeGreaterThan(0);
      expect(chunks.some((c) => c.duplicate), `seed ${seed}: the network duplicated some chunk`).toBe(true);

      converge(sim);
      const hash = sim.node(leader).machine.hash();
      for (const id of all) expect(sim.node(id).machine.hash(), `seed ${seed}: S${id}'s machine`).toBe(hash);
      expectAllOn(sim, puts, all);
      expectNoViolations(sim);
    }
  });
});

// ---- Crashes during a transfer ------------------------------------------------------------------------------

describe('3D snapshots: crashes during a transfer', () => {
  /**
   * A three-node cluster where `lagging` took a snapshot of its own, was down while the others wrote well past
   * several snapshots with large values (the snapshot is then dozens of 32-byte chunks), and has just
   * restarted: the leader is about to send it a snapshot.
   */
  function laggingFollower(seed: number, trace: TraceEvent[]) {
    const sim = new Simulation({
      seed,
      nodes: 3,
      config: { snapshotEveryEntries: 10, snapshotChunkBytes: 32 },
      tuning: { snapshotChunksInflightMax: 2 },
      onTrace: recordAll(trace),
    });
    const all = ids(sim);
    const leader = awaitLeader(sim, all, ELECTION_BOUND_MS);
    const [lagging, other] = all.filter((id) => id !== leader) as [NodeId, NodeId];
    const early = pairs(0, 15);
    putAll(sim, early, all);
    const oldSnapshot = sim.node(lagging).storage.snapshot!;
    expect(oldSnapshot, status(sim)).not.toBeNull();
    sim.crash(lagging);
    const late = pairs(15, 60, 40);
    putInWaves(sim, late, 5, [leader, other]);
    sim.runUntil(sim.now + 200);
    const restartedAt = sim.now;
    sim.restart(lagging);
    expectStartsFromSnapshot(sim, lagging);
    return { sim, all, leader, lagging, other, oldSnapshot, puts: [...early, ...late], restartedAt };
  }

  /** Run until `to` has received `count` chunks since `sinceMs`, a small part of the snapshot being sent. */
  function untilMidTransfer(sim: Simulation, trace: TraceEvent[], to: NodeId, sinceMs: number, count: number): void {
    expect(waitFor(sim, () => deliveredChunks(trace, to, sinceMs) >= count, 2000), status(sim)).toBe(true);
    expect(snapshotEvents(trace, to, 'installed', sinceMs), 'still mid-transfer').toEqual([]);
    const [first] = chunksTo(trace, to, sinceMs);
    const sender = sim.node(first!.message.from).storage.snapshot!;
    expect(sender.index).toBe(first!.message.lastIncludedIndex);
    expect(sender.data.length, 'the snapshot is many times what was delivered').toBeGreaterThan(10 * count * 32);
  }

  it('the leader crashes in the middle of sending a snapshot: the follower keeps its old snapshot, the new leader completes a transfer, the cluster converges', () => {
    const trace: TraceEvent[] = [];
    const { sim, leader, lagging, other, oldSnapshot, puts, restartedAt } = laggingFollower(306, trace);
    untilMidTransfer(sim, trace, lagging, restartedAt, 4);
    expect(sim.node(lagging).storage.snapshot).toBe(oldSnapshot);
    expect(raft(sim, lagging).log.snapshotIndex).toBe(oldSnapshot.index);

    sim.crash(leader);
    const crashedAt = sim.now;
    expect(sim.node(lagging).storage.snapshot).toBe(oldSnapshot);
    // The other follower holds every entry, the lagging one cannot win against it (§5.4.1): it leads.
    // The new leader can commit its no-op only once the lagging follower has installed a snapshot from it.
    expect(waitFor(sim, () => snapshotEvents(trace, lagging, 'installed', crashedAt).length > 0, ELECTION_BOUND_MS + 3000), status(sim)).toBe(true);
    expect(awaitLeader(sim, [lagging, other], ELECTION_BOUND_MS)).toBe(other);
    expect(chunksTo(trace, lagging, crashedAt).every((c) => c.message.from === other)).toBe(true);
    const [installed] = snapshotEvents(trace, lagging, 'installed', crashedAt);
    expect(sim.node(lagging).storage.snapshot!.index).toBe(installed!.index);
    expect(installed!.index).toBeGreaterThan(oldSnapshot.index);

    converge(sim);
    const all = ids(sim);
    expectAllOn(sim, puts, all);
    const hash = sim.node(other).machine.hash();
    for (const id of all) expect(sim.node(id).machine.hash()).toBe(hash);
    expectNoViolations(sim);
  });

  it('the follower crashes in the middle of receiving a snapshot: its storage still holds its old snapshot, the partial chunks are gone, the transfer starts over and the cluster converges', () => {
    const trace: TraceEvent[] = [];
    const { sim, leader, lagging, oldSnapshot, puts, restartedAt } = laggingFollower(307, trace);
    const entriesBefore = sim.node(lagging).storage.entries.slice();
    untilMidTransfer(sim, trace, lagging, restartedAt, 4);
    const acknowledged = Math.max(...snapshotAnswersFrom(trace, lagging, restartedAt).map((a) => a.message.offset));
    expect(acknowledged, 'the follower acknowledged part of the snapshot').toBeGreaterThan(0);

    sim.crash(lagging);
    // What survives the crash is exactly what was stored before the transfer began.
    expect(sim.node(lagging).storage.snapshot).toBe(oldSnapshot);
    expect(sim.node(lagging).storage.entries).toEqual(entriesBefore);
    sim.runUntil(sim.now + 100);
    const secondRestartAt = sim.now;
    sim.restart(lagging);
    expectStartsFromSnapshot(sim, lagging);
    expect(raft(sim, lagging).log.snapshotIndex).toBe(oldSnapshot.index);

    expect(waitFor(sim, () => snapshotEvents(trace, lagging, 'installed', secondRestartAt).length > 0, 3000), status(sim)).toBe(true);
    // The leader did not notice the crash and resumes where the follower had acknowledged; the restarted
    // follower holds none of the partial snapshot, so it answers that it has nothing (offset 0), and the
    // transfer starts over from the beginning.
    const chunks = chunksTo(trace, lagging, secondRestartAt);
    const answers = snapshotAnswersFrom(trace, lagging, secondRestartAt);
    expect(chunks[0]!.message.offset).toBe(acknowledged);
    expect(answers[0]!.message, status(sim)).toMatchObject({ offset: 0, success: false, done: false });
    const restartFromZero = chunks.findIndex((c) => c.message.offset === 0);
    expect(restartFromZero).toBeGreaterThan(0);
    expect(chunks[restartFromZero]!.t).toBeGreaterThanOrEqual(answers[0]!.t);
    const [installed] = snapshotEvents(trace, lagging, 'installed', secondRestartAt);
    expect(sim.node(lagging).storage.snapshot!.index).toBe(installed!.index);
    expect(chunks.every((c) => c.message.from === leader)).toBe(true);

    converge(sim);
    const all = ids(sim);
    expectAllOn(sim, puts, all);
    expectNoViolations(sim);
  });
});

// ---- Persistence with snapshots -----------------------------------------------------------------------------

describe('3D snapshots: persistence', () => {
  it('every node crashes and restarts, all at once and one by one: each starts from its snapshot, committed data survives', () => {
    const trace: TraceEvent[] = [];
    const sim = new Simulation({ seed: 308, nodes: 3, config: { snapshotEveryEntries: 10 }, onTrace: recordAll(trace) });
    const all = ids(sim);
    awaitLeader(sim, all, ELECTION_BOUND_MS);
    const written: [string, string][] = [];
    const write = (count: number) => {
      const more = pairs(written.length, count);
      putInWaves(sim, more, 5, upIds(sim));
      written.push(...more);
    };
    write(35);

    // All at once.
    for (const id of all) expect(sim.node(id).storage.snapshot, status(sim)).not.toBeNull();
    for (const id of all) sim.crash(id);
    sim.runUntil(sim.now + 100);
    for (const id of all) {
      sim.restart(id);
      expectStartsFromSnapshot(sim, id);
      // The snapshot holds committed puts written long before the crash.
      expect(sim.node(id).machine.get('k0')).toBe(pairs(0, 1)[0]![1]);
    }
    write(12);
    expectAllOn(sim, written, all);

    // One by one, with puts between, and once more with the node staying down while the others write.
    for (const id of all) {
      sim.crash(id);
      sim.restart(id);
      expectStartsFromSnapshot(sim, id);
      write(12);
    }
    for (const id of all) {
      sim.crash(id);
      write(12);
      sim.restart(id);
      expectStartsFromSnapshot(sim, id);
      write(3);
    }
    expectAllOn(sim, written, all);
    for (const id of all) expect(snapshotEvents(trace, id, 'taken').length + snapshotEvents(trace, id, 'installed').length).toBeGreaterThan(5);
    converge(sim);
    expectAllOn(sim, written, all);
    expectNoViolations(sim);
  });

  it('restart from a snapshot alone: a node that stores a snapshot and no entries restarts, and is a correct follower the majority depends on', () => {
    const sim = new Simulation({ seed: 309, nodes: 3 });
    const all = ids(sim);
    const leader = awaitLeader(sim, all, ELECTION_BOUND_MS);
    const [follower, other] = all.filter((id) => id !== leader) as [NodeId, NodeId];
    const first = pairs(0, 10);
    putAll(sim, first, all);
    sim.runUntil(sim.now + 2 * HEARTBEAT_MS); // the heartbeat brings the follower's commit index up to the end
    const f = raft(sim, follower);
    expect(f.lastApplied, status(sim)).toBe(f.log.lastIndex());

    expect(sim.snapshot(follower)).toBeUndefined();
    const storage = sim.node(follower).storage;
    expect(storage.entries).toEqual([]);
    expect(storage.snapshot!.index).toBe(f.log.lastIndex());
    sim.crash(follower);
    sim.restart(follower);
    expectStartsFromSnapshot(sim, follower);
    expect(raft(sim, follower).log.lastIndex()).toBe(storage.snapshot!.index);
    expect(raft(sim, follower).log.lastTerm()).toBe(storage.snapshot!.term);

    // With the other follower down, nothing commits without it.
    sim.crash(other);
    const second = pairs(10, 10);
    putInWaves(sim, second, 5, [leader, follower]);
    expect(raft(sim, leader).commit).toBeGreaterThan(storage.snapshot!.index);
    expect(sim.node(follower).machine.hash()).toBe(sim.node(leader).machine.hash());
    // Its vote counts too: with the leader gone, it and the other one elect a leader and go on.
    sim.crash(leader);
    sim.restart(other);
    awaitLeader(sim, [follower, other], 2 * ELECTION_BOUND_MS);
    const third = pairs(20, 5);
    putAll(sim, third, [follower, other]);
    converge(sim);
    expectAllOn(sim, [...first, ...second, ...third], all);
    expectNoViolations(sim);
  });
});

// ---- Figure 13, steps 6 and 7 ---------------------------------------------------------------------------------

describe('Figure 13: what an installed snapshot leaves of the follower\'s log', () => {
  class FixedRandom implements Random {
    next(): number {
      return 0;
    }
    intBetween(min: number): number {
      return min;
    }
  }

  const CONFIG: ClusterConfig = { voters: [1, 2, 3], learners: [] };
  const entry = (index: number, term: number): Entry => ({ index, term, type: 'command', data: JSON.stringify(put(`i${index}`, `t${term}`)) });

  /** Follower S2 whose storage (a MemoryStorage, as in the simulator) holds entries of the given terms. */
  function follower(terms: number[]) {
    const storage = new MemoryStorage();
    storage.hardState = { term: Math.max(...terms), votedFor: 0 };
    storage.entries = terms.map((term, i) => entry(i + 1, term));
    const stored: StoredState = storage.load();
    const node = new RaftNode({ ...DEFAULT_RAFT_OPTIONS, id: 2, voters: [1, 2, 3] }, stored, new FixedRandom(), 0);
    if (node.hasReady()) node.advance(node.ready());
    return { node, storage, entries: storage.entries.slice() };
  }

  function install(node: RaftNode, index: number, term: number, config: ClusterConfig = CONFIG): InstallSnapshot {
    const m: InstallSnapshot = { type: 'InstallSnapshot', from: 1, to: 2, term: 5, lastIncludedIndex: index, lastIncludedTerm: term, config, offset: 0, data: 'SNAPSHOT', done: true };
    node.step(m, 10);
    return m;
  }

  function takeReady(node: RaftNode, storage: MemoryStorage): Ready {
    const rd = node.ready();
    storage.persist(rd);
    node.advance(rd);
    return rd;
  }

  it('step 6: when the log holds the snapshot\'s last entry with its term, the entries after it are kept', () => {
    const { node, storage, entries } = follower([1, 1, 1, 2, 2, 2, 3, 3]);
    install(node, 5, 2);
    expect(node.log.snapshotIndex).toBe(5);
    expect(node.log.snapshotTerm).toBe(2);
    expect(node.log.lastIndex()).toBe(8);
    for (let i = 6; i <= 8; i++) expect(node.log.entryAt(i)).toBe(entries[i - 1]);
    expect(node.commit).toBe(5);

    const rd = takeReady(node, storage);
    expect(rd.snapshot).toEqual({ index: 5, term: 2, config: CONFIG, data: 'SNAPSHOT' });
    expect(rd.entries).toEqual([]); // nothing to rewrite: the suffix is already durable
    expect(rd.committedEntries).toEqual([]); // entries 6..8 are not known committed yet
    expect(rd.messages).toEqual([
      { type: 'InstallSnapshotResponse', from: 2, to: 1, term: 5, lastIncludedIndex: 5, offset: 'SNAPSHOT'.length, success: true, done: true },
    ]);
    expect(rd.events).toContainEqual({ type: 'snapshot', phase: 'installed', index: 5, term: 2 });
    // Storage agrees: the snapshot, then the kept suffix; a restart reads back the same log.
    expect(storage.snapshot!.index).toBe(5);
    expect(storage.entries).toEqual(entries.slice(5));
    const restarted = new RaftNode({ ...DEFAULT_RAFT_OPTIONS, id: 2, voters: [1, 2, 3] }, storage.load(), new FixedRandom(), 20);
    expect(restarted.log.snapshotIndex).toBe(5);
    expect(restarted.log.lastIndex()).toBe(8);
    expect(restarted.log.termAt(8)).toBe(3);

    // The leader goes on from the kept suffix: an append after index 8 fits.
    node.step({ type: 'AppendEntries', from: 1, to: 2, term: 5, prevLogIndex: 8, prevLogTerm: 3, entries: [entry(9, 5)], leaderCommit: 9 }, 30);
    const next = takeReady(node, storage);
    expect(next.messages).toContainEqual(expect.objectContaining({ type: 'AppendEntriesResponse', success: true, matchIndex: 9 }));
    expect(next.committedEntries.map((e) => e.index)).toEqual([6, 7, 8, 9]);
  });

  it('step 7: when the log disagrees at the snapshot\'s last entry, the whole log is discarded', () => {
    const { node, storage } = follower([1, 1, 1, 2, 2, 2, 3, 3]);
    install(node, 5, 4); // our entry 5 has term 2
    expect(node.log.snapshotIndex).toBe(5);
    expect(node.log.snapshotTerm).toBe(4);
    expect(node.log.lastIndex()).toBe(5);
    expect(node.log.entryAt(6)).toBeUndefined();
    expect(node.log.lastTerm()).toBe(4);
    const rd = takeReady(node, storage);
    expect(rd.snapshot).toMatchObject({ index: 5, term: 4 });
    expect(storage.snapshot!.index).toBe(5);
    expect(storage.entries).toEqual([]);
    // The next append must start right after the snapshot.
    node.step({ type: 'AppendEntries', from: 1, to: 2, term: 5, prevLogIndex: 5, prevLogTerm: 4, entries: [entry(6, 5)], leaderCommit: 6 }, 30);
    const next = takeReady(node, storage);
    expect(next.messages).toContainEqual(expect.objectContaining({ type: 'AppendEntriesResponse', success: true, matchIndex: 6 }));
    expect(storage.entries.map((e) => e.index)).toEqual([6]);
  });

  it('step 7: a snapshot beyond the end of the log replaces it, and brings the configuration it records', () => {
    const { node, storage } = follower([1, 1, 1]);
    const config: ClusterConfig = { voters: [1, 2, 3, 4], learners: [5] };
    install(node, 12, 3, config);
    expect(node.log.snapshotIndex).toBe(12);
    expect(node.log.lastIndex()).toBe(12);
    expect(node.config).toEqual(config);
    const rd = takeReady(node, storage);
    expect(rd.events).toContainEqual({ type: 'config', index: 12, voters: [1, 2, 3, 4], learners: [5] });
    expect(storage.entries).toEqual([]);
    expect(storage.snapshot!.config).toEqual(config);
  });

  it('a node restarted from a snapshot and nothing else accepts the append that follows the snapshot', () => {
    const snapshot: Snapshot = { index: 7, term: 3, config: CONFIG, data: '[["a","1"]]' };
    const node = new RaftNode({ ...DEFAULT_RAFT_OPTIONS, id: 2, voters: [9] }, { hardState: { term: 3, votedFor: 1 }, snapshot, entries: [] }, new FixedRandom(), 0);
    expect(node.log.lastIndex()).toBe(7);
    expect(node.log.lastTerm()).toBe(3);
    expect(node.commit).toBe(7);
    expect(node.lastApplied).toBe(7);
    expect(node.config).toEqual(CONFIG); // the snapshot's configuration, not the bootstrap one
    if (node.hasReady()) node.advance(node.ready());
    node.step({ type: 'AppendEntries', from: 1, to: 2, term: 3, prevLogIndex: 7, prevLogTerm: 3, entries: [entry(8, 3)], leaderCommit: 8 }, 10);
    const rd = node.ready();
    expect(rd.messages).toContainEqual(expect.objectContaining({ type: 'AppendEntriesResponse', success: true, matchIndex: 8 }));
    expect(rd.committedEntries.map((e) => e.index)).toEqual([8]);
  });
});

// ---- Snapshots on demand ------------------------------------------------------------------------------------

describe('3D snapshots: on demand', () => {
  it('sim.snapshot(id) and the `snapshot` scenario action compact at once', () => {
    const trace: TraceEvent[] = [];
    const sim = new Simulation({ seed: 310, nodes: 3, onTrace: recordAll(trace) });
    const all = ids(sim);
    const leader = awaitLeader(sim, all, ELECTION_BOUND_MS);
    const [follower, other] = all.filter((id) => id !== leader) as [NodeId, NodeId];
    const first = pairs(0, 6);
    putAll(sim, first, all);
    const f = raft(sim, follower);
    const storage = sim.node(follower).storage;
    expect(storage.snapshot).toBeNull();
    expect(f.log.snapshotIndex).toBe(0);

    const applied = f.lastApplied;
    const last = f.log.lastIndex();
    expect(sim.snapshot(follower)).toBeUndefined();
    // At once: no event ran in between.
    expect(f.log.snapshotIndex).toBe(applied);
    expect(storage.snapshot).toMatchObject({ index: applied, term: f.log.termAt(applied) });
    expect(storage.snapshot!.data).toBe(sim.node(follower).machine.snapshot());
    expect(storage.entries).toHaveLength(last - applied);
    expect(trace[trace.length - 1]).toMatchObject({ t: sim.now, node: follower, type: 'snapshot', phase: 'taken', index: applied });
    expect(sim.snapshot(follower)).toBe(`S${follower} has nothing new to snapshot`);

    // The scenario action, aimed at whichever node leads when it runs.
    const second = pairs(6, 4);
    putAll(sim, second, all);
    const atMs = sim.now + 37;
    sim.schedule({ atMs, do: 'snapshot', node: 'leader' });
    sim.runUntil(atMs - 1);
    expect(raft(sim, leader).log.snapshotIndex).toBe(0);
    sim.runUntil(atMs);
    const taken = snapshotEvents(trace, leader, 'taken');
    expect(taken).toHaveLength(1);
    expect(taken[0]).toMatchObject({ t: atMs, index: raft(sim, leader).lastApplied });
    expect(raft(sim, leader).log.snapshotIndex).toBe(raft(sim, leader).lastApplied);
    expect(sim.node(leader).storage.snapshot!.index).toBe(raft(sim, leader).lastApplied);
    expect(trace.find((e) => e.type === 'action' && e.action === 'snapshot')).toMatchObject({ t: atMs, node: 0 });
    expect(trace.find((e) => e.type === 'action' && e.action === 'snapshot' && 'skipped' in e && e.skipped !== undefined)).toBeUndefined();

    // A node that is down cannot.
    sim.crash(other);
    expect(sim.snapshot(other)).toBe(`S${other} is down`);
    sim.schedule({ atMs: sim.now + 1, do: 'snapshot', node: other });
    sim.runUntil(sim.now + 1);
    expect(trace[trace.length - 1]).toMatchObject({ type: 'action', action: 'snapshot', skipped: `S${other} is down` });
    sim.restart(other);

    // The cluster goes on as before.
    const third = pairs(10, 5);
    putAll(sim, third, all);
    converge(sim);
    expectAllOn(sim, [...first, ...second, ...third], all);
    expectNoViolations(sim);
  });
});
