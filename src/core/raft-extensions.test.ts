// Beyond §5 of the paper: PreVote (thesis §9.6), CheckQuorum (thesis §6.2), leadership transfer (thesis §3.10)
// and flow control, on the harness of test-cluster.ts.
import { describe, expect, it } from 'vitest';
import { NONE, type Message, type NodeId, type PreVote } from './types.ts';
import {
  allEntries,
  checkPersistBeforeSendAfterEachTest,
  Cluster,
  eventsOf,
  lastRoleEvent,
  ofType,
  roleEvents,
  type ClusterSetup,
  type Tunables,
} from './test-cluster.ts';

checkPersistBeforeSendAfterEachTest();

const preVoteMsg = (from: NodeId, to: NodeId, term: number, lastLogIndex: number, lastLogTerm: number): PreVote => ({
  type: 'PreVote',
  from,
  to,
  term,
  lastLogIndex,
  lastLogTerm,
});

// ---- PreVote ------------------------------------------------------------------------------------------------

describe('PreVote (thesis §9.6)', () => {
  const withPreVote: ClusterSetup = { options: { preVote: true } };

  // Reference: thesis §9.6
  it('a pre-candidate asks about term + 1 but changes neither its term nor its vote, and neither do its voters', () => {
    const c = new Cluster(3, withPreVote);
    c.flushAll();
    c.node(1).timeout(c.now);
    const out = c.flush(1);
    expect(c.node(1).status()).toMatchObject({ role: 'precandidate', term: 0, votedFor: NONE });
    expect(c.member(1).readies.at(-1)!.rd.hardState).toBeNull();
    expect(c.member(1).disk.hardState).toEqual({ term: 0, votedFor: NONE });
    expect(lastRoleEvent(c, 1)).toEqual({ type: 'role', role: 'precandidate', term: 0, reason: 'forced-timeout' });
    expect(out).toEqual([preVoteMsg(1, 2, 1, 0, 0), preVoteMsg(1, 3, 1, 0, 0)]);
    for (const m of out) c.deliver(m);
    for (const id of [2, 3]) {
      expect(c.flush(id)).toEqual([{ type: 'PreVoteResponse', from: id, to: 1, term: 1, granted: true, reason: 'granted' }]);
      expect(c.node(id).status()).toMatchObject({ term: 0, votedFor: NONE });
      expect(c.member(id).readies.every((r) => r.rd.hardState === null)).toBe(true);
      expect(eventsOf(c.member(id).events, 'vote')).toEqual([expect.objectContaining({ candidate: 1, term: 1, preVote: true, granted: true, reason: 'granted' })]);
    }
  });

  // Reference: thesis §9.6
  it('a pre-candidate that wins the pre-vote campaigns for real (won-prevote) and raises its term only then', () => {
    const c = new Cluster(3, withPreVote);
    c.elect(1);
    expect(roleEvents(c, 1).map((e) => [e.role, e.term, e.reason])).toEqual([
      ['follower', 0, 'start'],
      ['precandidate', 0, 'forced-timeout'],
      ['candidate', 1, 'won-prevote'],
      ['leader', 1, 'won-election'],
    ]);
    for (const id of c.ids) expect(c.node(id).term).toBe(1);
  });

  // Reference: thesis §9.6
  it('a pre-candidate refused by a majority goes back to follower in its own term (lost-election)', () => {
    const c = new Cluster(3, withPreVote);
    c.elect(1);
    c.now = 10;
    c.node(3).timeout(c.now);
    c.deliverAll();
    expect(c.node(3).status()).toMatchObject({ role: 'follower', term: 1 });
    expect(lastRoleEvent(c, 3)).toEqual({ type: 'role', role: 'follower', term: 1, reason: 'lost-election' });
    const answers = ofType(c.sent, 'PreVoteResponse').filter((m) => m.to === 3);
    expect(answers.map((m) => [m.from, m.granted, m.reason, m.term])).toEqual([
      [1, false, 'leader-recently-seen', 1],
      [2, false, 'leader-recently-seen', 1],
    ]);
    expect(c.leaders()).toEqual([1]);
    expect(c.node(1).term).toBe(1);
  });

  /** S1 wins term 1 by itself timing out first; then S3 is cut off for two seconds. */
  function partitionedFollower(preVote: boolean): Cluster {
    const c = new Cluster(3, { options: { preVote } });
    c.run(200);
    expect(c.leaders()).toEqual([1]);
    expect(c.node(1).term).toBe(1);
    c.isolate(3);
    c.run(2000);
    return c;
  }

  // Reference: thesis §9.6
  it('a partitioned node with PreVote does not raise its term, and on rejoining does not disrupt the leader', () => {
    const c = partitionedFollower(true);
    expect(c.node(3).term).toBe(1);
    expect(roleEvents(c, 3).filter((e) => e.role === 'precandidate').length).toBeGreaterThan(5);
    expect(roleEvents(c, 3).some((e) => e.role === 'candidate')).toBe(false);
    const mark = c.member(1).events.length;
    c.heal();
    c.run(1000);
    expect(c.leaders()).toEqual([1]);
    for (const id of c.ids) expect(c.node(id).term).toBe(1);
    expect(c.node(3).status()).toMatchObject({ role: 'follower', leader: 1 });
    expect(eventsOf(c.member(1).events.slice(mark), 'role')).toEqual([]);
  });

  // Reference: thesis §9.6 (the problem PreVote solves)
  it('without PreVote the same partitioned node raises its term and deposes the leader when it rejoins', () => {
    const c = partitionedFollower(false);
    expect(c.node(3).term).toBeGreaterThan(5);
    c.heal();
    c.run(1000);
    expect(roleEvents(c, 1)).toContainEqual(expect.objectContaining({ role: 'follower', reason: 'higher-term', peer: 3 }));
    expect(c.node(1).term).toBeGreaterThan(5);
  });

  // Reference: thesis §9.6, §4.2.3
  it('a follower that heard from its leader less than the minimum election timeout ago denies pre-votes (leader-recently-seen)', () => {
    const c = new Cluster(3, withPreVote);
    c.elect(1);
    c.now = 50;
    c.node(1).tick(c.now); // heartbeat: S2 last hears from its leader at 50
    c.deliverAll();
    c.crash(1);
    const mark = c.member(2).events.length;
    const ask = (at: number) => {
      c.now = at;
      c.node(2).step(preVoteMsg(3, 2, 2, 1, 1), at);
      return c.flush(2);
    };
    expect(ask(199)).toEqual([{ type: 'PreVoteResponse', from: 2, to: 3, term: 1, granted: false, reason: 'leader-recently-seen' }]);
    expect(ask(200)).toEqual([{ type: 'PreVoteResponse', from: 2, to: 3, term: 2, granted: true, reason: 'granted' }]);
    expect(c.node(2).status()).toMatchObject({ term: 1, votedFor: 1 });
    expect(eventsOf(c.member(2).events.slice(mark), 'vote').map((e) => [e.preVote, e.granted, e.reason])).toEqual([
      [true, false, 'leader-recently-seen'],
      [true, true, 'granted'],
    ]);
  });

  // Reference: thesis §9.6
  it('a node cut off from the leader alone cannot start an election while the others still hear the leader', () => {
    const c = new Cluster(3, withPreVote);
    c.run(200);
    expect(c.leaders()).toEqual([1]);
    c.drop = (m) => (m.from === 1 && m.to === 3) || (m.from === 3 && m.to === 1);
    c.run(1000);
    expect(c.leaders()).toEqual([1]);
    for (const id of c.ids) expect(c.node(id).term).toBe(1);
    const denials = eventsOf(c.member(2).events, 'vote').filter((e) => e.candidate === 3);
    expect(denials.length).toBeGreaterThan(2);
    expect(denials.every((e) => e.preVote && !e.granted && e.reason === 'leader-recently-seen')).toBe(true);
  });
});

