// The claims of the extended Raft paper, §5, one test each (in the spirit of etcd-io/raft's raft_paper_test.go).
// Every test drives real RaftNodes through the host contract: after any input, drain ready(), persist its hard
// state and entries, send its messages, apply its committed entries, advance() (test-cluster.ts).
import { describe, expect, it } from 'vitest';
import { SAFE } from './raft-node.ts';
import { SeededRandom } from './random.ts';
import { NONE, type Message, type NodeId } from './types.ts';
import {
  ae,
  allEntries,
  checkPersistBeforeSendAfterEachTest,
  Cluster,
  entry,
  eventsOf,
  hb,
  lastRoleEvent,
  logOf,
  ofType,
  roleEvents,
  rv,
  termsOf,
} from './test-cluster.ts';

checkPersistBeforeSendAfterEachTest();

/** Figure 7 of the paper: the leader's log (term 8 is about to start) and six possible follower logs. */
const FIGURE_7_LEADER = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
const FIGURE_7_FOLLOWERS: Record<string, number[]> = {
  'a (missing entries)': [1, 1, 1, 4, 4, 5, 5, 6, 6],
  'b (missing many entries)': [1, 1, 1, 4],
  'c (an extra entry of the current term)': [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
  'd (extra entries of a later term)': [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
  'e (missing entries and extra entries of term 4)': [1, 1, 1, 4, 4, 4, 4],
  'f (extra entries of terms 2 and 3)': [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
};

// ---- §5.1 ---------------------------------------------------------------------------------------------------

describe('§5.1 Raft basics: terms', () => {
  type RoleName = 'follower' | 'candidate' | 'leader';

  /** A 3-node cluster in term 1 where S1 plays `role`. */
  function withNodeOneAs(role: RoleName): Cluster {
    const c = new Cluster(3);
    if (role === 'follower') c.elect(2);
    if (role === 'leader') c.elect(1);
    if (role === 'candidate') {
      c.isolate(1);
      c.node(1).timeout(c.now);
      c.deliverAll();
      c.heal();
    }
    expect(c.node(1).role).toBe(role);
    expect(c.node(1).term).toBe(1);
    return c;
  }

  // Messages from S3 carrying term 5, one of each kind whose term is a real term (a PreVote's is not).
  const higherTermMessages: Message[] = [
    ae(3, 1, 5, 0, 0, []),
    hb(3, 1, 5),
    rv(3, 1, 5, 10, 4),
    { type: 'RequestVoteResponse', from: 3, to: 1, term: 5, granted: false, reason: 'stale-term' },
    { type: 'PreVoteResponse', from: 3, to: 1, term: 5, granted: false, reason: 'stale-term' },
    { type: 'AppendEntriesResponse', from: 3, to: 1, term: 5, success: false, matchIndex: 0, conflictTerm: 0, conflictIndex: 0, reason: 'stale-term' },
    { type: 'HeartbeatResponse', from: 3, to: 1, term: 5, round: 1 },
  ];
  const cases = (['follower', 'candidate', 'leader'] as const).flatMap((role) => higherTermMessages.map((m) => [role, m.type, m] as const));

  // Reference: §5.1
  it.each(cases)('a %s that sees a higher term in a %s adopts the term and becomes a follower (reason higher-term)', (role, type, m) => {
    const c = withNodeOneAs(role);
    c.node(1).step(m, c.now);
    c.flush(1);
    const n = c.node(1);
    expect(n.term).toBe(5);
    expect(n.role).toBe('follower');
    // Only a leader's own messages name a leader; a RequestVote this up-to-date also wins the vote.
    expect(n.leader).toBe(type === 'AppendEntries' || type === 'Heartbeat' ? 3 : NONE);
    expect(n.votedFor).toBe(type === 'RequestVote' ? 3 : NONE);
    expect(c.member(1).disk.hardState.term).toBe(5);
    expect(lastRoleEvent(c, 1)).toEqual({ type: 'role', role: 'follower', term: 5, reason: 'higher-term', peer: 3 });
  });

  // Reference: §5.1
  it('a node rejects requests with a stale term, answers with its own term, and changes nothing', () => {
    const c = new Cluster(3, { stored: { 1: { term: 3, log: logOf(1, 2) } } });
    c.flushAll();
    const n = c.node(1);
    const deadline = n.nextDeadlineMs();
    c.now = 10;
    n.step(ae(2, 1, 2, 2, 2, [entry(3, 2)], 3), c.now);
    n.step(hb(2, 1, 2, 2), c.now);
    n.step(rv(3, 1, 2, 5, 2), c.now);
    n.step({ type: 'PreVote', from: 3, to: 1, term: 2, lastLogIndex: 5, lastLogTerm: 2 }, c.now);
    n.step({ type: 'TimeoutNow', from: 2, to: 1, term: 2 }, c.now); // from a deposed leader: no election
    const out = c.flush(1);
    expect(out).toHaveLength(4);
    expect(out[0]).toMatchObject({ type: 'AppendEntriesResponse', from: 1, to: 2, term: 3, success: false, reason: 'stale-term' });
    expect(out[1]).toMatchObject({ type: 'HeartbeatResponse', from: 1, to: 2, term: 3 });
    expect(out[2]).toMatchObject({ type: 'RequestVoteResponse', from: 1, to: 3, term: 3, granted: false, reason: 'stale-term' });
    expect(out[3]).toMatchObject({ type: 'PreVoteResponse', from: 1, to: 3, term: 3, granted: false, reason: 'stale-term' });
    expect(n.status()).toMatchObject({ role: 'follower', term: 3, votedFor: NONE, leader: NONE, commitIndex: 0, lastLogIndex: 2 });
    expect(n.nextDeadlineMs()).toBe(deadline); // a stale leader does not hold off our election
    expect(eventsOf(c.member(1).events, 'append')).toEqual([
      expect.objectContaining({ leader: 2, term: 2, success: false, reason: 'stale-term' }),
    ]);
    expect(eventsOf(c.member(1).events, 'vote')).toEqual([
      expect.objectContaining({ candidate: 3, term: 2, preVote: false, granted: false, reason: 'stale-term' }),
      expect.objectContaining({ candidate: 3, term: 2, preVote: true, granted: false, reason: 'stale-term' }),
    ]);
  });

  // Reference: §5.1
  it('a deposed leader cannot commit, learns the new term from an answer, and steps down', () => {
    const c = new Cluster(3);
    c.elect(1);
    c.isolate(1);
    const stale = c.node(1).propose('lost', c.now);
    expect(stale).toMatchObject({ ok: true, index: 2, term: 1 });
    c.deliverAll();
    c.partition([2, 3]);
    c.elect(2);
    c.node(2).propose('kept', c.now);
    c.deliverAll();
    c.heal();
    expect(c.node(1).role).toBe('leader'); // it does not know yet
    expect(c.node(1).commit).toBe(1);
    c.run(120);
    expect(c.node(1).role).toBe('follower');
    expect(c.node(1).term).toBe(2);
    expect(roleEvents(c, 1)).toContainEqual(expect.objectContaining({ role: 'follower', term: 2, reason: 'higher-term' }));
    // Its uncommitted entry was replaced by the new leader's log.
    expect(allEntries(c.node(1))).toEqual(allEntries(c.node(2)));
    expect(allEntries(c.node(1)).map((e) => e.data)).not.toContain('lost');
    expect(c.member(1).applied.map((e) => e.data)).toContain('kept');
  });
});

// ---- §5.2 ---------------------------------------------------------------------------------------------------

describe('§5.2 Leader election', () => {
  // Reference: §5.2
  it('a follower that hears nothing for an election timeout increments its term, votes for itself and asks every other node', () => {
    const c = new Cluster(3, { stored: { 1: { term: 2, log: logOf(1, 1, 2) }, 2: { term: 2 }, 3: { term: 2 } } });
    c.flushAll();
    const n = c.node(1);
    expect(n.nextDeadlineMs()).toBe(150);
    c.now = 149;
    n.tick(c.now);
    expect(n.role).toBe('follower');
    expect(c.flush(1)).toEqual([]);
    c.now = 150;
    n.tick(c.now);
    const out = c.flush(1);
    expect(n.status()).toMatchObject({ role: 'candidate', term: 3, votedFor: 1 });
    expect(c.member(1).disk.hardState).toEqual({ term: 3, votedFor: 1 });
    expect(lastRoleEvent(c, 1)).toEqual({ type: 'role', role: 'candidate', term: 3, reason: 'election-timeout' });
    expect(out).toEqual([
      { type: 'RequestVote', from: 1, to: 2, term: 3, lastLogIndex: 3, lastLogTerm: 2, transfer: false },
      { type: 'RequestVote', from: 1, to: 3, term: 3, lastLogIndex: 3, lastLogTerm: 2, transfer: false },
    ]);
  });

  // Reference: §5.2
  it('a forced timeout starts an election the same way (reason forced-timeout); a node starts with reason start', () => {
    const c = new Cluster(3);
    c.flushAll();
    expect(roleEvents(c, 2)).toEqual([{ type: 'role', role: 'follower', term: 0, reason: 'start' }]);
    c.node(2).timeout(c.now);
    c.flush(2);
    expect(lastRoleEvent(c, 2)).toEqual({ type: 'role', role: 'candidate', term: 1, reason: 'forced-timeout' });
  });

  // Reference: §5.2
  it('a candidate with votes from a majority becomes leader and sends AppendEntries to every other node', () => {
    const c = new Cluster(5);
    c.crash(4);
    c.crash(5);
    c.node(1).timeout(c.now);
    c.deliverAll();
    const n = c.node(1);
    expect(n.status()).toMatchObject({ role: 'leader', term: 1, leader: 1 });
    const grants = ofType(c.sent, 'RequestVoteResponse').filter((m) => m.to === 1 && m.granted);
    expect(grants.map((m) => m.from).sort()).toEqual([2, 3]);
    expect(lastRoleEvent(c, 1)).toEqual({ type: 'role', role: 'leader', term: 1, reason: 'won-election' });
    const appends = ofType(c.sent, 'AppendEntries').filter((m) => m.from === 1);
    expect(appends.map((m) => m.to).sort()).toEqual([2, 3, 4, 5]); // the crashed ones too: it cannot know
    for (const m of appends) {
      expect(m).toMatchObject({ term: 1, prevLogIndex: 0, prevLogTerm: 0 });
      expect(m.entries).toEqual([{ index: 1, term: 1, type: 'noop', data: '' }]);
    }
  });

  // Reference: §5.2
  it('a candidate without a majority stays a candidate', () => {
    const c = new Cluster(5);
    c.crash(3);
    c.crash(4);
    c.crash(5);
    c.node(1).timeout(c.now);
    c.deliverAll();
    expect(c.node(1).role).toBe('candidate');
    expect(c.node(1).status().votesGranted).toHaveLength(2);
    expect(ofType(c.sent, 'AppendEntries')).toEqual([]);
  });

  // Reference: §5.2
  it('a candidate that hears AppendEntries from a leader of its own term becomes its follower (reason leader-discovered)', () => {
    const c = new Cluster(3);
    c.node(1).timeout(c.now);
    c.node(2).timeout(c.now);
    // S2 never learns how its own election went: only S1's AppendEntries can tell it.
    c.drop = (m) => m.to === 2 && m.type === 'RequestVoteResponse';
    c.deliverAll();
    expect(c.node(1).role).toBe('leader');
    expect(c.node(2).status()).toMatchObject({ role: 'follower', term: 1, leader: 1, votedFor: 2 });
    expect(roleEvents(c, 2).map((e) => e.role)).toEqual(['follower', 'candidate', 'follower']);
    expect(lastRoleEvent(c, 2)).toEqual({ type: 'role', role: 'follower', term: 1, reason: 'leader-discovered', peer: 1 });
    expect(allEntries(c.node(2))).toEqual(allEntries(c.node(1)));
  });

  // Reference: §5.2
  it('a candidate whose election times out (split vote) starts a new election in a higher term', () => {
    const c = new Cluster(3);
    c.crash(3);
    c.node(1).timeout(0);
    c.node(2).timeout(0);
    c.deliverAll(); // each votes for itself and denies the other
    expect(c.node(1).role).toBe('candidate');
    expect(c.node(2).role).toBe('candidate');
    expect(c.node(1).nextDeadlineMs()).toBe(150);
    c.now = 150;
    c.tickAll();
    expect(c.node(1).term).toBe(2);
    c.deliverAll();
    expect(lastRoleEvent(c, 1)).toEqual({ type: 'role', role: 'leader', term: 2, reason: 'won-election' });
    expect(roleEvents(c, 1)).toContainEqual({ type: 'role', role: 'candidate', term: 2, reason: 'election-timeout' });
    expect(c.node(2).status()).toMatchObject({ role: 'follower', term: 2, votedFor: 1, leader: 1 });
  });

  // Reference: §5.2
  it('a majority denying its vote sends a candidate back to follower (reason lost-election); §5.4.1 is why here', () => {
    const c = new Cluster(3);
    c.elect(1);
    c.isolate(3);
    c.node(1).propose('x', c.now);
    c.deliverAll();
    c.heal();
    c.node(3).timeout(c.now);
    c.deliverAll();
    expect(c.node(3).status()).toMatchObject({ role: 'follower', term: 2, votedFor: 3 });
    expect(lastRoleEvent(c, 3)).toEqual({ type: 'role', role: 'follower', term: 2, reason: 'lost-election' });
    const denials = ofType(c.sent, 'RequestVoteResponse').filter((m) => m.to === 3);
    expect(denials.map((m) => [m.from, m.granted, m.reason])).toEqual([
      [1, false, 'log-behind'],
      [2, false, 'log-behind'],
    ]);
  });

  // Reference: §5.2
  it('a node grants at most one vote per term, first come first served, and grants it again to the same candidate', () => {
    const c = new Cluster(3);
    c.node(1).timeout(0);
    c.node(2).timeout(0);
    const fromOne = c.flush(1).find((m) => m.to === 3)!;
    const fromTwo = c.flush(2).find((m) => m.to === 3)!;
    c.deliver(fromOne);
    c.deliver(fromTwo);
    c.deliver(fromOne); // a retry
    const answers = ofType(c.flush(3), 'RequestVoteResponse');
    expect(answers.map((m) => [m.to, m.term, m.granted, m.reason])).toEqual([
      [1, 1, true, 'granted'],
      [2, 1, false, 'already-voted'],
      [1, 1, true, 'granted'],
    ]);
    expect(c.node(3).votedFor).toBe(1);
    expect(eventsOf(c.member(3).events, 'vote').map((e) => [e.candidate, e.granted, e.reason])).toEqual([
      [1, true, 'granted'],
      [2, false, 'already-voted'],
      [1, true, 'granted'],
    ]);
  });

  // Reference: §5.2
  it('a node that already follows the leader of a term denies other candidates of that term (reason has-leader)', () => {
    const c = new Cluster(5);
    c.node(1).timeout(0);
    c.node(5).timeout(0);
    const fromOne = c.flush(1);
    const fromFive = c.flush(5);
    c.drop = (m) => m.type === 'RequestVote' && m.from === 1 && m.to === 4;
    for (const m of fromOne) c.deliver(m);
    c.drop = (m) => m.from === 5 || m.to === 5;
    c.deliverAll(); // S1 wins with S2 and S3; S4 learns of it from S1's AppendEntries without having voted
    expect(c.node(1).role).toBe('leader');
    expect(c.node(4).status()).toMatchObject({ role: 'follower', term: 1, leader: 1, votedFor: NONE });
    c.drop = () => false;
    c.deliver(fromFive.find((m) => m.to === 4)!);
    expect(ofType(c.flush(4), 'RequestVoteResponse')).toEqual([
      { type: 'RequestVoteResponse', from: 4, to: 5, term: 1, granted: false, reason: 'has-leader' },
    ]);
    expect(c.node(4).votedFor).toBe(NONE);
  });

  // Reference: §5.2
  it('election timeouts are drawn at random from the configured range', () => {
    const c = new Cluster(3, { random: (id) => new SeededRandom(2024).fork(id) });
    const n = c.node(2);
    const drawn: number[] = [];
    for (let i = 1; i <= 2000; i++) {
      c.now = i * 10;
      n.step(hb(1, 2, 1), c.now); // every word from the leader restarts the timer with a fresh draw
      const status = n.status();
      expect(status.electionDeadlineMs).toBe(c.now + status.electionTimeoutMs);
      drawn.push(status.electionTimeoutMs);
      c.flush(2);
    }
    expect(Math.min(...drawn)).toBeGreaterThanOrEqual(150);
    expect(Math.max(...drawn)).toBeLessThanOrEqual(300);
    expect(drawn.every(Number.isInteger)).toBe(true);
    expect(new Set(drawn).size).toBeGreaterThan(120); // 151 possible values
    expect(Math.min(...drawn)).toBeLessThan(155);
    expect(Math.max(...drawn)).toBeGreaterThan(295);
    const mean = drawn.reduce((a, b) => a + b, 0) / drawn.length;
    expect(mean).toBeGreaterThan(215);
    expect(mean).toBeLessThan(235);
    // Different nodes draw different timeouts, which is what makes split votes rare.
    const five = new Cluster(5, { random: (id) => new SeededRandom(2024).fork(id) });
    expect(new Set(five.ids.map((id) => five.node(id).nextDeadlineMs())).size).toBeGreaterThan(1);
  });

  // Reference: §5.2
  it('a leader sends a heartbeat to every follower every heartbeatMs', () => {
    const c = new Cluster(3);
    c.elect(1);
    const n = c.node(1);
    expect(n.nextDeadlineMs()).toBe(50);
    for (const [round, at] of [[1, 50], [2, 100], [3, 150]] as const) {
      c.now = at - 1;
      n.tick(c.now);
      expect(ofType(c.flush(1), 'Heartbeat')).toEqual([]);
      c.now = at;
      n.tick(c.now);
      const beats = ofType(c.flush(1), 'Heartbeat');
      // Each broadcast is a numbered round (thesis §6.4 uses the answers to confirm leadership).
      expect(beats).toEqual([
        { type: 'Heartbeat', from: 1, to: 2, term: 1, leaderCommit: 1, round },
        { type: 'Heartbeat', from: 1, to: 3, term: 1, leaderCommit: 1, round },
      ]);
      expect(n.nextDeadlineMs()).toBe(at + 50);
      for (const m of beats) c.deliver(m);
      c.deliverAll();
    }
  });

  // Reference: §5.2
  it.each(['Heartbeat', 'AppendEntries'] as const)('a follower resets its election timer when it hears a %s from the leader', (kind) => {
    const c = new Cluster(3);
    c.elect(1); // at 0: S2's timer now ends at 0 + 160
    expect(c.node(2).nextDeadlineMs()).toBe(160);
    c.now = 50;
    if (kind === 'Heartbeat') c.node(1).tick(c.now);
    else c.node(1).propose('x', c.now);
    const delivered = c.deliverAll();
    expect(delivered.some((m) => m.type === kind && m.to === 2)).toBe(true);
    c.isolate(1);
    const n = c.node(2);
    expect(n.nextDeadlineMs()).toBe(210);
    for (const at of [160, 209]) {
      c.now = at;
      n.tick(at);
      expect(n.role).toBe('follower');
    }
    c.now = 210;
    n.tick(210);
    expect(n.role).toBe('candidate');
  });

  // Reference: §5.2 (Figure 2: only "AppendEntries RPC from current leader or granting vote to candidate" restarts the timer)
  it('granting a vote resets the election timer; denying one does not, even when the request brings a newer term', () => {
    const c = new Cluster(3, { stored: { 1: { term: 1, log: logOf(1) }, 2: { term: 1 }, 3: { term: 1, log: logOf(1) } } });
    c.flushAll();
    expect(c.node(3).nextDeadlineMs()).toBe(170);
    // At 20, S2 (empty log) asks S3 for term 2 and is denied: S3 moves to term 2, and its timer keeps running.
    c.now = 20;
    c.node(2).timeout(c.now);
    const fromTwo = c.flush(2).find((m) => m.to === 3)!;
    c.deliver(fromTwo);
    expect(ofType(c.flush(3), 'RequestVoteResponse')[0]).toMatchObject({ granted: false, reason: 'log-behind', term: 2 });
    expect(c.node(3).term).toBe(2);
    expect(c.node(3).nextDeadlineMs()).toBe(170);
    // At 100, S1 asks S3 in that same term 2: S3 grants, and the grant restarts its timer.
    c.now = 100;
    c.node(1).timeout(c.now);
    c.deliver(c.flush(1).find((m) => m.to === 3)!);
    expect(ofType(c.flush(3), 'RequestVoteResponse')[0]).toMatchObject({ granted: true, term: 2 });
    expect(c.node(3).nextDeadlineMs()).toBe(270);
    // At 150, S2 retries: denied (already voted), and the timer stays.
    c.now = 150;
    c.deliver(fromTwo);
    expect(ofType(c.flush(3), 'RequestVoteResponse')[0]).toMatchObject({ granted: false, reason: 'already-voted' });
    expect(c.node(3).nextDeadlineMs()).toBe(270);
    c.now = 170;
    c.node(3).tick(c.now);
    expect(c.node(3).role).toBe('follower');
    c.now = 270;
    c.node(3).tick(c.now);
    expect(c.node(3).status()).toMatchObject({ role: 'candidate', term: 3 });
  });
});

// ---- §5.3 ---------------------------------------------------------------------------------------------------

describe('§5.3 Log replication', () => {
  // Reference: §5.3
  it('a leader appends a proposal to its log and sends it to every follower', () => {
    const c = new Cluster(3);
    c.elect(1);
    const result = c.node(1).propose('x', c.now);
    expect(result).toEqual({ ok: true, index: 2, term: 1 });
    const out = c.flush(1);
    const stored = c.member(1).readies.at(-1)!.rd.entries;
    expect(stored).toEqual([{ index: 2, term: 1, type: 'command', data: 'x' }]);
    expect(c.member(1).disk.entries.at(-1)).toEqual({ index: 2, term: 1, type: 'command', data: 'x' });
    expect(eventsOf(c.member(1).events, 'propose').at(-1)).toEqual({ type: 'propose', index: 2, term: 1 });
    expect(ofType(out, 'AppendEntries')).toEqual([
      { type: 'AppendEntries', from: 1, to: 2, term: 1, prevLogIndex: 1, prevLogTerm: 1, entries: stored, leaderCommit: 1 },
      { type: 'AppendEntries', from: 1, to: 3, term: 1, prevLogIndex: 1, prevLogTerm: 1, entries: stored, leaderCommit: 1 },
    ]);
    // Only the leader accepts proposals.
    expect(c.node(2).propose('y', c.now)).toEqual({ ok: false, reason: 'not-leader', leader: 1 });
  });

  // Reference: §5.3
  it('an entry is committed once a majority stores it, and the leader then applies it', () => {
    const c = new Cluster(5);
    c.elect(1);
    expect(c.node(1).commit).toBe(1);
    c.node(1).propose('x', c.now);
    const out = ofType(c.flush(1), 'AppendEntries');
    const reply = (to: NodeId) => {
      c.deliver(out.find((m) => m.to === to)!);
      for (const m of c.flush(to)) c.deliver(m);
      c.flush(1);
    };
    reply(2); // leader + S2: 2 of 5
    expect(c.node(1).commit).toBe(1);
    expect(c.member(1).applied.map((e) => e.data)).not.toContain('x');
    reply(3); // leader + S2 + S3: 3 of 5
    expect(c.node(1).commit).toBe(2);
    expect(c.member(1).applied.at(-1)).toEqual({ index: 2, term: 1, type: 'command', data: 'x' });
    expect(c.node(1).lastApplied).toBe(2);
    expect(eventsOf(c.member(1).events, 'commit').at(-1)).toEqual({ type: 'commit', index: 2, term: 1 });
  });

  // Reference: §5.3
  it('followers learn the commit index from the leader and apply the committed entries', () => {
    const c = new Cluster(5);
    c.elect(1);
    c.isolate(4, 5);
    c.node(1).propose('x', c.now);
    c.deliverAll();
    expect(c.node(1).commit).toBe(2);
    expect(c.node(2).commit).toBeLessThan(2); // not told yet
    c.heal();
    c.now += 50;
    c.node(1).tick(c.now);
    const beats = ofType(c.flush(1), 'Heartbeat');
    // A heartbeat never promises a follower more than it is known to hold.
    expect(beats.map((m) => [m.to, m.leaderCommit])).toEqual([
      [2, 2],
      [3, 2],
      [4, 1],
      [5, 1],
    ]);
    for (const m of beats) c.deliver(m);
    c.deliverAll();
    c.run(60); // S4 and S5 are brought up to date, and told
    for (const id of c.ids) {
      expect(c.node(id).commit).toBe(2);
      expect(c.member(id).applied.map((e) => e.data)).toEqual(['', 'x']);
    }
  });

  // Reference: §5.3
  it('a follower rejects AppendEntries whose previous entry it lacks or holds with another term, with conflict hints', () => {
    const c = new Cluster(3, { stored: { 2: { term: 2, log: logOf(1, 1, 2, 2) } } });
    c.flushAll();
    const n = c.node(2);
    const before = allEntries(n);
    n.step(ae(1, 2, 3, 6, 3, [entry(7, 3)]), c.now); // no entry at 6
    n.step(ae(1, 2, 3, 4, 3, [entry(5, 3)]), c.now); // entry 4 is of term 2, first of term 2 is 3
    n.step(ae(1, 2, 3, 2, 2, [entry(3, 3)]), c.now); // entry 2 is of term 1, first of term 1 is 1
    const answers = ofType(c.flush(2), 'AppendEntriesResponse');
    expect(answers.map((m) => [m.success, m.matchIndex, m.conflictTerm, m.conflictIndex, m.reason, m.term])).toEqual([
      [false, 6, 0, 5, 'missing-entry', 3],
      [false, 4, 2, 3, 'term-mismatch', 3],
      [false, 2, 1, 1, 'term-mismatch', 3],
    ]);
    expect(allEntries(n)).toEqual(before);
    expect(n.status()).toMatchObject({ role: 'follower', term: 3, leader: 1 });
    expect(eventsOf(c.member(2).events, 'append').map((e) => [e.prevLogIndex, e.success, e.reason])).toEqual([
      [6, false, 'missing-entry'],
      [4, false, 'term-mismatch'],
      [2, false, 'term-mismatch'],
    ]);
  });

  // Reference: §5.3
  it('a follower deletes a conflicting entry and all that follow it, and appends the new ones', () => {
    const c = new Cluster(3, { stored: { 2: { term: 2, log: logOf(1, 1, 2, 2) } } });
    c.flushAll();
    const n = c.node(2);
    // Entry 2 matches (kept); entry 3 conflicts (removed with entry 4); entries 3 and 4 of term 3 replace them.
    n.step(ae(1, 2, 3, 1, 1, [entry(2, 1), entry(3, 3), entry(4, 3)], 0), c.now);
    const answers = ofType(c.flush(2), 'AppendEntriesResponse');
    expect(answers).toEqual([expect.objectContaining({ success: true, matchIndex: 4, reason: 'ok' })]);
    expect(allEntries(n)).toEqual([entry(1, 1), entry(2, 1), entry(3, 3), entry(4, 3)]);
    expect(c.member(2).disk.entries).toEqual(allEntries(n));
    expect(eventsOf(c.member(2).events, 'append').at(-1)).toMatchObject({ success: true, reason: 'ok', truncatedFrom: 3, entries: 3 });
  });

  // Reference: §5.3
  it('a leader backs nextIndex up after a rejection and retries until the logs match', () => {
    const c = new Cluster(3, { stored: { 1: { term: 7, log: logOf(...FIGURE_7_LEADER) }, 2: { term: 7, log: logOf(1, 1, 1, 4) }, 3: { term: 7 } } });
    c.drop = (m) => m.from === 2 || m.to === 2;
    c.elect(1); // term 8, no-op at 11
    c.drop = () => false;
    expect(c.progressOf(1, 2)).toMatchObject({ next: 11, match: 0, state: 'probe' });
    c.now = 50;
    c.node(1).tick(c.now);
    for (const m of c.flush(1)) c.deliver(m); // heartbeat
    for (const m of c.flush(2)) c.deliver(m); // heartbeat answer: S2 still lacks entries, so the leader probes
    const probe = ofType(c.flush(1), 'AppendEntries').find((m) => m.to === 2)!;
    expect(probe).toMatchObject({ prevLogIndex: 10, prevLogTerm: 6 });
    c.deliver(probe);
    const rejection = ofType(c.flush(2), 'AppendEntriesResponse')[0]!;
    expect(rejection).toMatchObject({ success: false, reason: 'missing-entry', conflictIndex: 5 });
    c.deliver(rejection);
    expect(c.progressOf(1, 2).next).toBe(5);
    const retry = ofType(c.flush(1), 'AppendEntries').find((m) => m.to === 2)!;
    expect(retry).toMatchObject({ prevLogIndex: 4, prevLogTerm: 4 });
    expect(retry.entries.map((e) => e.index)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    c.deliver(retry);
    c.deliverAll();
    expect(c.progressOf(1, 2)).toMatchObject({ match: 11, next: 12, state: 'replicate' });
    expect(allEntries(c.node(2))).toEqual(allEntries(c.node(1)));
  });

  // Reference: §5.3 (the optimization at the end of §5.3: skip a whole conflicting term per rejection)
  it.each([
    ['e (missing entries and extra entries of term 4)', [10, 7, 5]],
    ['f (extra entries of terms 2 and 3)', [10, 6, 3]],
  ] as const)('a leader repairs follower %s of Figure 7 with one rejection per conflicting term', (name, probes) => {
    const c = new Cluster(3, {
      stored: { 1: { term: 7, log: logOf(...FIGURE_7_LEADER) }, 2: { term: 7, log: logOf(...FIGURE_7_FOLLOWERS[name]!) }, 3: { term: 7 } },
    });
    c.drop = (m) => m.from === 2 || m.to === 2;
    c.elect(1);
    c.drop = () => false;
    const mark = c.sent.length;
    c.run(50); // a heartbeat; its answer starts the repair
    const appends = ofType(c.sent.slice(mark), 'AppendEntries').filter((m) => m.to === 2);
    expect(appends.map((m) => m.prevLogIndex)).toEqual(probes);
    expect(allEntries(c.node(2))).toEqual(allEntries(c.node(1)));
  });

  // Reference: §5.3, Figure 7
  it.each(Object.entries(FIGURE_7_FOLLOWERS))('a new leader makes follower %s of Figure 7 match its log', (_name, followerTerms) => {
    const c = new Cluster(3, {
      stored: { 1: { term: 7, log: logOf(...FIGURE_7_LEADER) }, 2: { term: 7, log: logOf(...followerTerms) }, 3: { term: 7 } },
    });
    c.elect(1);
    expect(c.node(1).term).toBe(8);
    c.run(100);
    const leaderLog = allEntries(c.node(1));
    expect(termsOf(leaderLog)).toEqual([...FIGURE_7_LEADER, 8]);
    expect(allEntries(c.node(2))).toEqual(leaderLog);
    expect(c.member(2).disk.entries).toEqual(leaderLog);
    expect(c.node(1).commit).toBe(11);
    expect(c.node(2).commit).toBe(11);
    expect(c.member(2).applied).toEqual(leaderLog);
    expect(c.violations).toEqual([]);
  });

  // Reference: §5.3, Figure 2 (AppendEntries receiver step 5: commitIndex = min(leaderCommit, index of last new entry))
  it('a follower commits no further than the last entry the leader’s message vouches for', () => {
    // S2 holds entries 3 and 4 from term 2 that the leader of term 3 may not have.
    const c = new Cluster(3, { stored: { 2: { term: 2, log: logOf(1, 1, 2, 2) } } });
    c.flushAll();
    c.node(2).step(ae(1, 2, 3, 2, 1, [], 4), c.now);
    c.flush(2);
    expect(c.node(2).commit).toBe(2);
    expect(c.member(2).applied.map((e) => e.index)).toEqual([1, 2]);
    c.node(2).step(ae(1, 2, 3, 2, 1, [entry(3, 3)], 4), c.now);
    c.flush(2);
    expect(c.node(2).commit).toBe(3);
    expect(c.member(2).applied.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 3],
    ]);
  });

  // Reference: §5.3
  it('committing an entry also commits every entry before it, applied in order', () => {
    const c = new Cluster(3);
    c.elect(1);
    c.isolate(1);
    for (const data of ['a', 'b', 'c']) c.node(1).propose(data, c.now);
    c.deliverAll();
    expect(c.node(1).commit).toBe(1);
    c.heal();
    c.run(60);
    expect(eventsOf(c.member(1).events, 'commit').map((e) => e.index)).toEqual([1, 4]); // one jump from 1 to 4
    expect(c.member(1).applied.map((e) => e.data)).toEqual(['', 'a', 'b', 'c']);
    c.run(60);
    for (const id of [2, 3]) expect(c.member(id).applied.map((e) => e.index)).toEqual([1, 2, 3, 4]);
  });

  // Reference: §5.3
  it('a follower never truncates its log when a duplicated or delayed AppendEntries carries entries it already has', () => {
    const c = new Cluster(3);
    c.flushAll();
    const n = c.node(2);
    const older = ae(1, 2, 1, 0, 0, [entry(1, 1), entry(2, 1)]);
    const newer = ae(1, 2, 1, 0, 0, [entry(1, 1), entry(2, 1), entry(3, 1)]);
    n.step(newer, c.now);
    c.flush(2);
    n.step(older, c.now);
    n.step(newer, c.now);
    const readiesBefore = c.member(2).readies.length;
    const answers = ofType(c.flush(2), 'AppendEntriesResponse');
    expect(allEntries(n)).toEqual(newer.entries);
    expect(answers.map((m) => [m.success, m.matchIndex])).toEqual([
      [true, 2],
      [true, 3],
    ]);
    expect(c.member(2).readies.slice(readiesBefore).flatMap((r) => r.rd.entries)).toEqual([]); // nothing rewritten
    expect(eventsOf(c.member(2).events, 'append').every((e) => e.truncatedFrom === undefined)).toBe(true);
  });
});

// ---- §5.4 ---------------------------------------------------------------------------------------------------

describe('§5.4.1 Election restriction', () => {
  // The voter's log: terms 1, 1, 2 (last index 3, last term 2), in term 2.
  const cases = [
    { name: 'a lower last term, even with a longer log', lastLogIndex: 5, lastLogTerm: 1, granted: false },
    { name: 'the same last term but a shorter log', lastLogIndex: 2, lastLogTerm: 2, granted: false },
    { name: 'the same last term and the same length', lastLogIndex: 3, lastLogTerm: 2, granted: true },
    { name: 'the same last term and a longer log', lastLogIndex: 4, lastLogTerm: 2, granted: true },
    { name: 'a higher last term, even with a shorter log', lastLogIndex: 1, lastLogTerm: 3, granted: true },
  ];

  // Reference: §5.4.1
  it.each(cases)('a voter asked by a candidate with $name grants: $granted', ({ lastLogIndex, lastLogTerm, granted }) => {
    const c = new Cluster(3, { stored: { 2: { term: 2, log: logOf(1, 1, 2) } } });
    c.flushAll();
    c.node(2).step(rv(1, 2, 3, lastLogIndex, lastLogTerm), c.now);
    const [answer] = ofType(c.flush(2), 'RequestVoteResponse');
    expect(answer).toEqual({ type: 'RequestVoteResponse', from: 2, to: 1, term: 3, granted, reason: granted ? 'granted' : 'log-behind' });
    expect(c.node(2).votedFor).toBe(granted ? 1 : NONE);
    expect(eventsOf(c.member(2).events, 'vote')).toEqual([
      expect.objectContaining({
        candidate: 1,
        term: 3,
        preVote: false,
        granted,
        reason: granted ? 'granted' : 'log-behind',
        lastLogTerm: 2,
        lastLogIndex: 3,
      }),
    ]);
  });

  // Reference: §5.4.1 (teaching switch)
  it('with unsafe.skipVoteRestriction a voter grants its vote to a candidate whose log is behind', () => {
    const c = new Cluster(3, { options: { unsafe: { ...SAFE, skipVoteRestriction: true } }, stored: { 2: { term: 2, log: logOf(1, 1, 2) } } });
    c.flushAll();
    c.node(2).step(rv(1, 2, 3, 0, 0), c.now);
    expect(ofType(c.flush(2), 'RequestVoteResponse')[0]).toMatchObject({ granted: true, reason: 'granted' });
  });
});

describe('§5.4.2 Committing entries from previous terms', () => {
  /**
   * S1 holds entry 2 of term 2 that S2 and S3 lack. S1 becomes leader of term 3 (no-op at 3) and sends one entry
   * per message; the network loses every message carrying the no-op once its follower holds entry 2. So all three
   * nodes come to hold entry 2, and none holds entry 3.
   */
  function figure8Like(unsafe = SAFE): Cluster {
    const c = new Cluster(3, {
      options: { entriesPerMessageMax: 1, unsafe },
      stored: { 1: { term: 2, log: logOf(1, 2) }, 2: { term: 2, log: logOf(1) }, 3: { term: 2, log: logOf(1) } },
    });
    c.drop = (m) => m.type === 'AppendEntries' && m.entries.some((e) => e.index === 3) && c.node(m.to).log.lastIndex() >= 2;
    c.elect(1);
    expect(c.node(1).term).toBe(3);
    for (const id of c.ids) expect(termsOf(allEntries(c.node(id))).slice(0, 2)).toEqual([1, 2]);
    expect(c.progressOf(1, 2).match).toBe(2);
    expect(c.progressOf(1, 3).match).toBe(2);
    return c;
  }

  // Reference: §5.4.2
  it('a leader does not commit an entry of an earlier term by counting replicas, only with an entry of its own term', () => {
    const c = figure8Like();
    expect(c.node(1).commit).toBe(0);
    c.run(500); // heartbeats and retries; every node holds entry 2 all along
    expect(c.node(1).commit).toBe(0);
    expect(c.member(1).applied).toEqual([]);
    // §8: once the no-op of term 3 reaches a majority, it commits, and entry 2 with it.
    c.drop = () => false;
    c.run(100);
    expect(c.node(1).commit).toBe(3);
    expect(eventsOf(c.member(1).events, 'commit')).toEqual([{ type: 'commit', index: 3, term: 3 }]);
    expect(c.member(1).applied.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  // Reference: §5.4.2, Figure 8 (teaching switch)
  it('with unsafe.commitPreviousTerms a leader commits an entry of an earlier term by counting replicas', () => {
    const c = figure8Like({ ...SAFE, commitPreviousTerms: true });
    expect(c.node(1).commit).toBe(2);
    expect(eventsOf(c.member(1).events, 'commit')[0]).toEqual({ type: 'commit', index: 2, term: 2 });
    expect(c.member(1).applied.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });
});

// ---- §5.5 and persistence ----------------------------------------------------------------------------------

describe('§5.5 Crashes and persistent state', () => {
  /** S1 and S2 both campaign in term 1; S3 votes for S1, crashes, and restarts before S2's request arrives. */
  function voteThenRestart(unsafe = SAFE): { c: Cluster; fromOne: Message; fromTwo: Message } {
    const c = new Cluster(3, { options: { unsafe } });
    c.node(1).timeout(0);
    c.node(2).timeout(0);
    const fromOne = c.flush(1).find((m) => m.to === 3)!;
    const fromTwo = c.flush(2).find((m) => m.to === 3)!;
    c.deliver(fromOne);
    for (const m of c.flush(3)) c.deliver(m);
    expect(c.node(1).role).toBe('leader');
    c.crash(3);
    c.restart(3);
    return { c, fromOne, fromTwo };
  }

  // Reference: §5.5, Figure 2 (currentTerm and votedFor are persistent)
  it('term and vote survive a restart: the node refuses a second vote in that term and re-grants the first', () => {
    const { c, fromOne, fromTwo } = voteThenRestart();
    expect(c.node(3).status()).toMatchObject({ term: 1, votedFor: 1, role: 'follower' });
    c.flush(3);
    expect(lastRoleEvent(c, 3)).toEqual({ type: 'role', role: 'follower', term: 1, reason: 'start' });
    c.deliver(fromTwo);
    c.deliver(fromOne);
    expect(ofType(c.flush(3), 'RequestVoteResponse').map((m) => [m.to, m.granted, m.reason])).toEqual([
      [2, false, 'already-voted'],
      [1, true, 'granted'],
    ]);
  });

  // Reference: §5.5 (teaching switch)
  it('with unsafe.forgetVoteOnRestart a restarted node votes twice in one term, and two leaders share it', () => {
    const { c, fromTwo } = voteThenRestart({ ...SAFE, forgetVoteOnRestart: true });
    expect(c.node(3).votedFor).toBe(NONE);
    c.deliver(fromTwo);
    const [answer] = ofType(c.flush(3), 'RequestVoteResponse');
    expect(answer).toMatchObject({ to: 2, term: 1, granted: true });
    c.deliver(answer!);
    c.flush(2);
    expect(c.leaders()).toEqual([1, 2]);
    expect(c.node(1).term).toBe(c.node(2).term);
  });

  // Reference: §5.5, Figure 2 (the log is persistent; commitIndex and lastApplied are volatile)
  it('a restarted node keeps its log, forgets its commit index, and relearns it from the leader', () => {
    const c = new Cluster(3);
    c.elect(1);
    c.node(1).propose('x', c.now);
    c.run(60);
    expect(c.node(3).commit).toBe(2);
    c.crash(3);
    c.restart(3);
    expect(allEntries(c.node(3))).toEqual(allEntries(c.node(1)));
    expect(c.node(3).status()).toMatchObject({ commitIndex: 0, lastApplied: 0 });
    c.run(60);
    expect(c.node(3).commit).toBe(2);
    expect(c.member(3).applied.map((e) => e.data)).toEqual(['', 'x']);
  });
});

// ---- Persistence before sending (thesis §3.8, Figure 2's "persistent state ... updated on stable storage before responding")

describe('Messages leave only after what they promise is durable', () => {
  // Reference: §5.6 / thesis §3.8
  it('every vote grant, vote request and append acknowledgement leaves in a Ready that persists it (or after one)', () => {
    const c = new Cluster(5, { random: (id) => new SeededRandom(31).fork(id) });
    c.run(400);
    for (let round = 0; round < 6; round++) {
      const [leader] = c.leaders();
      if (leader !== undefined) for (let i = 0; i < 3; i++) c.node(leader).propose(`r${round}-${i}`, c.now);
      c.run(100);
      const [current] = c.leaders();
      if (current !== undefined) c.crash(current);
      c.partition([1, 2, 3], [4, 5]);
      c.run(500);
      c.heal();
      for (const id of c.ids) if (!c.member(id).up) c.restart(id);
      c.run(400);
    }
    expect(c.violations).toEqual([]);
    // The first grant of a vote in a term carries the hard state that records it, in the same Ready.
    let grants = 0;
    for (const id of c.ids) {
      for (const { rd, durableBefore } of c.member(id).readies) {
        for (const m of ofType(rd.messages, 'RequestVoteResponse')) {
          if (!m.granted) continue;
          grants++;
          const alreadyDurable = durableBefore.term === m.term && durableBefore.votedFor === m.to;
          if (!alreadyDurable) expect(rd.hardState).toEqual({ term: m.term, votedFor: m.to });
        }
        for (const m of ofType(rd.messages, 'RequestVote')) {
          if (durableBefore.term !== m.term) expect(rd.hardState).toEqual({ term: m.term, votedFor: id });
        }
      }
    }
    expect(grants).toBeGreaterThan(5);
  });
});
