// Scenarios after the MIT 6.5840 Raft lab tests (3A election, 3B agreement, 3C persistence and unreliable
// networks), rewritten for this simulator: everything runs in virtual milliseconds and is a function of the
// seed, so a bound on time or on messages is a statement about the protocol, not about the machine's speed.
// Every test also ends by asserting that the safety checker, which runs after every simulated event, found
// nothing.
import { describe, expect, it } from 'vitest';
import type { RaftNode } from '../core/raft-node.ts';
import { SeededRandom } from '../core/random.ts';
import type { MessageType, NodeId } from '../core/types.ts';
import { decodeEnvelope } from '../machines/envelope.ts';
import type { KvCommand } from '../machines/key-value-table.ts';
import { runLivenessPhase } from './liveness.ts';
import type { Invariant } from './safety-checker.ts';
import { DEFAULT_SIM_CONFIG, type SimConfig } from './scenario.ts';
import { awaitLeader, expectNoViolations, ids, put, raft, settledLeader, status, upIds, waitFor } from './test-cluster.ts';
import { Simulation } from './simulation.ts';
import type { TraceEvent, TraceListener } from './trace.ts';

// ---- Helpers ------------------------------------------------------------------------------------------------

const ELECTION_MAX_MS = DEFAULT_SIM_CONFIG.electionTimeoutMs[1]; // 300
const LATENCY_MAX_MS = DEFAULT_SIM_CONFIG.latencyMs[1]; // 15

/**
 * How long a cluster with the default timings may take to settle on a leader that everyone follows. The first
 * election timeout fires at most 300 ms after the last word from a leader. If that vote splits, every candidate
 * (and every node that voted, up to one latency later) redraws a timeout of at most 300 ms, so a second round
 * starts by 615 ms; a round of votes (2 × 15 ms) and the new leader's first append (15 ms) later everyone
 * follows it: 660 ms, rounded up to 700. The bound therefore allows exactly one split vote.
 */
const ELECTION_BOUND_MS = 2 * ELECTION_MAX_MS + 3 * LATENCY_MAX_MS + 55;
/** A leader that has also committed its no-op: one more answer (15 ms). */
const SETTLED_BOUND_MS = ELECTION_BOUND_MS + LATENCY_MAX_MS;

/**
 * After a partition heals, or when nodes that were campaigning alone meet again, one more round can be needed:
 * a node with a stale term answers the first candidate only with its higher term, which then has to campaign
 * again. Three timeouts plus the same margin.
 */
const REELECTION_BOUND_MS = 3 * ELECTION_MAX_MS + 3 * LATENCY_MAX_MS + 55;

/**
 * With 7 nodes and 3 of them cut off, the 4 connected ones must all vote for the winner, and often only one of
 * them holds the newest committed entries, so only it can win: it has to time out before the others, whose
 * campaigns fail. Five election timeouts leave room for several such failed rounds.
 */
const MANY_ELECTIONS_BOUND_MS = 5 * ELECTION_MAX_MS;

function invariantsOf(sim: Simulation): Invariant[] {
  return [...new Set(sim.violations.map((v) => v.invariant))];
}

/** Nodes among `among` that are up and believe they lead. */
function leadersAmong(sim: Simulation, among: readonly NodeId[]): NodeId[] {
  return among.filter((id) => sim.node(id).raft?.role === 'leader');
}

/** How many nodes are up and have applied `data` at `index` (the lab's nCommitted, read from the outside). */
/** The client command a log entry carries (entries hold envelopes with the leader's time stamp), as JSON. */
function commandAt(r: RaftNode, index: number): string | undefined {
  const entry = r.log.entryAt(index);
  return entry?.type === 'command' ? JSON.stringify(decodeEnvelope(entry.data).command) : undefined;
}

function appliedCount(sim: Simulation, index: number, data: string): number {
  let count = 0;
  for (const n of sim.nodes) {
    const r = n.raft;
    if (r && r.lastApplied >= index && commandAt(r, index) === data) count++;
  }
  return count;
}

/** How many nodes (up or down) hold anything at `index` that they know to be committed. */
function committedAnywhere(sim: Simulation, index: number): NodeId[] {
  return sim.nodes.filter((n) => n.raft && n.raft.commit >= index).map((n) => n.id);
}

interface OneOptions {
  /** Resubmit when the entry does not reach agreement in 2 s (a leader change may have dropped it). */
  readonly retry?: boolean;
  /** Submit only through these nodes (the ones "connected" to the tester). */
  readonly among?: readonly NodeId[];
  readonly limitMs?: number;
}

/**
 * The lab's `one()`: submit `command` through the node that leads (highest term first) and wait until at least
 * `expected` nodes have applied it at the index it was given. Returns that index.
 */
function one(sim: Simulation, command: KvCommand, expected: number, options: OneOptions = {}): number {
  const data = JSON.stringify(command);
  const deadline = sim.now + (options.limitMs ?? 10_000);
  while (sim.now < deadline) {
    let index = 0;
    const candidates = leadersAmong(sim, options.among ?? ids(sim)).sort((a, b) => raft(sim, b).term - raft(sim, a).term);
    for (const id of candidates) {
      const submitted = sim.submit(id, command.op, command);
      if (submitted.ok) {
        index = submitted.index;
        break;
      }
    }
    if (index === 0) {
      sim.runUntil(sim.now + 50);
      continue;
    }
    if (waitFor(sim, () => appliedCount(sim, index, data) >= expected, 2000)) return index;
    if (!options.retry) throw new Error(`one(${data}): ${expected} nodes did not apply it at index ${index} within 2 s\n${status(sim)}`);
  }
  throw new Error(`one(${data}): no agreement within ${options.limitMs ?? 10_000} ms\n${status(sim)}`);
}

/** Every 'send' in the trace, light enough to keep for a whole run. */
interface SentMessage {
  readonly t: number;
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  /** For AppendEntries: how many entries it carried. */
  readonly entries: number;
}

function recordSends(into: SentMessage[]): TraceListener {
  return (e) => {
    if (e.type === 'send') {
      const entries = e.message.type === 'AppendEntries' ? e.message.entries.length : 0;
      into.push({ t: e.t, type: e.message.type, from: e.message.from, to: e.message.to, entries });
    }
  };
}

/** Collects the request ids the simulator reports as lost (node crashed, or another leader took the index). */
function recordLost(into: Set<number>): TraceListener {
  return (e) => {
    if (e.type === 'client' && e.outcome === 'lost') into.add(e.request);
  };
}

interface RetryingPut {
  readonly key: string;
  readonly value: string;
  acked: boolean;
  attempts: number;
}

/**
 * A client that keeps trying one put until some attempt is applied by the node it went through: it resubmits
 * when a node refuses (not the leader), when the simulator reports the attempt lost, or after `timeoutMs`
 * without an answer (the lab's one(..., retry=true) waits 2 s). Puts of a fixed key and value are idempotent,
 * so a duplicate commit is harmless. Everything runs as simulator events.
 */
