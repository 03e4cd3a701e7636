// One Raft node as a pure state machine (Figure 2 of the extended Raft paper, with PreVote, CheckQuorum and
// leadership transfer from the thesis).
//
// Nothing here performs I/O or reads a clock. The host calls `step(message, now)`, `tick(now)` and
// `propose(data, now)`, then collects a `Ready`: state to persist, messages to send, entries to apply and the
// events that explain what happened. The host must make the Ready's entries and hard state durable BEFORE it
// sends the Ready's messages (thesis §3.8: a vote or an acknowledgement may leave only once it is on disk),
// then apply the committed entries, then call `advance(ready)`.
//
// A role is a pair of functions: becoming leader swaps in `stepLeader` and `tickLeader` (after etcd-io/raft).
import { RaftLog } from './raft-log.ts';
import { Progress } from './progress.ts';
import { committedIndex, quorumSize, voteResult } from './quorum.ts';
import type { Random } from './random.ts';
import {
  NONE,
  type AppendEntries,
  type AppendEntriesResponse,
  type AppendReason,
  type CoreEvent,
  type Entry,
  type HardState,
  type Heartbeat,
  type Message,
  type NodeId,
  type PreVote,
  type RequestVote,
  type Role,
  type RoleReason,
  type VoteReason,
} from './types.ts';

export interface RaftOptions {
  readonly id: NodeId;
  /** The voting members, this node included. */
  readonly voters: readonly NodeId[];
  /** A follower waits a random time in [min, max] without word from a leader before campaigning (§5.2). */
  readonly electionTimeoutMs: readonly [number, number];
  readonly heartbeatMs: number;
  /** Thesis §9.6: campaign only after a trial round shows a majority would vote. */
  readonly preVote: boolean;
  /** Thesis §6.2: a leader steps down when it has not heard from a majority in an election timeout. */
  readonly checkQuorum: boolean;
  readonly entriesPerMessageMax: number;
  readonly bytesPerMessageMax: number;
  /** Unacknowledged AppendEntries per follower in replicate state (pipelining bound). */
  readonly inflightMessagesMax: number;
  /** A leader refuses proposals while this many entries await commitment. */
  readonly uncommittedEntriesMax: number;
  readonly applyBatchMax: number;
  /** Teaching switches. Each removes one safety rule so that students can watch safety break. */
  readonly unsafe: UnsafeSwitches;
}

export interface UnsafeSwitches {
  /** Grant votes without the up-to-date log check of §5.4.1. */
  readonly skipVoteRestriction: boolean;
  /** Commit entries of earlier terms by counting replicas, which §5.4.2 and Figure 8 forbid. */
  readonly commitPreviousTerms: boolean;
  /** Forget votedFor on restart, as if it were not persisted (Figure 2 says it must be). */
  readonly forgetVoteOnRestart: boolean;
}

export const SAFE: UnsafeSwitches = { skipVoteRestriction: false, commitPreviousTerms: false, forgetVoteOnRestart: false };

export const DEFAULT_RAFT_OPTIONS: Omit<RaftOptions, 'id' | 'voters'> = {
  electionTimeoutMs: [150, 300],
  heartbeatMs: 50,
  preVote: false,
  checkQuorum: false,
  entriesPerMessageMax: 64,
  bytesPerMessageMax: 64 * 1024,
  inflightMessagesMax: 8,
  uncommittedEntriesMax: 4096,
  applyBatchMax: 1024,
  unsafe: SAFE,
};

/** What the host has on stable storage when it (re)starts a node. */
export interface StoredState {
  readonly hardState: HardState;
  readonly entries: readonly Entry[];
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
}

export const EMPTY_STORAGE: StoredState = { hardState: { term: 0, votedFor: NONE }, entries: [], snapshotIndex: 0, snapshotTerm: 0 };

export interface Ready {
  /** Persist when not null. */
  readonly hardState: HardState | null;
  /** Persist, first removing any stored entries at or after `entries[0].index`. */
  readonly entries: readonly Entry[];
  /** Send only after the above are durable. */
  readonly messages: readonly Message[];
  /** Apply to the state machine, in order. */
  readonly committedEntries: readonly Entry[];
  readonly events: readonly CoreEvent[];
}

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly reason: 'not-leader' | 'transferring' | 'overloaded'; readonly leader: NodeId };