// ---- CheckQuorum --------------------------------------------------------------------------------------------

describe('CheckQuorum (thesis §6.2)', () => {
  const withCheckQuorum: ClusterSetup = { options: { checkQuorum: true } };

  // Reference: thesis §6.2
  it('a leader that hears from no majority for an election timeout steps down (lost-quorum)', () => {
    const c = new Cluster(3, withCheckQuorum);
    c.elect(1); // at 0, and both followers answer at 0
    c.isolate(1);
    let steppedDownAt = -1;
    while (c.now < 1000 && steppedDownAt < 0) {
      c.run(10);
      if (c.node(1).role !== 'leader') steppedDownAt = c.now;
    }
    expect(steppedDownAt).toBeGreaterThan(150); // it heard from a majority within the first election timeout
    expect(steppedDownAt).toBeLessThanOrEqual(300); // and from nobody during the second
    expect(c.node(1).status()).toMatchObject({ role: 'follower', term: 1, leader: NONE });
    expect(lastRoleEvent(c, 1)).toEqual({ type: 'role', role: 'follower', term: 1, reason: 'lost-quorum' });
  });

  // Reference: thesis §6.2
  it('a leader that still hears from a majority stays leader', () => {
    const c = new Cluster(3, withCheckQuorum);
    c.elect(1);
    c.isolate(3);
    c.run(1000);
    expect(c.node(1).status()).toMatchObject({ role: 'leader', term: 1 });
  });

  // Reference: thesis §6.2 (the switch matters)
  it('without CheckQuorum an isolated leader stays leader', () => {
    const c = new Cluster(3);
    c.elect(1);
    c.isolate(1);
    c.run(1000);
    expect(c.node(1).status()).toMatchObject({ role: 'leader', term: 1 });
  });

  // Reference: thesis §4.2.3, §6.2
  it('a follower that heard from its leader recently ignores a RequestVote with a higher term (vote-ignored)', () => {
    const c = new Cluster(3, withCheckQuorum);
    c.elect(1);
    c.now = 50;
    c.node(1).tick(c.now); // heartbeat: S2 last hears from its leader at 50
    c.deliverAll();
    c.now = 60;
    c.node(3).timeout(c.now);
    const requests = ofType(c.flush(3), 'RequestVote');
    expect(requests).toHaveLength(2);
    for (const m of requests) c.deliver(m);
    for (const id of [1, 2]) {
      expect(c.flush(id).filter((m) => m.to === 3)).toEqual([]);
      expect(eventsOf(c.member(id).events, 'vote-ignored')).toEqual([{ type: 'vote-ignored', candidate: 3, term: 2, reason: 'leader-recently-seen' }]);
      expect(c.node(id).term).toBe(1);
    }
    expect(c.node(1).role).toBe('leader');
    // Once the leader has been silent for the minimum election timeout, the same request is heard and granted.
    c.crash(1);
    const toTwo = requests.find((m) => m.to === 2)!;
    c.now = 199;
    c.deliver(toTwo);
    expect(c.flush(2)).toEqual([]);
    c.now = 200;
    c.deliver(toTwo);
    expect(ofType(c.flush(2), 'RequestVoteResponse')).toEqual([
      { type: 'RequestVoteResponse', from: 2, to: 3, term: 2, granted: true, reason: 'granted' },
    ]);
  });
});