function putWithRetry(
  sim: Simulation,
  lost: ReadonlySet<number>,
  random: SeededRandom,
  key: string,
  value: string,
  options: { readonly timeoutMs: number; readonly stopAtMs?: number; readonly onAck?: () => void },
): RetryingPut {
  const state: RetryingPut = { key, value, acked: false, attempts: 0 };
  const command = put(key, value);
  let hint = 0;
  const attempt = (): void => {
    if (state.acked || sim.now >= (options.stopAtMs ?? Infinity)) return;
    const mine = ++state.attempts;
    const up = upIds(sim);
    const target = sim.leader() ?? (hint !== 0 && sim.node(hint).raft ? hint : up.length > 0 ? random.pick(up) : 1);
    const submitted = sim.submit(target, 'put', command, () => {
      if (state.acked) return;
      state.acked = true;
      options.onAck?.();
    });
    if (!submitted.ok) {
      hint = submitted.leader;
      sim.at(sim.now + 20, attempt);
      return;
    }
    const startedAt = sim.now;
    const watch = (): void => {
      if (state.acked || state.attempts !== mine) return;
      if (lost.has(submitted.request) || sim.now - startedAt >= options.timeoutMs) attempt();
      else sim.at(sim.now + 10, watch);
    };
    sim.at(sim.now + 10, watch);
  };
  attempt();
  return state;
}

/** Every node's state machine holds `value` under `key`. */
function expectEverywhere(sim: Simulation, key: string, value: string): void {
  for (const n of sim.nodes) expect(n.machine.get(key), `S${n.id}'s ${key}\n${status(sim)}`).toBe(value);
}

function converge(sim: Simulation): void {
  const outcome = runLivenessPhase(sim);
  expect(outcome.problem, `not converged\n${status(sim)}`).toBeNull();
  expect(outcome.converged).toBe(true);
}

// ---- 3A: leader election -----------------------------------------------------------------------------------

describe('3A leader election', () => {
  it('initial election: 3 nodes elect exactly one leader within two election timeouts; it and its term hold for 2 quiet seconds', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const roleChanges: TraceEvent[] = [];
      const sim = new Simulation({ seed, nodes: 3, onTrace: (e) => e.type === 'role' && roleChanges.push(e) });
      const leader = awaitLeader(sim, ids(sim), SETTLED_BOUND_MS);
      const term = raft(sim, leader).term;
      expect(term).toBeGreaterThanOrEqual(1);
      for (const id of ids(sim)) expect(raft(sim, id).term, `S${id}'s term, seed ${seed}`).toBe(term);

      // Two quiet seconds: checked every 10 ms, and not one role change in the trace.
      const changesBefore = roleChanges.length;
      const end = sim.now + 2000;
      while (sim.now < end) {
        sim.runUntil(sim.now + 10);
        expect(settledLeader(sim), `seed ${seed}\n${status(sim)}`).toBe(leader);
      }
      expect(roleChanges.slice(changesBefore)).toEqual([]);
      for (const id of ids(sim)) expect(raft(sim, id).term).toBe(term);
      expectNoViolations(sim);
    }
  });

  it('re-election: a cut-off leader is replaced, does not disturb the new one when it rejoins; 2 of 3 cut off elect nobody; healing restores one leader', () => {
    const sim = new Simulation({ seed: 11, nodes: 3 });
    const all = ids(sim);
    const leader1 = awaitLeader(sim, all, SETTLED_BOUND_MS);

    // Cut the leader off: the other two elect one of themselves.
    sim.network.partition([[leader1]], all);
    const rest = all.filter((id) => id !== leader1);
    const leader2 = awaitLeader(sim, rest, SETTLED_BOUND_MS);
    expect(leader2).not.toBe(leader1);
    // Without CheckQuorum the old leader still believes it leads, but in an older term.
    expect(raft(sim, leader1).role).toBe('leader');
    expect(raft(sim, leader1).term).toBeLessThan(raft(sim, leader2).term);

    // The old leader rejoins. Its term is behind, so the first message it exchanges with the new leader's
    // side demotes it: within one heartbeat (50 ms) plus a latency. The new leader keeps leading throughout.
    const term2 = raft(sim, leader2).term;
    sim.network.heal();
    expect(waitFor(sim, () => raft(sim, leader1).role === 'follower', 50 + 2 * LATENCY_MAX_MS), status(sim)).toBe(true);
    const end = sim.now + 1000;
    while (sim.now < end) {
      sim.runUntil(sim.now + 10);
      expect(raft(sim, leader2).role, status(sim)).toBe('leader');
      expect(raft(sim, leader2).term).toBe(term2);
    }
    expect(settledLeader(sim)).toBe(leader2);

    // Cut 2 of 3 off: every node is alone. Neither follower can win a majority, however often it campaigns; the
    // leader stays leader of its term in name only: it commits nothing.
    const [other, lonely] = all.filter((id) => id !== leader2) as [NodeId, NodeId];
    sim.network.partition([[leader2], [other], [lonely]], all);
    const submitted = sim.submit(leader2, 'put', put('alone', '1'));
    expect(submitted.ok).toBe(true);
    const index = submitted.ok ? submitted.index : 0;
    const quietEnd = sim.now + 2000;
    while (sim.now < quietEnd) {
      sim.runUntil(sim.now + 10);
      expect(leadersAmong(sim, [other, lonely]), status(sim)).toEqual([]);
    }
    expect(committedAnywhere(sim, index)).toEqual([]);

    // Reconnect two of them: they form a majority and elect a leader.
    sim.network.partition([[leader2]], all);
    awaitLeader(sim, [other, lonely], REELECTION_BOUND_MS);
    // Heal everything: one leader that all three follow.
    sim.network.heal();
    awaitLeader(sim, all, REELECTION_BOUND_MS);
    expectNoViolations(sim);
  });

  it('with CheckQuorum, a leader cut off from the majority steps down: with every node alone there is no leader at all', () => {
    const sim = new Simulation({ seed: 12, nodes: 3, config: { checkQuorum: true } });
    const all = ids(sim);
    const leader = awaitLeader(sim, all, SETTLED_BOUND_MS);
    sim.network.partition(all.map((id) => [id]), all);
    // The leader checks its quorum every minimum election timeout (150 ms): within two checks it has had a whole
    // round without hearing from a majority.
    expect(waitFor(sim, () => raft(sim, leader).role !== 'leader', 2 * DEFAULT_SIM_CONFIG.electionTimeoutMs[0]), status(sim)).toBe(true);
    const end = sim.now + 2000;
    while (sim.now < end) {
      sim.runUntil(sim.now + 10);
      expect(sim.leader(), status(sim)).toBeNull();
    }
    sim.network.heal();
    awaitLeader(sim, all, REELECTION_BOUND_MS);
    expectNoViolations(sim);
  });

  it('many elections: 7 nodes, 3 random ones cut off and reconnected again and again; one leader per term, a leader whenever a majority is connected', () => {
    for (let seed = 13; seed <= 17; seed++) {
      const leadersOfTerm = new Map<number, Set<NodeId>>();
      const sim = new Simulation({
        seed,
        nodes: 7,
        onTrace: (e) => {
          if (e.type === 'role' && e.role === 'leader') {
            const set = leadersOfTerm.get(e.term) ?? new Set<NodeId>();
            set.add(e.node);
            leadersOfTerm.set(e.term, set);
          }
        },
      });
      const random = new SeededRandom(seed).fork(1);
      const all = ids(sim);
      awaitLeader(sim, all, SETTLED_BOUND_MS);
      for (let round = 0; round < 12; round++) {
        const shuffled = all.map((id) => ({ id, key: random.next() }));
        shuffled.sort((a, b) => a.key - b.key);
        const isolated = shuffled.slice(0, 3).map((x) => x.id);
        sim.network.partition(isolated.map((id) => [id]), all);
        const connected = all.filter((id) => !isolated.includes(id));
        // Four of seven are a majority: they must settle on a leader. The three alone must not lead a newer term.
        const leader = awaitLeader(sim, connected, MANY_ELECTIONS_BOUND_MS);
        for (const id of isolated) {
          const r = raft(sim, id);
          if (r.role === 'leader') expect(r.term).toBeLessThan(raft(sim, leader).term);
        }
        sim.network.heal();
        awaitLeader(sim, all, MANY_ELECTIONS_BOUND_MS);
      }
      expect(leadersOfTerm.size).toBeGreaterThan(1);
      for (const [term, leaders] of leadersOfTerm) expect([...leaders], `leaders of term ${term}, seed ${seed}`).toHaveLength(1);
      expectNoViolations(sim);
    }
  });

  it('Figure 2: a vote request that is refused does not restart the election timer, so a stale node campaigning again and again cannot hold back the node that can win', () => {
    // Figure 2, Followers: "If election timeout elapses without receiving AppendEntries RPC from current leader
    // or granting vote to candidate: convert to candidate." A RequestVote that is refused is neither.
    let watched: { voter: NodeId; candidate: NodeId } | null = null;
    let refusal: { t: number; deadline: number; reason: string } | null = null;
    const sim: Simulation = new Simulation({
      seed: 14,
      nodes: 3,
      config: { latencyMs: [10, 10] },
      onTrace: (e) => {
        if (watched && !refusal && e.type === 'vote' && !e.preVote && e.node === watched.voter && e.candidate === watched.candidate && !e.granted) {
          refusal = { t: e.t, deadline: sim.node(e.node).raft!.status().electionDeadlineMs, reason: e.reason };
        }
      },
    });
    const all = ids(sim);
    const leader = awaitLeader(sim, all, SETTLED_BOUND_MS);
    const [upToDate, stale] = all.filter((id) => id !== leader) as [NodeId, NodeId];
    // `stale` misses an entry that the leader commits with `upToDate`; then the leader crashes and `stale` returns.
    sim.crash(stale);
    one(sim, put('x', '1'), 2);
    sim.runUntil(sim.now + DEFAULT_SIM_CONFIG.heartbeatMs);
    sim.crash(leader);
    sim.restart(stale);
    const deadline = raft(sim, upToDate).status().electionDeadlineMs;
    expect(deadline).toBeGreaterThan(sim.now);

    // `stale` campaigns every 100 ms (as a node with a shorter timeout would), but never while `upToDate`
    // campaigns, so the two never collide.
    watched = { voter: upToDate, candidate: stale };
    const campaign = (): void => {
      if (sim.leader() !== null) return;
      if (sim.node(upToDate).raft?.role !== 'candidate') sim.timeout(stale);
      sim.at(sim.now + 100, campaign);
    };
    campaign();
    expect(waitFor(sim, () => refusal !== null, 50), status(sim)).toBe(true);
    const refused = refusal! as { t: number; deadline: number; reason: string };
    expect(refused.reason).toBe('log-behind');
    // Its timer still runs to `deadline`...
    expect(refused.deadline, `S${upToDate}'s election deadline after refusing S${stale} at ${refused.t} ms`).toBe(deadline);
    // ...so it campaigns then and wins with `stale`'s vote one round trip (20 ms) later.
    expect(waitFor(sim, () => sim.node(upToDate).raft?.role === 'leader', deadline + 2 * 10 + 1 - sim.now), status(sim)).toBe(true);
    expectNoViolations(sim);
  });
});