export type TransferResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface ProgressStatus {
  readonly id: NodeId;
  readonly match: number;
  readonly next: number;
  readonly state: Progress['state'];
  readonly inflight: number;
}

export interface NodeStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly votedFor: NodeId;
  readonly leader: NodeId;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  readonly snapshotIndex: number;
  readonly electionDeadlineMs: number;
  readonly electionTimeoutMs: number;
  readonly votesGranted: readonly NodeId[];
  readonly progress: readonly ProgressStatus[];
  readonly transferTarget: NodeId;
}

export class RaftNode {
  readonly id: NodeId;
  private options: RaftOptions;
  private readonly random: Random;
  readonly log: RaftLog;

  // Persistent state (Figure 2).
  private termValue: number;
  private votedForValue: NodeId;
  private hardStateDirty = false;

  // Volatile state.
  private roleValue: Role = 'follower';
  private leaderValue: NodeId = NONE;
  private commitIndex: number;
  private applied: number;
  private voters: readonly NodeId[];
  private votes = new Map<NodeId, boolean>();
  private progress = new Map<NodeId, Progress>();
  /** Followers owed an AppendEntries at the next `ready()`; the flag says "even with no entries". */
  private replicationDue = new Map<NodeId, boolean>();
  private transferTarget: NodeId = NONE;

  // Time: all deadlines are in the host's milliseconds.
  private now: number;
  private electionTimeoutMs = 0;
  private electionDeadline = 0;
  private heartbeatDeadline = 0;
  private checkQuorumDeadline = 0;
  private transferDeadline = 0;
  private lastLeaderContactMs = -Infinity;

  private outbox: Message[] = [];
  private events: CoreEvent[] = [];
  private readyOutstanding = false;

  private stepRole: (m: Message) => void = this.stepFollower;
  private tickRole: () => void = this.tickElection;

  constructor(options: RaftOptions, stored: StoredState, random: Random, nowMs: number) {
    assert(options.voters.length > 0, 'a cluster needs at least one voter');
    const [min, max] = options.electionTimeoutMs;
    assert(min > 0 && min <= max, `election timeout range [${min}, ${max}] is not valid`);
    assert(options.heartbeatMs > 0, 'heartbeat interval must be positive');
    this.id = options.id;
    this.options = options;
    this.random = random;
    this.now = nowMs;
    this.voters = options.voters;
    this.log = new RaftLog(stored.snapshotIndex, stored.snapshotTerm, stored.entries);
    this.termValue = stored.hardState.term;
    this.votedForValue = options.unsafe.forgetVoteOnRestart ? NONE : stored.hardState.votedFor;
    // commitIndex and lastApplied are volatile (Figure 2): a restarted node relearns them from the leader.
    this.commitIndex = stored.snapshotIndex;
    this.applied = stored.snapshotIndex;
    this.becomeFollower(this.termValue, NONE, 'start');
  }

  // ---- Reading ----------------------------------------------------------------------------------------------

  get role(): Role {
    return this.roleValue;
  }
  get term(): number {
    return this.termValue;
  }
  get votedFor(): NodeId {
    return this.votedForValue;
  }
  get leader(): NodeId {
    return this.leaderValue;
  }
  get commit(): number {
    return this.commitIndex;
  }
  get lastApplied(): number {
    return this.applied;
  }

  /** When the host must call `tick` next, in its milliseconds. */
  nextDeadlineMs(): number {
    if (this.roleValue !== 'leader') return this.electionDeadline;
    let deadline = this.heartbeatDeadline;
    if (this.options.checkQuorum) deadline = Math.min(deadline, this.checkQuorumDeadline);
    if (this.transferTarget !== NONE) deadline = Math.min(deadline, this.transferDeadline);
    return deadline;
  }