// ---- Leadership transfer ------------------------------------------------------------------------------------

describe('Leadership transfer (thesis §3.10)', () => {
  /** S1 leads term 1 with entries 1..4; S2 missed entries 2..4. */
  function laggingTarget(options: Tunables = {}): Cluster {
    const c = new Cluster(3, { options });
    c.elect(1);
    c.isolate(2);
    for (const data of ['a', 'b', 'c']) c.node(1).propose(data, c.now);
    c.deliverAll();
    c.heal();
    expect(c.node(2).log.lastIndex()).toBe(1);
    expect(c.node(1).log.lastIndex()).toBe(4);
    return c;
  }

  const variants: [string, Tunables][] = [
    ['plain', {}],
    ['with PreVote and CheckQuorum', { preVote: true, checkQuorum: true }],
  ];

  // Reference: thesis §3.10
  it.each(variants)('(%s) the leader catches the target up, sends TimeoutNow, and the target wins the next term at once', (_name, options) => {
    const c = laggingTarget(options);
    const start = c.now;
    expect(c.node(1).transferLeadership(2, c.now)).toEqual({ ok: true });
    expect(c.node(1).status().transferTarget).toBe(2);
    c.deliverAll(); // no tick: nobody waits for an election timeout
    expect(c.now).toBe(start);
    expect(c.leaders()).toEqual([2]);
    expect(c.node(2).term).toBe(2);
    for (const id of c.ids) expect(c.node(id).leader).toBe(2);
    expect(eventsOf(c.member(1).events, 'transfer')).toEqual([
      { type: 'transfer', target: 2, phase: 'started' },
      { type: 'transfer', target: 2, phase: 'timeout-now-sent' },
      { type: 'transfer', target: 2, phase: 'completed' },
    ]);
    // TimeoutNow left only after the target acknowledged the leader's whole log.
    const sentIndex = c.sent.findIndex((m) => m.type === 'TimeoutNow');
    expect(c.sent[sentIndex]).toEqual({ type: 'TimeoutNow', from: 1, to: 2, term: 1 });
    const caughtUp = c.sent.findIndex((m) => m.type === 'AppendEntriesResponse' && m.from === 2 && m.success && m.matchIndex === 4);
    expect(caughtUp).toBeGreaterThanOrEqual(0);
    expect(caughtUp).toBeLessThan(sentIndex);
    // The target skips the pre-vote, and its RequestVote says "transfer" so that leases do not stop it.
    expect(roleEvents(c, 2).filter((e) => e.role !== 'follower')).toEqual([
      { type: 'role', role: 'candidate', term: 2, reason: 'timeout-now' },
      { type: 'role', role: 'leader', term: 2, reason: 'won-election' },
    ]);
    expect(ofType(c.sent, 'RequestVote').filter((m) => m.from === 2)).toEqual([
      expect.objectContaining({ term: 2, transfer: true, lastLogIndex: 4, lastLogTerm: 1 }),
      expect.objectContaining({ term: 2, transfer: true, lastLogIndex: 4, lastLogTerm: 1 }),
    ]);
    expect(allEntries(c.node(2)).map((e) => e.data)).toEqual(['', 'a', 'b', 'c', '']);
  });

  // Reference: thesis §3.10
  it('a transfer to a target that is already up to date sends TimeoutNow at once', () => {
    const c = new Cluster(3);
    c.elect(1);
    expect(c.node(1).transferLeadership(3, c.now)).toEqual({ ok: true });
    expect(ofType(c.flush(1), 'TimeoutNow')).toEqual([{ type: 'TimeoutNow', from: 1, to: 3, term: 1 }]);
  });

  // Reference: thesis §3.10
  it('only a leader transfers, and only to another voting member', () => {
    const c = new Cluster(3);
    c.elect(1);
    expect(c.node(2).transferLeadership(3, c.now).ok).toBe(false);
    expect(c.node(1).transferLeadership(1, c.now).ok).toBe(false);
    expect(c.node(1).transferLeadership(9, c.now).ok).toBe(false);
    expect(c.node(1).status().transferTarget).toBe(NONE);
  });

  // Reference: thesis §3.10
  it('a leader refuses proposals while a transfer is under way (transferring)', () => {
    const c = new Cluster(3);
    c.elect(1);
    c.isolate(2);
    c.node(1).transferLeadership(2, c.now);
    expect(c.node(1).propose('x', c.now)).toEqual({ ok: false, reason: 'transferring', leader: 1 });
    expect(c.node(1).log.lastIndex()).toBe(1);
  });

  // Reference: thesis §3.10
  it('a transfer to a target that cannot catch up is aborted after an election timeout, and proposals resume', () => {
    const c = laggingTarget();
    c.isolate(2);
    c.node(1).transferLeadership(2, c.now);
    c.run(140);
    expect(c.node(1).status().transferTarget).toBe(2);
    expect(c.node(1).propose('early', c.now)).toMatchObject({ ok: false, reason: 'transferring' });
    c.run(10); // the minimum election timeout has passed
    expect(c.node(1).status()).toMatchObject({ role: 'leader', term: 1, transferTarget: NONE });
    expect(eventsOf(c.member(1).events, 'transfer')).toEqual([
      { type: 'transfer', target: 2, phase: 'started' },
      { type: 'transfer', target: 2, phase: 'aborted' },
    ]);
    expect(c.node(1).propose('later', c.now)).toMatchObject({ ok: true });
  });
});