// ---- 3B: log agreement -------------------------------------------------------------------------------------

describe('3B agreement', () => {
  it('basic agreement: sequential puts are committed and applied on every node at the expected index', () => {
    const sim = new Simulation({ seed: 21, nodes: 3 });
    const leader = awaitLeader(sim, ids(sim), SETTLED_BOUND_MS);
    // The leader's first entry is its no-op (§8); our puts follow it, one index each.
    let expectedIndex = raft(sim, leader).log.lastIndex() + 1;
    expect(expectedIndex).toBe(2);
    for (let i = 1; i <= 5; i++) {
      const command = put(`k${i}`, `v${i}`);
      expect(appliedCount(sim, expectedIndex, JSON.stringify(command))).toBe(0);
      const index = one(sim, command, 3);
      expect(index).toBe(expectedIndex);
      for (const id of ids(sim)) {
        expect(raft(sim, id).commit).toBeGreaterThanOrEqual(index);
        expect(raft(sim, id).log.entryAt(index)).toMatchObject({ index, term: raft(sim, leader).term, type: 'command' });
        expect(commandAt(raft(sim, id), index)).toBe(JSON.stringify(command));
      }
      expectEverywhere(sim, `k${i}`, `v${i}`);
      expectedIndex++;
    }
    expectNoViolations(sim);
  });

  it('follower failure: with one of 3 down commits continue; with 2 of 3 down nothing commits', () => {
    const sim = new Simulation({ seed: 22, nodes: 3 });
    const all = ids(sim);
    const leader = awaitLeader(sim, all, SETTLED_BOUND_MS);
    one(sim, put('a', '101'), 3);
    const [f1, f2] = all.filter((id) => id !== leader) as [NodeId, NodeId];

    sim.crash(f1);
    one(sim, put('b', '102'), 2);
    sim.runUntil(sim.now + ELECTION_MAX_MS);
    one(sim, put('c', '103'), 2);

    sim.crash(f2);
    expect(raft(sim, leader).role).toBe('leader'); // no CheckQuorum: it keeps leading, alone
    const submitted = sim.submit(leader, 'put', put('d', '104'));
    expect(submitted.ok).toBe(true);
    const index = submitted.ok ? submitted.index : 0;
    sim.runUntil(sim.now + 2 * ELECTION_MAX_MS);
    expect(raft(sim, leader).commit).toBeLessThan(index);
    expect(committedAnywhere(sim, index)).toEqual([]);
    expect(sim.node(leader).machine.get('d')).toBeUndefined();
    expectNoViolations(sim);
  });

  it('leader failure: the rest elect and commit; with 3 of 5 down the surviving leader commits nothing', () => {
    const sim = new Simulation({ seed: 23, nodes: 5 });
    const all = ids(sim);
    const leader1 = awaitLeader(sim, all, SETTLED_BOUND_MS);
    one(sim, put('a', '101'), 5);

    sim.crash(leader1);
    const four = all.filter((id) => id !== leader1);
    const leader2 = awaitLeader(sim, four, SETTLED_BOUND_MS);
    one(sim, put('b', '102'), 4);

    sim.crash(leader2);
    const three = four.filter((id) => id !== leader2);
    const leader3 = awaitLeader(sim, three, SETTLED_BOUND_MS);
    one(sim, put('c', '103'), 3);

    // A third node down: the leader accepts the put but can never count a majority for it.
    const follower = three.find((id) => id !== leader3)!;
    sim.crash(follower);
    const submitted = sim.submit(leader3, 'put', put('d', '104'));
    expect(submitted.ok).toBe(true);
    const index = submitted.ok ? submitted.index : 0;
    sim.runUntil(sim.now + 2 * ELECTION_MAX_MS);
    expect(committedAnywhere(sim, index), status(sim)).toEqual([]);
    for (const n of sim.nodes) expect(n.machine.get('d')).toBeUndefined();
    // Earlier agreements are still in place on the survivors.
    for (const id of upIds(sim)) {
      expect(sim.node(id).machine.get('a')).toBe('101');
      expect(sim.node(id).machine.get('c')).toBe('103');
    }
    expectNoViolations(sim);
  });

  it('concurrent proposals: 25 puts submitted in the same virtual millisecond all commit, at distinct consecutive indexes', () => {
    const sim = new Simulation({ seed: 24, nodes: 3 });
    const leader = awaitLeader(sim, ids(sim), SETTLED_BOUND_MS);
    const term = raft(sim, leader).term;
    const t = sim.now + 1;
    const indexes: number[] = [];
    const results: unknown[] = [];
    for (let i = 0; i < 25; i++) {
      // One event per put, all at the same instant.
      sim.at(t, () => {
        const submitted = sim.submit(leader, 'put', put(`c${i}`, `${i}`), (result) => results.push(result));
        expect(submitted.ok).toBe(true);
        if (submitted.ok) indexes.push(submitted.index);
      });
    }
    sim.runUntil(t);
    expect(indexes).toHaveLength(25);
    expect(new Set(indexes).size).toBe(25);
    const first = Math.min(...indexes);
    expect([...indexes].sort((a, b) => a - b)).toEqual(indexes.map((_, i) => first + i));
    expect(waitFor(sim, () => ids(sim).every((id) => raft(sim, id).lastApplied >= first + 24), 500), status(sim)).toBe(true);
    expect(results).toHaveLength(25);
    for (let i = 0; i < 25; i++) expectEverywhere(sim, `c${i}`, `${i}`);
    expect(raft(sim, leader).term).toBe(term);
    expectNoViolations(sim);
  });

  it('rejoin of a partitioned leader: its uncommitted entries are replaced by what the majority committed', () => {
    const lost = new Set<number>();
    const sim = new Simulation({ seed: 25, nodes: 3, onTrace: recordLost(lost) });
    const all = ids(sim);
    awaitLeader(sim, all, SETTLED_BOUND_MS);
    one(sim, put('k', '101'), 3);

    // The leader is cut off; it still accepts proposals, which cannot commit.
    const leader1 = sim.leader()!;
    sim.network.partition([[leader1]], all);
    const stale: number[] = [];
    for (const value of ['102', '103', '104']) {
      const submitted = sim.submit(leader1, 'put', put('stale', value));
      expect(submitted.ok).toBe(true);
      if (submitted.ok) stale.push(submitted.request);
    }
    const staleLast = raft(sim, leader1).log.lastIndex();

    // The majority elects a leader of its own and commits.
    const rest = all.filter((id) => id !== leader1);
    const leader2 = awaitLeader(sim, rest, SETTLED_BOUND_MS);
    one(sim, put('k', '103'), 2, { among: rest });
    expect(raft(sim, leader1).commit).toBeLessThan(staleLast);

    // The new leader is cut off and the old one returns: the remaining follower holds the newer log and
    // refuses to vote for the old leader, which steps down; the follower wins and repairs the old leader's log.
    sim.network.partition([[leader2]], all);
    const pair = all.filter((id) => id !== leader2);
    awaitLeader(sim, pair, REELECTION_BOUND_MS);
    expect(settledLeader(sim, pair)).not.toBe(leader1);
    one(sim, put('k', '104'), 2, { among: pair });

    sim.network.heal();
    awaitLeader(sim, all, REELECTION_BOUND_MS);
    one(sim, put('k', '105'), 3);
    for (const n of sim.nodes) {
      expect(n.machine.get('stale')).toBeUndefined();
      expect(n.machine.get('k')).toBe('105');
      // No trace of the stale proposals in any log.
      for (let i = 1; i <= n.raft!.log.lastIndex(); i++) expect(n.raft!.log.entryAt(i)!.data).not.toContain('stale');
    }
    // The client that proposed through the old leader was told its requests were lost.
    for (const request of stale) expect(lost.has(request), `request ${request} reported lost`).toBe(true);
    expectNoViolations(sim);
  });

  it('fast backup: 5 nodes, 50 conflicting entries on each side; the majority log wins and a follower is repaired in a handful of appends', () => {
    const sends: SentMessage[] = [];
    const sim = new Simulation({ seed: 26, nodes: 5, onTrace: recordSends(sends) });
    const all = ids(sim);
    const random = new SeededRandom(26).fork(1);
    const value = () => `${random.intBetween(0, 1_000_000)}`;
    awaitLeader(sim, all, SETTLED_BOUND_MS);
    one(sim, put('start', value()), 5);

    // The leader and one follower are cut off from the other three; the leader takes 50 puts it cannot commit.
    const leader1 = sim.leader()!;
    const follower1 = all.find((id) => id !== leader1)!;
    const three = all.filter((id) => id !== leader1 && id !== follower1);
    sim.network.partition([[leader1, follower1], three], all);
    for (let i = 0; i < 50; i++) expect(sim.submit(leader1, 'put', put(`lost${i}`, value())).ok).toBe(true);
    sim.runUntil(sim.now + ELECTION_MAX_MS / 2);

    // The three elect a leader and commit 50 puts of their own.
    awaitLeader(sim, three, REELECTION_BOUND_MS);
    for (let i = 0; i < 50; i++) one(sim, put(`won${i}`, value()), 3, { among: three });

    // One of the three leaves; their leader takes 50 more puts it cannot commit.
    const leader2 = settledLeader(sim, three)!;
    const other = three.find((id) => id !== leader2)!;
    const pair2 = three.filter((id) => id !== other);
    sim.network.partition([pair2, [leader1, follower1, other]], all);
    for (let i = 0; i < 50; i++) expect(sim.submit(leader2, 'put', put(`lost2-${i}`, value())).ok).toBe(true);
    sim.runUntil(sim.now + ELECTION_MAX_MS / 2);

    // The first pair rejoins `other`, which holds the committed entries: it must win, and repair both.
    const repairStart = sim.now;
    const group = [leader1, follower1, other];
    sim.network.partition([pair2, group], all);
    const leader3 = awaitLeader(sim, group, REELECTION_BOUND_MS);
    expect(leader3).toBe(other); // the only one of the three with the committed entries
    const repaired = (id: NodeId) => raft(sim, id).log.lastIndex() === raft(sim, leader3).log.lastIndex() && raft(sim, id).commit === raft(sim, leader3).commit;
    expect(waitFor(sim, () => repaired(leader1) && repaired(follower1), 1000), status(sim)).toBe(true);
    const repairEnd = sim.now;
    for (const follower of [leader1, follower1]) {
      const appends = sends.filter((m) => m.t >= repairStart && m.t <= repairEnd && m.type === 'AppendEntries' && m.to === follower);
      // 50 conflicting entries; fast backup skips the whole conflicting term at once. Backing up one entry per
      // rejection would take over 50 appends; a probe, a rejection or two and the catch-up fit in 6.
      expect(appends.length, `AppendEntries to S${follower} during the repair`).toBeGreaterThan(0);
      expect(appends.length, `AppendEntries to S${follower} during the repair`).toBeLessThanOrEqual(6);
    }
    for (let i = 0; i < 50; i++) one(sim, put(`after${i}`, value()), 3, { among: group });

    // Everyone back together: one more agreement on all five, and everyone converges.
    sim.network.heal();
    one(sim, put('end', value()), 5, { retry: true });
    converge(sim);
    for (const n of sim.nodes) {
      for (let i = 0; i < 50; i++) {
        expect(n.machine.get(`won${i}`)).toBeDefined();
        expect(n.machine.get(`after${i}`)).toBeDefined();
        expect(n.machine.get(`lost${i}`)).toBeUndefined();
      }
    }
    expectNoViolations(sim);
  });

  it('message counts: an election within 30 messages, 10 agreements without waste, an idle second within 60', () => {
    // heartbeatMs 100: the lab allows at most 10 heartbeats a second.
    const heartbeatMs = 100;
    const sends: SentMessage[] = [];
    const sim = new Simulation({ seed: 27, nodes: 3, config: { heartbeatMs }, onTrace: recordSends(sends) });
    const all = ids(sim);
    const leader = awaitLeader(sim, all, SETTLED_BOUND_MS);
    const term = raft(sim, leader).term;
    // A clean election is 2 RequestVote + 2 answers, then the no-op append + 2 answers: 8 messages.
    expect(sends.length).toBeGreaterThanOrEqual(8);
    expect(sends.length).toBeLessThanOrEqual(30);

    const before = sends.length;
    const t0 = sim.now;
    for (let i = 0; i < 10; i++) one(sim, put(`n${i}`, `${i}`), 3);
    const elapsed = sim.now - t0;
    const used = sends.slice(before);
    expect(raft(sim, leader).term).toBe(term); // otherwise the count would include an election
    // Bound: each agreement needs one AppendEntries to each of the 2 followers and their 2 answers: 10 × 4 = 40.
    // Followers learn the commit index from heartbeats, which go on regardless: one round every heartbeatMs is
    // 2 Heartbeats + 2 answers, and the elapsed time holds floor(elapsed / heartbeatMs) rounds plus possibly one
    // begun at the start: 4 × (floor(elapsed / 100) + 1). Nothing else is needed on a reliable network.
    const rounds = Math.floor(elapsed / heartbeatMs) + 1;
    const bound = 10 * 4 + rounds * 4;
    expect(used.length, `${used.length} messages in ${elapsed} ms: ${JSON.stringify(used)}`).toBeLessThanOrEqual(bound);
    // Every AppendEntries carries an entry: none is an empty re-probe while an append is merely on its way.
    const appends = used.filter((m) => m.type === 'AppendEntries');
    expect(appends.filter((m) => m.entries === 0), 'empty AppendEntries').toEqual([]);
    expect(appends).toHaveLength(10 * 2);
    expect(used.filter((m) => m.type === 'AppendEntriesResponse')).toHaveLength(10 * 2);

    // An idle second: heartbeats only. 10 rounds × (2 Heartbeats + 2 answers) = 40.
    expect(waitFor(sim, () => all.every((id) => raft(sim, id).commit === raft(sim, leader).log.lastIndex()), 500)).toBe(true);
    sim.runUntil(sim.now + 200); // let the last round's answers land
    const idleStart = sends.length;
    sim.runUntil(sim.now + 1000);
    const idle = sends.slice(idleStart);
    expect(idle.length).toBeGreaterThan(0);
    expect(idle.length).toBeLessThanOrEqual(60);
    expect(idle.every((m) => m.type === 'Heartbeat' || m.type === 'HeartbeatResponse'), JSON.stringify(idle.filter((m) => !m.type.startsWith('Heartbeat')))).toBe(true);
    expect(raft(sim, leader).term).toBe(term);
    expectNoViolations(sim);
  });
});