  status(): NodeStatus {
    return {
      id: this.id,
      role: this.roleValue,
      term: this.termValue,
      votedFor: this.votedForValue,
      leader: this.leaderValue,
      commitIndex: this.commitIndex,
      lastApplied: this.applied,
      lastLogIndex: this.log.lastIndex(),
      lastLogTerm: this.log.lastTerm(),
      snapshotIndex: this.log.snapshotIndex,
      electionDeadlineMs: this.electionDeadline,
      electionTimeoutMs: this.electionTimeoutMs,
      votesGranted: [...this.votes].filter(([, granted]) => granted).map(([id]) => id),
      progress: [...this.progress.values()].map((pr) => ({
        id: pr.id,
        match: pr.match,
        next: pr.next,
        state: pr.state,
        inflight: pr.inflight.length,
      })),
      transferTarget: this.transferTarget,
    };
  }

  /** Change tunables (timeouts, PreVote, CheckQuorum, limits, teaching switches); they apply from now on. */
  setOptions(options: RaftOptions): void {
    assert(options.id === this.id, `options for S${options.id} given to S${this.id}`);
    this.options = options;
    this.voters = options.voters;
  }

  // ---- Inputs -----------------------------------------------------------------------------------------------

  tick(nowMs: number): void {
    this.now = nowMs;
    this.tickRole();
  }

  step(m: Message, nowMs: number): void {
    this.now = nowMs;
    if (m.to !== this.id) return;
    if (m.term > this.termValue) {
      if (!this.acceptHigherTerm(m)) return;
    } else if (m.term < this.termValue) {
      this.answerStaleTerm(m);
      return;
    }
    this.stepRole(m);
  }

  /** Force an election timeout now (the playground's "Time out" button, the scenario action `timeout`). */
  timeout(nowMs: number): void {
    this.now = nowMs;
    if (this.roleValue === 'leader') return;
    this.campaign('forced-timeout');
  }

  propose(data: string, nowMs: number): ProposeResult {
    this.now = nowMs;
    if (this.roleValue !== 'leader') return { ok: false, reason: 'not-leader', leader: this.leaderValue };
    if (this.transferTarget !== NONE) return { ok: false, reason: 'transferring', leader: this.id };
    if (this.log.lastIndex() - this.commitIndex >= this.options.uncommittedEntriesMax) {
      return { ok: false, reason: 'overloaded', leader: this.id };
    }
    const entry = this.appendToOwnLog('command', data);
    this.events.push({ type: 'propose', index: entry.index, term: entry.term });
    return { ok: true, index: entry.index, term: entry.term };
  }

  /** Hand leadership to `target` (thesis §3.10): bring its log up to date, then tell it to campaign now. */
  transferLeadership(target: NodeId, nowMs: number): TransferResult {
    this.now = nowMs;
    if (this.roleValue !== 'leader') return { ok: false, reason: `S${this.id} is not the leader` };
    if (target === this.id) return { ok: false, reason: `S${this.id} is already the leader` };
    const pr = this.progress.get(target);
    if (!pr || !this.voters.includes(target)) return { ok: false, reason: `S${target} is not a voting member` };
    if (this.transferTarget === target) return { ok: true };
    if (this.transferTarget !== NONE) this.abortTransfer();
    this.transferTarget = target;
    // Give up if the target cannot catch up within an election timeout, so proposals are not refused forever.
    this.transferDeadline = this.now + this.options.electionTimeoutMs[0];
    this.events.push({ type: 'transfer', target, phase: 'started' });
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(target);
    else this.scheduleReplication(target, true);
    return { ok: true };
  }

  // ---- Output -----------------------------------------------------------------------------------------------

  hasReady(): boolean {
    return (
      this.outbox.length > 0 ||
      this.events.length > 0 ||
      this.hardStateDirty ||
      this.replicationDue.size > 0 ||
      this.log.unstableEntries().length > 0 ||
      this.commitIndex > this.applied
    );
  }