// ---- Flow control -------------------------------------------------------------------------------------------

describe('Flow control', () => {
  // Reference: etcd-io/raft progress tracking (pipelining bound); thesis §10.2.2
  it('in replicate state a leader keeps at most inflightMessagesMax unacknowledged AppendEntries per follower, each within entriesPerMessageMax', () => {
    const c = new Cluster(3, { options: { inflightMessagesMax: 2, entriesPerMessageMax: 3 } });
    c.elect(1);
    expect(c.progressOf(1, 2).state).toBe('replicate');
    const held: Message[] = [];
    c.drop = (m) => {
      if (m.type !== 'AppendEntries' || m.to !== 2) return false;
      held.push(m);
      return true;
    };
    for (let i = 0; i < 10; i++) {
      expect(c.node(1).propose(`p${i}`, c.now)).toMatchObject({ ok: true, index: i + 2 });
      c.deliverAll();
      expect(held.length).toBeLessThanOrEqual(2);
    }
    expect(held).toHaveLength(2);
    expect(c.progressOf(1, 2)).toMatchObject({ state: 'replicate', inflight: 2 });
    expect(c.node(1).commit).toBe(11); // S3 kept up, so the cluster is not slowed down
    // Let S2's messages through one by one: each answer frees a slot, and only then does another message leave.
    while (held.length > 0) {
      c.node(2).step(held.shift()!, c.now);
      c.deliverAll();
      expect(held.length).toBeLessThanOrEqual(2);
    }
    const toTwo = ofType(c.sent, 'AppendEntries').filter((m) => m.to === 2 && m.entries.length > 0);
    for (const m of toTwo) expect(m.entries.length).toBeLessThanOrEqual(3);
    expect(toTwo.slice(1).map((m) => m.entries.map((e) => e.index))).toEqual([[2], [3], [4, 5, 6], [7, 8, 9], [10, 11]]);
    expect(allEntries(c.node(2))).toEqual(allEntries(c.node(1)));
    expect(c.progressOf(1, 2)).toMatchObject({ match: 11, inflight: 0 });
  });

  // Reference: etcd-io/raft MaxSizePerMsg
  it('entries per message also stay within bytesPerMessageMax, but a single large entry still goes', () => {
    const c = new Cluster(3, { options: { bytesPerMessageMax: 10 } });
    c.elect(1);
    c.isolate(2);
    for (const data of ['aaaa', 'bbbb', 'cccc', 'dddddddddddddddd', 'ee']) c.node(1).propose(data, c.now);
    c.deliverAll();
    c.heal();
    c.run(200);
    const batches = ofType(c.sent, 'AppendEntries')
      .filter((m) => m.to === 2 && m.entries.length > 0 && m.entries[0]!.index > 1)
      .map((m) => m.entries.map((e) => e.data));
    // Sent while S2 was cut off (pipelined), then again once it was back.
    expect(batches).toEqual([
      ['aaaa', 'bbbb'],
      ['cccc'],
      ['dddddddddddddddd'],
      ['ee'],
      ['aaaa', 'bbbb'],
      ['cccc'],
      ['dddddddddddddddd'],
      ['ee'],
    ]);
    for (const batch of batches) expect(batch.length === 1 || batch.join('').length <= 10).toBe(true);
    expect(allEntries(c.node(2))).toEqual(allEntries(c.node(1)));
  });

  // Reference: etcd-io/raft MaxCommittedSizePerReady
  it('committed entries reach the state machine in order, at most applyBatchMax per Ready', () => {
    const c = new Cluster(3, { options: { applyBatchMax: 2 } });
    c.elect(1);
    for (let i = 0; i < 6; i++) c.node(1).propose(`p${i}`, c.now);
    c.deliverAll();
    expect(c.node(1).commit).toBe(7);
    const batches = c.member(1).readies.map((r) => r.rd.committedEntries.map((e) => e.index)).filter((b) => b.length > 0);
    expect(batches.every((b) => b.length <= 2)).toBe(true);
    expect(batches.flat()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(c.node(1).lastApplied).toBe(7);
  });

  // Reference: etcd-io/raft MaxUncommittedEntriesSize
  it('a leader refuses proposals beyond uncommittedEntriesMax (overloaded) until entries commit', () => {
    const c = new Cluster(3, { options: { uncommittedEntriesMax: 3 } });
    c.elect(1);
    expect(c.node(1).commit).toBe(1);
    c.isolate(1);
    for (let i = 0; i < 3; i++) expect(c.node(1).propose(`p${i}`, c.now)).toMatchObject({ ok: true });
    expect(c.node(1).propose('one too many', c.now)).toEqual({ ok: false, reason: 'overloaded', leader: 1 });
    expect(c.node(1).log.lastIndex()).toBe(4);
    c.heal();
    c.run(60);
    expect(c.node(1).commit).toBe(4);
    expect(c.node(1).propose('fits again', c.now)).toMatchObject({ ok: true, index: 5 });
  });
});

// ---- Safety holes found in review ---------------------------------------------------------------------------

describe('lease reads and membership changes: holes closed', () => {
  const leaseOptions = { checkQuorum: true, readMode: 'lease' as const };
  const readsVia = (c: Cluster, id: NodeId) => eventsOf(c.member(id).events, 'read').map((e) => e.via);

  // Reference: thesis §3.10, §6.4.1
  it('after sending TimeoutNow a leader never trusts its lease again in that term, even once the transfer is aborted', () => {
    const c = new Cluster(3, { options: leaseOptions });
    c.elect(1);
    c.run(100);
    const held: Message[] = [];
    c.drop = (m) => {
      if (m.type !== 'TimeoutNow') return false;
      held.push(m);
      return true;
    };
    expect(c.node(1).transferLeadership(2, c.now)).toEqual({ ok: true });
    c.deliverAll();
    expect(held).toHaveLength(1);
    c.run(200); // the transfer is aborted after an election timeout; heartbeat rounds go on
    expect(c.node(1).status()).toMatchObject({ role: 'leader', transferTarget: NONE });
    c.node(1).readIndex(7, c.now);
    c.flush(1);
    // The late TimeoutNow could still make S2 win past the voters' leases: no lease, a heartbeat round instead.
    expect(readsVia(c, 1)).not.toContain('lease');
  });

  // Reference: thesis §6.4.1
  it('a voter that restarts waits out the lease it may have granted before it votes', () => {
    const c = new Cluster(3, { options: leaseOptions });
    c.elect(1);
    c.run(100);
    c.crash(2);
    c.restart(2);
    c.isolate(1);
    c.node(3).timeout(c.now);
    c.deliverAll();
    // S2 forgot hearing from S1, but it has only just started: it ignores the vote request.
    expect(c.node(3).role).toBe('candidate');
    expect(eventsOf(c.member(2).events, 'vote-ignored')).toEqual([{ type: 'vote-ignored', candidate: 3, term: 2, reason: 'leader-recently-seen' }]);
  });

  // Reference: thesis §4.1; the single-server bug reported on raft-dev in 2015
  it('a new leader proposes no configuration change before an entry of its own term commits', () => {
    const c = new Cluster(3);
    c.elect(1);
    c.run(100);
    c.drop = (m) => m.from === 2 && m.type === 'AppendEntries'; // S2's no-op cannot reach anyone
    c.node(2).timeout(c.now);
    c.deliverAll();
    const leader = c.node(2);
    expect(leader.role).toBe('leader');
    expect(leader.proposeConfigChange({ type: 'remove', node: 1 }, c.now)).toEqual({ ok: false, reason: 'config-change-pending', leader: 2 });
    c.drop = () => false;
    c.run(100); // the no-op of term 2 commits
    expect(leader.proposeConfigChange({ type: 'remove', node: 1 }, c.now)).toMatchObject({ ok: true });
  });
});

describe('a leader writing its log in parallel with its followers (reportsPersistence, thesis §10.2.1)', () => {
  const parallel: ClusterSetup = { options: { reportsPersistence: true } };

  it('counts itself toward a commit only for what the host reported durable', () => {
    const c = new Cluster(3, parallel);
    c.elect(1);
    const leader = c.node(1);
    leader.persisted(leader.status().lastLogIndex, leader.status().lastLogTerm, c.now);
    c.deliverAll();
    const before = leader.status().commitIndex;
    const proposed = leader.propose('x', c.now);
    expect(proposed.ok).toBe(true);
    const index = (proposed as { index: number }).index;
    // Only S2 acknowledges: with the leader's own copy not yet durable, one durable copy of three is no majority.
    c.drop = (m) => m.from === 3 || m.to === 3;
    c.deliverAll();
    expect(leader.status().commitIndex).toBe(before);
    // The leader's disk write completes: two durable copies of three.
    leader.persisted(index, leader.status().term, c.now);
    c.flush(1);
    expect(leader.status().commitIndex).toBe(index);
  });

  it('commits on two durable followers without its own write, and ignores a report for an entry since replaced', () => {
    const c = new Cluster(3, parallel);
    c.elect(1);
    c.deliverAll();
    const leader = c.node(1);
    const proposed = leader.propose('y', c.now) as { index: number; term: number };
    c.deliverAll();
    expect(leader.status().commitIndex).toBe(proposed.index);
    // A report naming another term at that index is not about this entry.
    const durableBefore = leader.status().commitIndex;
    leader.persisted(proposed.index, proposed.term + 5, c.now);
    expect(leader.status().commitIndex).toBe(durableBefore);
  });

  it('without the option, a leader counts its own log at once (the host persists before advance)', () => {
    const c = new Cluster(3);
    c.elect(1);
    c.deliverAll();
    const leader = c.node(1);
    const proposed = leader.propose('z', c.now) as { index: number };
    c.drop = (m) => m.from === 3 || m.to === 3;
    c.deliverAll();
    expect(leader.status().commitIndex).toBe(proposed.index);
  });
});