// ---- 3C: persistence ---------------------------------------------------------------------------------------

describe('3C persistence', () => {
  /** Crash `id`, checking that what it persisted is what it had: then restart it and check it reads it back. */
  function crashAndRestart(sim: Simulation, id: NodeId, restart = true): void {
    const before = raft(sim, id);
    const term = before.term;
    const votedFor = before.votedFor;
    const lastIndex = before.log.lastIndex();
    const commit = before.commit;
    sim.crash(id);
    expect(sim.node(id).storage.hardState).toEqual({ term, votedFor });
    expect(sim.node(id).storage.lastIndex()).toBe(lastIndex);
    if (!restart) return;
    sim.restart(id);
    const after = raft(sim, id);
    expect(after.term, `S${id}'s term after restart`).toBe(term);
    expect(after.votedFor, `S${id}'s vote after restart`).toBe(votedFor);
    expect(after.log.lastIndex()).toBe(lastIndex);
    // Committed entries are still in the log; whether they are committed the node relearns from a leader.
    for (let i = 1; i <= commit; i++) expect(after.log.entryAt(i)).toBe(sim.node(id).storage.entries[i - 1]);
  }

  it('every node crashed and restarted, all at once and one at a time: committed entries survive, terms and votes are restored, new entries commit', () => {
    const sim = new Simulation({ seed: 31, nodes: 3 });
    const all = ids(sim);
    awaitLeader(sim, all, SETTLED_BOUND_MS);
    one(sim, put('p', '11'), 3);
    const termBefore = raft(sim, sim.leader()!).term;

    // All at once.
    const saved = all.map((id) => ({ id, term: raft(sim, id).term, votedFor: raft(sim, id).votedFor, last: raft(sim, id).log.lastIndex() }));
    for (const id of all) sim.crash(id);
    sim.runUntil(sim.now + 100);
    for (const id of all) sim.restart(id);
    for (const s of saved) {
      expect(raft(sim, s.id).term).toBe(s.term);
      expect(raft(sim, s.id).votedFor).toBe(s.votedFor);
      expect(raft(sim, s.id).log.lastIndex()).toBe(s.last);
      expect(raft(sim, s.id).commit).toBe(0); // volatile: relearned from the next leader
      expect(sim.node(s.id).machine.get('p')).toBeUndefined(); // the state machine is rebuilt from the log
    }
    one(sim, put('q', '12'), 3);
    expect(raft(sim, sim.leader()!).term).toBeGreaterThan(termBefore);
    expectEverywhere(sim, 'p', '11');

    // One at a time.
    for (const id of all) {
      crashAndRestart(sim, id);
      one(sim, put(`one-${id}`, `${id}`), 3, { retry: true });
    }
    for (const id of all) {
      crashAndRestart(sim, id, false);
      one(sim, put(`down-${id}`, `${id}`), 2, { retry: true });
      sim.restart(id);
      one(sim, put(`up-${id}`, `${id}`), 3, { retry: true });
    }

    // The leader crashes and comes back twice in a row.
    for (let i = 0; i < 2; i++) {
      const leader = sim.leader()!;
      crashAndRestart(sim, leader);
      one(sim, put('leader', `${i}`), 3, { retry: true });
    }
    expectEverywhere(sim, 'p', '11');
    expectEverywhere(sim, 'q', '12');
    for (const id of all) expectEverywhere(sim, `up-${id}`, `${id}`);
    expectNoViolations(sim);
  });

  it('an entry acknowledged by a follower survives that follower\'s crash and is committed by a leader it elects', () => {
    // The lab's TestPersist3: the acknowledgement was sent only after the entry was persisted (thesis §3.8).
    const sim = new Simulation({ seed: 32, nodes: 3 });
    const all = ids(sim);
    awaitLeader(sim, all, SETTLED_BOUND_MS);
    one(sim, put('a', '101'), 3);
    const leader = sim.leader()!;
    const [f1, f2] = all.filter((id) => id !== leader) as [NodeId, NodeId];

    sim.network.partition([[f2]], all);
    const index = one(sim, put('b', '102'), 2, { among: [leader, f1] });
    sim.crash(leader);
    sim.crash(f1);
    sim.network.heal();
    sim.restart(leader);
    // f2 has not seen entry `index`; the restarted leader has, so only it can win f2's vote.
    one(sim, put('c', '103'), 2, { retry: true });
    sim.restart(f1);
    one(sim, put('d', '104'), 3, { retry: true });
    for (const id of all) expect(commandAt(raft(sim, id), index)).toBe(JSON.stringify(put('b', '102')));
    expectEverywhere(sim, 'b', '102');
    expectNoViolations(sim);
  });
});