  ready(): Ready {
    assert(!this.readyOutstanding, 'ready() called again before advance()');
    this.flushReplication();
    const applyTo = Math.min(this.commitIndex, this.applied + this.options.applyBatchMax);
    const rd: Ready = {
      hardState: this.hardStateDirty ? { term: this.termValue, votedFor: this.votedForValue } : null,
      entries: this.log.unstableEntries(),
      messages: this.outbox,
      committedEntries: applyTo > this.applied ? this.log.slice(this.applied + 1, applyTo) : [],
      events: this.events,
    };
    this.hardStateDirty = false;
    this.outbox = [];
    this.events = [];
    this.readyOutstanding = true;
    return rd;
  }

  /** The host has persisted, sent and applied everything in `rd`. */
  advance(rd: Ready): void {
    assert(this.readyOutstanding, 'advance() without a ready()');
    this.readyOutstanding = false;
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry) this.log.stableTo(lastEntry.index, lastEntry.term);
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied) this.applied = lastApplied.index;
  }

  // ---- Terms ------------------------------------------------------------------------------------------------

  /** §5.1: a newer term makes us a follower. Returns false when the message must be dropped instead. */
  private acceptHigherTerm(m: Message): boolean {
    if (m.type === 'RequestVote' && this.options.checkQuorum && !m.transfer && this.inLeaderLease()) {
      // §4.2.3: a server that heard from a live leader lately ignores vote requests, so a partitioned or
      // removed server cannot depose a healthy leader by raising the term.
      this.events.push({ type: 'vote-ignored', candidate: m.from, term: m.term, reason: 'leader-recently-seen' });
      return false;
    }
    // A PreVote carries the term its sender would use; asking, or being granted, changes no term (§9.6).
    if (m.type === 'PreVote') return true;
    if (m.type === 'PreVoteResponse' && m.granted) return true;
    const leader = m.type === 'AppendEntries' || m.type === 'Heartbeat' ? m.from : NONE;
    this.becomeFollower(m.term, leader, 'higher-term', m.from);
    return true;
  }

  /** A message from an older term: tell its sender our term so that a deposed leader steps down (§5.1). */
  private answerStaleTerm(m: Message): void {
    switch (m.type) {
      case 'AppendEntries':
        this.answerAppend(m, false, m.prevLogIndex, 0, 0, 'stale-term');
        return;
      case 'Heartbeat':
        this.send({ type: 'HeartbeatResponse', from: this.id, to: m.from, term: this.termValue });
        return;
      case 'RequestVote':
      case 'PreVote':
        this.answerVote(m, false, 'stale-term');
        return;
      default:
        return; // a late answer to something we asked in an older term: nothing to learn
    }
  }

  // ---- Roles ------------------------------------------------------------------------------------------------

  private becomeFollower(term: number, leader: NodeId, reason: RoleReason, peer?: NodeId): void {
    if (term > this.termValue) {
      this.termValue = term;
      this.votedForValue = NONE;
      this.hardStateDirty = true;
    }
    // Figure 2: the election timer restarts only on word from the current leader or on granting a vote, so
    // stepping down to a newer term keeps a running timer. Otherwise candidates that cannot win would keep
    // pushing back the timer of the one node that can. A leader (or a node starting up) has none running.
    const timerRunning = this.roleValue !== 'leader' && reason !== 'start';
    if (this.transferTarget !== NONE && reason === 'higher-term' && peer === this.transferTarget) {
      this.events.push({ type: 'transfer', target: this.transferTarget, phase: 'completed' });
      this.transferTarget = NONE;
    }
    this.reset();
    this.roleValue = 'follower';
    this.leaderValue = leader;
    if (leader !== NONE) this.lastLeaderContactMs = this.now;
    this.stepRole = this.stepFollower;
    this.tickRole = this.tickElection;
    if (!timerRunning) this.resetElectionTimer();
    this.events.push(peer === undefined ? { type: 'role', role: 'follower', term, reason } : { type: 'role', role: 'follower', term, reason, peer });
  }

  private campaign(reason: RoleReason): void {
    if (!this.voters.includes(this.id)) return; // only voters stand for election
    if (this.options.preVote && reason !== 'timeout-now') this.becomePreCandidate(reason);
    else this.becomeCandidate(reason);
  }

  private becomePreCandidate(reason: RoleReason): void {
    this.reset();
    this.roleValue = 'precandidate';
    this.stepRole = this.stepCandidate;
    this.tickRole = this.tickElection;
    this.resetElectionTimer();
    this.events.push({ type: 'role', role: 'precandidate', term: this.termValue, reason });
    this.votes.set(this.id, true);
    if (voteResult(this.voters, this.votes) === 'won') {
      this.becomeCandidate('won-prevote');
      return;
    }
    for (const peer of this.voters) {
      if (peer === this.id) continue;
      this.send({
        type: 'PreVote',
        from: this.id,
        to: peer,
        term: this.termValue + 1,
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
      });
    }
  }

  private becomeCandidate(reason: RoleReason): void {
    this.reset();
    this.termValue += 1;
    this.votedForValue = this.id;
    this.hardStateDirty = true;
    this.roleValue = 'candidate';
    this.stepRole = this.stepCandidate;
    this.tickRole = this.tickElection;
    this.resetElectionTimer();
    this.events.push({ type: 'role', role: 'candidate', term: this.termValue, reason });
    this.votes.set(this.id, true);
    if (voteResult(this.voters, this.votes) === 'won') {
      this.becomeLeader();
      return;
    }
    for (const peer of this.voters) {
      if (peer === this.id) continue;
      this.send({
        type: 'RequestVote',
        from: this.id,
        to: peer,
        term: this.termValue,
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
        transfer: reason === 'timeout-now',
      });
    }
  }

  private becomeLeader(): void {
    this.reset();
    this.roleValue = 'leader';
    this.leaderValue = this.id;
    this.stepRole = this.stepLeader;
    this.tickRole = this.tickLeader;
    for (const peer of this.voters) {
      if (peer === this.id) continue;
      this.progress.set(peer, new Progress(peer, this.log.lastIndex(), this.options.inflightMessagesMax));
    }
    this.heartbeatDeadline = this.now + this.options.heartbeatMs;
    this.checkQuorumDeadline = this.now + this.options.electionTimeoutMs[0];
    this.events.push({ type: 'role', role: 'leader', term: this.termValue, reason: 'won-election' });
    // §8: a no-op entry of the new term lets the leader commit everything before it (§5.4.2 forbids counting
    // replicas of older entries) and so learn what is committed.
    this.appendToOwnLog('noop', '');
  }

  /** Volatile per-role state, cleared on every role change. */
  private reset(): void {
    this.leaderValue = NONE;
    this.votes = new Map();
    this.progress = new Map();
    this.replicationDue = new Map();
    if (this.transferTarget !== NONE) this.abortTransfer();
  }

  // ---- Timers -----------------------------------------------------------------------------------------------

  private resetElectionTimer(): void {
    const [min, max] = this.options.electionTimeoutMs;
    this.electionTimeoutMs = this.random.intBetween(min, max);
    this.electionDeadline = this.now + this.electionTimeoutMs;
  }

  private tickElection(): void {
    if (this.now >= this.electionDeadline) this.campaign('election-timeout');
  }

  private tickLeader(): void {
    if (this.options.checkQuorum && this.now >= this.checkQuorumDeadline) {
      this.checkQuorumDeadline = this.now + this.options.electionTimeoutMs[0];
      if (!this.quorumRecentlyActive()) {
        this.becomeFollower(this.termValue, NONE, 'lost-quorum');
        return;
      }
    }
    if (this.transferTarget !== NONE && this.now >= this.transferDeadline) this.abortTransfer();
    if (this.now >= this.heartbeatDeadline) {
      this.heartbeatDeadline = this.now + this.options.heartbeatMs;
      for (const pr of this.progress.values()) {
        this.send({
          type: 'Heartbeat',
          from: this.id,
          to: pr.id,
          term: this.termValue,
          leaderCommit: Math.min(this.commitIndex, pr.match),
        });
      }
    }
  }

  /** Thesis §6.2: did a majority (counting ourselves) answer since the last round? Clears the marks. */
  private quorumRecentlyActive(): boolean {
    let active = 0;
    for (const id of this.voters) {
      if (id === this.id) active++;
      else if (this.progress.get(id)?.recentActive) active++;
    }
    for (const pr of this.progress.values()) pr.recentActive = false;
    return active >= quorumSize(this.voters.length);
  }

  /** Heard from a current leader within the minimum election timeout (thesis §4.2.3). */
  private inLeaderLease(): boolean {
    if (this.roleValue === 'leader') return true;
    return this.leaderValue !== NONE && this.now - this.lastLeaderContactMs < this.options.electionTimeoutMs[0];
  }

  // ---- Follower and candidate -------------------------------------------------------------------------------

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'AppendEntries':
        this.handleAppendEntries(m);
        return;
      case 'Heartbeat':
        this.handleHeartbeat(m);
        return;
      case 'RequestVote':
      case 'PreVote':
        this.handleVoteRequest(m);
        return;
      case 'TimeoutNow':
        this.campaign('timeout-now');
        return;
      default:
        return; // answers to requests we no longer have
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'AppendEntries':
        // §5.2: a leader exists for our term (or, for a pre-candidate, a leader is alive): follow it.
        this.becomeFollower(this.termValue, m.from, 'leader-discovered', m.from);
        this.handleAppendEntries(m);
        return;
      case 'Heartbeat':
        this.becomeFollower(this.termValue, m.from, 'leader-discovered', m.from);
        this.handleHeartbeat(m);
        return;
      case 'RequestVote':
      case 'PreVote':
        this.handleVoteRequest(m);
        return;
      case 'RequestVoteResponse':
        if (this.roleValue === 'candidate') this.countVote(m.from, m.granted);
        return;
      case 'PreVoteResponse':
        if (this.roleValue === 'precandidate') this.countVote(m.from, m.granted);
        return;
      default:
        return;
    }
  }

  private countVote(from: NodeId, granted: boolean): void {
    if (!this.voters.includes(from)) return;
    this.votes.set(from, granted);
    const result = voteResult(this.voters, this.votes);
    if (result === 'won') {
      if (this.roleValue === 'precandidate') this.becomeCandidate('won-prevote');
      else this.becomeLeader();
    } else if (result === 'lost') {
      // A majority said no: wait for a leader, or for the next timeout, as a follower.
      this.becomeFollower(this.termValue, NONE, 'lost-election');
    }
  }

  private handleVoteRequest(m: RequestVote | PreVote): void {
    const preVote = m.type === 'PreVote';
    let reason: VoteReason;
    const canVote =
      this.votedForValue === m.from ||
      (this.votedForValue === NONE && this.leaderValue === NONE) ||
      (preVote && m.term > this.termValue);
    if (!canVote) {
      reason = this.votedForValue !== NONE ? 'already-voted' : 'has-leader';
    } else if (preVote && this.inLeaderLease()) {
      reason = 'leader-recently-seen';
    } else if (!this.options.unsafe.skipVoteRestriction && !this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) {
      reason = 'log-behind';
    } else {
      reason = 'granted';
    }
    const granted = reason === 'granted';
    if (granted && !preVote) {
      this.votedForValue = m.from;
      this.hardStateDirty = true;
      this.resetElectionTimer(); // Figure 2: granting a vote restarts the election timer
    }
    this.answerVote(m, granted, reason);
  }

  private answerVote(m: RequestVote | PreVote, granted: boolean, reason: VoteReason): void {
    const preVote = m.type === 'PreVote';
    // A granted PreVote answers in the term it was asked about; anything else in our own term.
    const term = preVote && granted ? m.term : this.termValue;
    this.send({ type: preVote ? 'PreVoteResponse' : 'RequestVoteResponse', from: this.id, to: m.from, term, granted, reason });
    this.events.push({
      type: 'vote',
      candidate: m.from,
      term: m.term,
      preVote,
      granted,
      reason,
      lastLogTerm: this.log.lastTerm(),
      lastLogIndex: this.log.lastIndex(),
      candidateLastLogTerm: m.lastLogTerm,
      candidateLastLogIndex: m.lastLogIndex,
    });
  }

  private handleHeartbeat(m: Heartbeat): void {
    this.leaderValue = m.from;
    this.lastLeaderContactMs = this.now;
    this.resetElectionTimer();
    this.commitTo(Math.min(m.leaderCommit, this.log.lastIndex()));
    this.send({ type: 'HeartbeatResponse', from: this.id, to: m.from, term: this.termValue });
  }

  private handleAppendEntries(m: AppendEntries): void {
    this.leaderValue = m.from;
    this.lastLeaderContactMs = this.now;
    this.resetElectionTimer();
    if (m.prevLogIndex < this.log.snapshotIndex) {
      // Everything we compacted was committed, so it matches the leader's log: acknowledge what we hold.
      this.answerAppend(m, true, this.commitIndex, 0, 0, 'ok');
      return;
    }
    // §5.3 consistency check, answering with the conflict term and its first index for fast backup.
    if (m.prevLogIndex > this.log.lastIndex()) {
      this.answerAppend(m, false, m.prevLogIndex, 0, this.log.lastIndex() + 1, 'missing-entry');
      return;
    }
    const ourTerm = this.log.termAt(m.prevLogIndex)!;
    if (ourTerm !== m.prevLogTerm) {
      const conflictIndex = Math.max(this.log.firstIndexOfTerm(ourTerm, m.prevLogIndex), this.commitIndex + 1);
      this.answerAppend(m, false, m.prevLogIndex, ourTerm, conflictIndex, 'term-mismatch');
      return;
    }
    // §5.3: delete an existing entry that conflicts with a new one (same index, other term) and all that
    // follow it; append the entries not already in the log. Entries we already hold are left alone, so a
    // duplicated or reordered AppendEntries never truncates what a later one added.
    let truncatedFrom: number | undefined;
    for (const entry of m.entries) {
      if (entry.index <= this.log.snapshotIndex) continue;
      const existing = this.log.termAt(entry.index);
      if (existing === entry.term) continue;
      if (existing !== undefined) {
        this.log.truncateFrom(entry.index);
        truncatedFrom = entry.index;
      }
      this.log.append(entry);
    }
    const lastNewIndex = m.prevLogIndex + m.entries.length;
    // Figure 2: commitIndex = min(leaderCommit, index of last new entry).
    this.commitTo(Math.min(m.leaderCommit, lastNewIndex));
    this.answerAppend(m, true, lastNewIndex, 0, 0, 'ok', truncatedFrom);
  }

  private answerAppend(
    m: AppendEntries,
    success: boolean,
    matchIndex: number,
    conflictTerm: number,
    conflictIndex: number,
    reason: AppendReason,
    truncatedFrom?: number,
  ): void {
    this.send({ type: 'AppendEntriesResponse', from: this.id, to: m.from, term: this.termValue, success, matchIndex, conflictTerm, conflictIndex, reason });
    this.events.push({
      type: 'append',
      leader: m.from,
      term: m.term,
      prevLogIndex: m.prevLogIndex,
      entries: m.entries.length,
      success,
      reason,
      ...(truncatedFrom === undefined ? {} : { truncatedFrom }),
    });
  }

  // ---- Leader -----------------------------------------------------------------------------------------------

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'AppendEntriesResponse':
        this.handleAppendResponse(m);
        return;
      case 'HeartbeatResponse': {
        const pr = this.progress.get(m.from);
        if (!pr) return;
        pr.recentActive = true;
        pr.onHeartbeatResponse();
        if (pr.match < this.log.lastIndex() && pr.needsProbe(this.now, this.options.heartbeatMs)) this.scheduleReplication(m.from, true);
        return;
      }
      case 'RequestVote':
      case 'PreVote':
        this.handleVoteRequest(m); // denied: we voted for ourselves in this term
        return;
      default:
        return;
    }
  }

  private handleAppendResponse(m: AppendEntriesResponse): void {
    const pr = this.progress.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    if (!m.success) {
      if (pr.reject(m.matchIndex, this.backupHint(m))) this.scheduleReplication(m.from, true);
      return;
    }
    if (m.matchIndex < pr.match) {
      pr.acknowledge(m.matchIndex); // an old, reordered answer: it can only free in-flight slots
      return;
    }
    pr.acknowledge(m.matchIndex);
    if (pr.state === 'probe') pr.becomeReplicate();
    this.maybeCommit();
    if (m.from === this.transferTarget && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
    this.scheduleReplication(m.from, false);
  }

  /**
   * Fast backup: skip a whole conflicting term at once. If we hold the follower's conflicting term, resume
   * after our last entry of it; otherwise resume at the first index the follower holds for that term.
   */
  private backupHint(m: AppendEntriesResponse): number {
    if (m.conflictTerm === 0) return m.conflictIndex;
    const ourLast = this.log.lastIndexOfTerm(m.conflictTerm, m.matchIndex);
    return ourLast > 0 ? ourLast + 1 : m.conflictIndex;
  }

  /** §5.3, §5.4.2: commit the highest index a majority holds, but only by counting entries of our own term. */
  private maybeCommit(): void {
    const index = committedIndex(this.voters, (id) => (id === this.id ? this.log.lastIndex() : (this.progress.get(id)?.match ?? 0)));
    if (index <= this.commitIndex) return;
    if (this.log.termAt(index) !== this.termValue && !this.options.unsafe.commitPreviousTerms) return;
    this.commitTo(index);
  }

  private commitTo(index: number): void {
    if (index <= this.commitIndex) return;
    this.commitIndex = index;
    this.events.push({ type: 'commit', index, term: this.log.termAt(index) ?? 0 });
  }

  private appendToOwnLog(type: Entry['type'], data: string): Entry {
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.termValue, type, data };
    this.log.append(entry);
    for (const peer of this.progress.keys()) this.scheduleReplication(peer, false);
    this.maybeCommit(); // a cluster of one commits at once
    return entry;
  }

  private scheduleReplication(peer: NodeId, evenIfEmpty: boolean): void {
    this.replicationDue.set(peer, evenIfEmpty || (this.replicationDue.get(peer) ?? false));
  }

  /** Build the AppendEntries owed to followers. Deferred to `ready()` so that proposals share a message. */
  private flushReplication(): void {
    if (this.roleValue !== 'leader') {
      this.replicationDue.clear();
      return;
    }
    for (const [peer, evenIfEmpty] of this.replicationDue) {
      const pr = this.progress.get(peer);
      if (pr) this.sendAppend(pr, evenIfEmpty);
    }
    this.replicationDue.clear();
  }

  private sendAppend(pr: Progress, evenIfEmpty: boolean): void {
    // In replicate state keep sending while the pipeline has room; a probe goes out once per answer.
    while (pr.canSend()) {
      const prevLogIndex = pr.next - 1;
      const prevLogTerm = this.log.termAt(prevLogIndex);
      assert(prevLogTerm !== undefined, `S${this.id} has no term for index ${prevLogIndex} to send to S${pr.id}`);
      const entries =
        pr.next <= this.log.lastIndex()
          ? this.log.slice(pr.next, this.log.lastIndex(), this.options.entriesPerMessageMax, this.options.bytesPerMessageMax)
          : [];
      const probing = pr.state === 'probe';
      if (entries.length === 0 && !evenIfEmpty && !probing) return;
      this.send({ type: 'AppendEntries', from: this.id, to: pr.id, term: this.termValue, prevLogIndex, prevLogTerm, entries, leaderCommit: this.commitIndex });
      pr.onSent(prevLogIndex + entries.length, entries.length, this.now);
      if (entries.length === 0 || probing) return;
      evenIfEmpty = false;
    }
  }

  private sendTimeoutNow(target: NodeId): void {
    this.send({ type: 'TimeoutNow', from: this.id, to: target, term: this.termValue });
    this.events.push({ type: 'transfer', target, phase: 'timeout-now-sent' });
  }

  private abortTransfer(): void {
    this.events.push({ type: 'transfer', target: this.transferTarget, phase: 'aborted' });
    this.transferTarget = NONE;
  }

  private send(m: Message): void {
    this.outbox.push(m);
  }
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`raft: ${message}`);
}