// ---- Figure 8 --------------------------------------------------------------------------------------------------

interface Figure8Checkpoints {
  /** Who holds the old entry X (index 2, term 1) when S1, leader of term 3, is cut off and crashes. */
  holdersOfOld?: NodeId[];
  /** Who holds S1's own entry of term 3 (index 3) at that moment. */
  holdersOfNew?: NodeId[];
  leaderTermAtCrash?: number;
  committedAtCrash?: NodeId[];
  s1CommitAtCrash?: number;
  s5LastTermAtRestart?: number;
}

const OLD_ENTRY = put('x', 'old');

/**
 * The situation of Figure 8 (§5.4.2), on 5 nodes with fixed 10 ms latency and election timeouts so long that
 * only the forced timeouts below start elections. One entry per AppendEntries, so that S1 hands out the old
 * entry and its own new one in separate messages. Each node also gets a no-op when it starts leading (§8).
 *
 *   (a)   0 ms  S1 leads term 1; its no-op (index 1) reaches everyone.
 *       100 ms  S1 and S2 are cut off from the rest; S1 takes X, which reaches S2 only (index 2, term 1).
 *   (b) 150 ms  S1 crashes; S5 campaigns in term 2 and wins with S3 and S4 (S2 refuses: its log is longer).
 *       175 ms  S5's links go down before its no-op (index 2, term 2) leaves; it also takes Y (index 3).
 *       200 ms  S5 crashes.
 *   (c) 210 ms  The network heals; S1 restarts and campaigns: term 2 is lost (S3, S4 voted for S5)...
 *       240 ms  ...so it campaigns again and wins term 3 with S2, S3, S4; its no-op is index 3, term 3.
 *                S2 takes index 3 at once; S3 and S4 need X first (one entry per message), which reaches them
 *                at 290 ms, their acknowledgements at 300 ms: X (term 1) is now on a majority, S1's own entry
 *                of term 3 only on S1 and S2.
 *       305 ms  S1 is cut off (its messages in flight are lost) and crashes.
 *   (d) 310 ms  S5 restarts with last term 2, higher than S3's and S4's last term 1: it campaigns (term 3 is
 *                taken), then at 340 ms wins term 4 with S3 and S4, and overwrites X with its own index 2.
 *
 * Safe Raft never counted X's replicas (it is not of S1's term), so nothing was lost. With
 * unsafeCommitPreviousTerms, S1 committed X at 300 ms, and S5's victory erases a committed entry.
 */
function figure8(unsafeCommitPreviousTerms: boolean): { sim: Simulation; at: Figure8Checkpoints } {
  const sim = new Simulation({
    seed: 8,
    nodes: 5,
    config: { latencyMs: [10, 10], electionTimeoutMs: [1000, 2000], unsafeCommitPreviousTerms, entriesPerMessageMax: 1 },
  });
  const all = ids(sim);
  const at: Figure8Checkpoints = {};
  const oldData = JSON.stringify(OLD_ENTRY);
  const cutOff = (id: NodeId) => all.filter((to) => to !== id).forEach((to) => sim.network.cut(id, to));
  sim.at(0, () => sim.timeout(1));
  sim.at(100, () => {
    sim.network.partition([[1, 2], [3, 4, 5]], all);
    expect(sim.submit(1, 'put', OLD_ENTRY)).toMatchObject({ ok: true, index: 2 });
  });
  sim.at(150, () => {
    sim.crash(1);
    sim.timeout(5);
  });
  sim.at(175, () => {
    expect(raft(sim, 5).role, status(sim)).toBe('leader');
    cutOff(5);
    expect(sim.submit(5, 'put', put('y', 's5'))).toMatchObject({ ok: true, index: 3 });
  });
  sim.at(200, () => sim.crash(5));
  sim.at(210, () => {
    sim.network.heal();
    sim.restart(1);
    sim.timeout(1);
  });
  sim.at(240, () => sim.timeout(1));
  sim.at(305, () => {
    const s1 = raft(sim, 1);
    at.leaderTermAtCrash = s1.role === 'leader' ? s1.term : -1;
    at.holdersOfOld = upIds(sim).filter((id) => commandAt(raft(sim, id), 2) === oldData);
    at.holdersOfNew = upIds(sim).filter((id) => raft(sim, id).log.entryAt(3)?.term === s1.term);
    at.committedAtCrash = committedAnywhere(sim, 2);
    at.s1CommitAtCrash = s1.commit;
    cutOff(1);
    sim.crash(1);
  });
  sim.at(310, () => {
    sim.restart(5);
    at.s5LastTermAtRestart = raft(sim, 5).log.lastTerm();
    sim.timeout(5);
  });
  sim.at(340, () => sim.timeout(5));
  sim.runUntil(400);
  return { sim, at };
}

describe('Figure 8 (§5.4.2)', () => {
  it('safe Raft: an old-term entry on a majority is not committed, so the leader that overwrites it breaks nothing', () => {
    const { sim, at } = figure8(false);
    expect(at.leaderTermAtCrash).toBe(3);
    expect(at.holdersOfOld).toEqual([1, 2, 3, 4]);
    expect(at.holdersOfNew).toEqual([1, 2]);
    // S1 restarted at 210 ms, so its commit index started over at 0 (it is volatile); as leader of term 3 it may
    // commit only once an entry of term 3 is on a majority, which has not happened: X is not committed anywhere.
    expect(at.s1CommitAtCrash).toBe(0);
    expect(at.committedAtCrash).toEqual([]);
    expect(at.s5LastTermAtRestart).toBe(2);
    // S5, whose log lacks X, leads term 4 and replaces X.
    expect(raft(sim, 5).role, status(sim)).toBe('leader');
    expect(raft(sim, 5).term).toBe(4);
    expectNoViolations(sim);

    sim.runUntil(600);
    converge(sim);
    for (const n of sim.nodes) {
      expect(commandAt(n.raft!, 2)).not.toBe(JSON.stringify(OLD_ENTRY));
      expect(n.machine.get('x')).toBeUndefined();
      expect(n.machine.get('y')).toBe('s5');
    }
    expectNoViolations(sim);
  });

  it('with unsafeCommitPreviousTerms the same script commits X by counting replicas, and the checker reports the loss', () => {
    const { sim, at } = figure8(true);
    expect(at.leaderTermAtCrash).toBe(3);
    expect(at.holdersOfOld).toEqual([1, 2, 3, 4]);
    expect(at.holdersOfNew).toEqual([1, 2]);
    expect(at.s1CommitAtCrash).toBe(2); // X counted on a majority, though it is of term 1
    expect(raft(sim, 5).role, status(sim)).toBe('leader');
    const found = invariantsOf(sim);
    expect(found.some((i) => i === 'LeaderCompleteness' || i === 'StateMachineSafety' || i === 'CommittedEntryChanged'), `found ${found.join(', ')}`).toBe(true);
  });

  it('unreliable crash loop: 1000 iterations of proposals, waits and leader crashes over a lossy, reordering network', () => {
    let ackedTotal = 0;
    for (const seed of [88, 89, 90]) {
      let leaderTerms = 0;
      const sim = new Simulation({
        seed,
        nodes: 5,
        config: { lossRatio: 0.1, duplicateRatio: 0.05, latencyMs: [1, 25] },
        onTrace: (e) => e.type === 'role' && e.role === 'leader' && leaderTerms++,
      });
      const all = ids(sim);
      const random = new SeededRandom(seed).fork(8);
      const acked = new Map<string, string>();
      let crashes = 0;
      for (let iter = 0; iter < 1000; iter++) {
        if (iter >= 200 && iter % 10 === 0) {
          // Long reordering from iteration 200 on: a third of the links at a time are slow, so what they carry
          // arrives long after messages sent later on fast links (often after the next election).
          for (const from of all) for (const to of all) if (from !== to) sim.network.setLinkLatency(from, to, random.chance(1 / 3) ? [100, 1000] : [1, 25]);
        }
        // Like the lab, offer the command to every node; only a leader takes it.
        let leader: NodeId | null = null;
        for (const id of upIds(sim)) {
          const key = `i${iter}`;
          const value = `${random.intBetween(0, 9999)}`;
          const submitted = sim.submit(id, 'put', put(key, value), () => acked.set(key, value));
          if (submitted.ok) leader = id;
        }
        const waitMs = random.chance(0.1) ? random.intBetween(0, ELECTION_MAX_MS / 2) : random.intBetween(0, 12);
        sim.runUntil(sim.now + waitMs);
        if (leader !== null && sim.node(leader).raft && random.chance(0.5)) {
          sim.crash(leader);
          crashes++;
        }
        if (upIds(sim).length < 3) {
          const s = random.pick(all);
          if (!sim.node(s).raft) sim.restart(s);
        }
        if (sim.violations.length > 0) break;
      }
      expectNoViolations(sim);
      // The schedule did what it is for: leaders came and went, most of them crashed right after taking a command.
      expect(leaderTerms, `seed ${seed}`).toBeGreaterThanOrEqual(5);
      expect(crashes, `seed ${seed}`).toBeGreaterThanOrEqual(5);
      for (const from of all) for (const to of all) if (from !== to) sim.network.setLinkLatency(from, to, [1, 25]);
      converge(sim);
      one(sim, put('final', 'f'), 5, { retry: true });
      // Every put a client was told had been applied is in every state machine.
      for (const [key, value] of acked) expectEverywhere(sim, key, value);
      ackedTotal += acked.size;
      expectNoViolations(sim);
    }
    expect(ackedTotal).toBeGreaterThan(0);
  });
});

// ---- 3C: unreliable networks and churn ------------------------------------------------------------------------

describe('3C unreliable networks and churn', () => {
  it('unreliable agreement: 50 puts over a lossy, duplicating, reordering network all commit and every node converges', () => {
    const lost = new Set<number>();
    const sim = new Simulation({
      seed: 41,
      nodes: 5,
      config: { lossRatio: 0.1, duplicateRatio: 0.05, latencyMs: [1, 60] },
      onTrace: recordLost(lost),
    });
    const random = new SeededRandom(41).fork(1);
    const puts: RetryingPut[] = [];
    // Ten waves of five concurrent puts, a wave every 100 ms.
    for (let i = 0; i < 50; i++) {
      sim.at(Math.floor(i / 5) * 100, () => puts.push(putWithRetry(sim, lost, random, `u${i}`, `${i}`, { timeoutMs: 2000 })));
    }
    expect(waitFor(sim, () => puts.length === 50 && puts.every((p) => p.acked), 60_000), status(sim)).toBe(true);
    expect(puts.reduce((sum, p) => sum + p.attempts, 0)).toBeGreaterThanOrEqual(50);
    converge(sim);
    for (let i = 0; i < 50; i++) expectEverywhere(sim, `u${i}`, `${i}`);
    expectNoViolations(sim);
  });

  function churn(seed: number, config: Partial<SimConfig>): void {
    const lost = new Set<number>();
    const sim = new Simulation({ seed, nodes: 5, config, onTrace: recordLost(lost) });
    const all = ids(sim);
    const random = new SeededRandom(seed).fork(2);
    const faultyMs = 6000;
    const acked = new Map<string, string>();
    let faults = 0;

    // Three clients, each putting fresh keys one after the other, retrying until acknowledged.
    for (let c = 0; c < 3; c++) {
      let n = 0;
      const next = (): void => {
        if (sim.now >= faultyMs) return;
        const key = `c${c}-${n++}`;
        const value = `${random.intBetween(0, 1_000_000)}`;
        putWithRetry(sim, lost, random, key, value, {
          timeoutMs: 1000,
          stopAtMs: faultyMs,
          onAck: () => {
            acked.set(key, value);
            sim.at(sim.now + random.intBetween(0, 20), next);
          },
        });
      };
      sim.at(random.intBetween(0, 50), next);
    }

    // Faults: crash, restart, partition, heal, at random moments.
    for (let t = random.intBetween(50, 300); t < faultyMs; t += random.intBetween(50, 300)) {
      sim.at(t, () => {
        faults++;
        const up = upIds(sim);
        const down = all.filter((id) => !up.includes(id));
        const roll = random.next();
        if (roll < 0.2 && up.length > 0) sim.crash(random.pick(up));
        else if (roll < 0.5 && down.length > 0) sim.restart(random.pick(down));
        else if (roll < 0.7) {
          const shuffled = all.map((id) => ({ id, key: random.next() })).sort((a, b) => a.key - b.key);
          sim.network.partition([shuffled.slice(0, random.intBetween(1, 4)).map((x) => x.id)], all);
        } else if (roll < 0.85) sim.network.heal();
        else if (up.length > 0) sim.crash(sim.leader() ?? random.pick(up));
      });
    }
    sim.runUntil(faultyMs);
    expectNoViolations(sim);
    expect(faults).toBeGreaterThan(20);
    converge(sim);
    // Clients made progress through the churn, and every acknowledged put survived it.
    expect(acked.size, status(sim)).toBeGreaterThan(20);
    for (const [key, value] of acked) expectEverywhere(sim, key, value);
    expectNoViolations(sim);
  }

  it('reliable churn: random crashes, restarts and partitions under client load; the cluster converges and keeps every acknowledged put', () => {
    churn(51, {});
  });

  it('unreliable churn: the same over a lossy, duplicating, reordering network', () => {
    churn(52, { lossRatio: 0.1, duplicateRatio: 0.05, latencyMs: [1, 60] });
  });
});

// ---- The checker can fail --------------------------------------------------------------------------------------

describe('each teaching switch causes a breach the checker reports', () => {
  /**
   * 3 nodes. S1 leads term 1 and commits X with S2 alone (S3 is cut off from S1). S1 crashes; S3, whose log
   * lacks X, campaigns in term 2. S2 must refuse (§5.4.1: S3's log is behind); skipping that check elects a
   * leader without a committed entry.
   */
  function skipVoteRestriction(unsafeSkipVoteRestriction: boolean): Simulation {
    const sim = new Simulation({ seed: 61, nodes: 3, config: { latencyMs: [10, 10], electionTimeoutMs: [1000, 2000], unsafeSkipVoteRestriction } });
    sim.at(0, () => sim.timeout(1));
    sim.at(100, () => {
      sim.network.cut(1, 3);
      sim.network.cut(3, 1);
      expect(sim.submit(1, 'put', put('x', 'committed'))).toMatchObject({ ok: true, index: 2 });
    });
    sim.at(150, () => {
      expect(raft(sim, 1).commit, status(sim)).toBe(2); // X is committed: it is on S1 and S2
      expect(raft(sim, 3).log.lastIndex()).toBe(1);
      sim.crash(1);
      sim.timeout(3);
    });
    sim.runUntil(400);
    return sim;
  }

  it('unsafeSkipVoteRestriction: a node missing a committed entry wins → LeaderCompleteness', () => {
    const unsafe = skipVoteRestriction(true);
    expect(raft(unsafe, 3).role).toBe('leader');
    expect(invariantsOf(unsafe)).toContain('LeaderCompleteness');

    const safe = skipVoteRestriction(false);
    expect(raft(safe, 3).role).not.toBe('leader');
    expectNoViolations(safe);
    converge(safe);
    expectEverywhere(safe, 'x', 'committed');
    expectNoViolations(safe);
  });

  it('unsafeCommitPreviousTerms: the Figure 8 script → the committed entry is lost', () => {
    const unsafe = figure8(true).sim;
    expect(invariantsOf(unsafe).some((i) => ['StateMachineSafety', 'CommittedEntryChanged', 'LeaderCompleteness'].includes(i))).toBe(true);
    const safe = figure8(false).sim;
    expectNoViolations(safe);
    converge(safe);
    expectNoViolations(safe);
  });

  /**
   * 3 nodes. S1 and S2 campaign in term 1 at once (each refuses the other). S3 votes for S1, restarts, and then
   * S2's request reaches it (the S2→S3 link is slower). It must refuse: its vote is on disk. Forgetting it on
   * restart lets S3 vote for S2 in the same term, and both win.
   */
  function forgetVote(unsafeForgetVoteOnRestart: boolean): Simulation {
    const sim = new Simulation({ seed: 62, nodes: 3, config: { latencyMs: [10, 10], electionTimeoutMs: [1000, 2000], unsafeForgetVoteOnRestart } });
    sim.network.setLinkLatency(2, 3, [20, 20]);
    sim.at(0, () => {
      sim.timeout(1);
      sim.timeout(2);
    });
    sim.at(15, () => {
      expect(raft(sim, 3).votedFor).toBe(1);
      expect(raft(sim, 3).term).toBe(1);
      sim.crash(3);
      sim.restart(3);
    });
    sim.runUntil(100);
    return sim;
  }

  it('unsafeForgetVoteOnRestart: a voter votes for A, restarts, votes for B in the same term → ElectionSafety', () => {
    const unsafe = forgetVote(true);
    expect(invariantsOf(unsafe)).toContain('ElectionSafety');
    expect(unsafe.violations.find((v) => v.invariant === 'ElectionSafety')!.message).toContain('term 1');

    const safe = forgetVote(false);
    expect(raft(safe, 1).role).toBe('leader');
    expect(raft(safe, 2).role).not.toBe('leader');
    expect(raft(safe, 3).votedFor).toBe(1);
    expectNoViolations(safe);
    converge(safe);
    expectNoViolations(safe);
  });
});
