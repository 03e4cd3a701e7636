// One Raft node as a pure state machine: Figure 2 of the extended Raft paper, log compaction and
// InstallSnapshot (§7, Figure 13), and from the thesis single-server membership changes (§4), PreVote (§9.6),
// CheckQuorum (§6.2) and leadership transfer (§3.10).
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
import { timeBetween, type Random } from './random.ts';
import {
  NONE,
  TERM_MAX,
  type AppendEntries,
  type AppendEntriesResponse,
  type AppendReason,
  type ClusterConfig,
  type CoreEvent,
  type Entry,
  type HardState,
  type Heartbeat,
  type InstallSnapshot,
  type InstallSnapshotResponse,
  type Message,
  type NodeId,
  type PreVote,
  type ReadIndex,
  type ReadIndexResponse,
  type ReadState,
  type RequestVote,
  type Role,
  type RoleReason,
  type Snapshot,
  type VoteReason,
} from './types.ts';

export interface RaftOptions {
  readonly id: NodeId;
  /**
   * The voters of a brand-new cluster. Used only while neither a snapshot nor the log holds a configuration;
   * a node joining a running cluster starts with none and learns its configuration from the leader's log.
   */
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
  /**
   * Linearizable reads (thesis §6.4): `read-index` confirms leadership with a heartbeat round for each read;
   * `lease` skips the round while the leader's lease holds (§6.4.1), which needs CheckQuorum (voters must
   * refuse votes while they hear from a leader) and clocks that drift apart by less than `clockDriftBound`.
   */
  readonly readMode: 'read-index' | 'lease';
  /** How much faster any server's clock may run than the leader's, e.g. 0.1 for 10%. */
  readonly clockDriftBound: number;
  /** Read requests a leader holds at once. */
  readonly readRequestsMax: number;
  /** InstallSnapshot: bytes of snapshot data per chunk, and unacknowledged chunks per follower. */
  readonly snapshotChunkBytes: number;
  readonly snapshotChunksInflightMax: number;
  /** Teaching switches. Each removes one safety rule so that students can watch safety break. */
  readonly unsafe: UnsafeSwitches;
  /**
   * The host reports when entries are durable (`persisted`) instead of making them durable before `advance`.
   * It may then send a leader's AppendEntries while its own disk write is under way (thesis §10.2.1): the
   * leader counts itself toward a commit only for what it has reported durable.
   */
  readonly reportsPersistence?: boolean;
  /**
   * The step of the election timer's draws: 1 ms (the default) or finer, down to FINE_TIME_STEP_MS. With whole
   * milliseconds a narrow range such as 150–155 ms has six values, and ties make split votes common.
   */
  readonly timerStepMs?: number;
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
  readMode: 'read-index',
  clockDriftBound: 0.1,
  readRequestsMax: 1024,
  snapshotChunkBytes: 1024,
  snapshotChunksInflightMax: 4,
  unsafe: SAFE,
};

/** What the host has on stable storage when it (re)starts a node. */
export interface StoredState {
  readonly hardState: HardState;
  /** The latest snapshot; `entries` follow it. */
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
}

export const EMPTY_STORAGE: StoredState = { hardState: { term: 0, votedFor: NONE }, snapshot: null, entries: [] };

export interface Ready {
  /** Persist when not null. */
  readonly hardState: HardState | null;
  /**
   * Persist atomically when not null, dropping stored entries it covers (all of them, unless the stored
   * entry at its index has its term). When its index is past what the host has applied, restore the state
   * machine from its data before applying `committedEntries`.
   */
  readonly snapshot: Snapshot | null;
  /** Persist, first removing any stored entries at or after `entries[0].index`. */
  readonly entries: readonly Entry[];
  /** Send only after the above are durable. */
  readonly messages: readonly Message[];
  /** Apply to the state machine, in order. */
  readonly committedEntries: readonly Entry[];
  /** Read requests answered: serve each once its index is applied (or report its refusal). */
  readonly readStates: readonly ReadState[];
  readonly events: readonly CoreEvent[];
}

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly reason: ProposeRefusal; readonly leader: NodeId };

export type ProposeRefusal = 'not-leader' | 'transferring' | 'overloaded' | 'config-change-pending' | 'invalid-config-change';

/** Single-server membership changes (thesis §4.2): one at a time, a new server first as a learner. */
export type ConfigChange =
  | { readonly type: 'add-learner'; readonly node: NodeId }
  | { readonly type: 'promote'; readonly node: NodeId }
  | { readonly type: 'remove'; readonly node: NodeId };

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
  readonly config: ClusterConfig;
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
  /** A leader's removed servers that do not yet hold their removal: until when it goes on sending (trackMembers). */
  private leaving = new Map<NodeId, { readonly index: number; readonly until: number }>();
  private applied: number;
  /** The last index of our log the host has reported durable (only with `reportsPersistence`). */
  private durableIndex: number;
  /** Every configuration in the log, oldest first; the first comes from the snapshot (or the bootstrap) and
   *  the last is in force (thesis §4.1: a server uses the latest configuration in its log, committed or not). */
  private configs: { readonly index: number; readonly config: ClusterConfig }[];
  /** Our latest snapshot, kept to send to followers that need it. */
  private snapshot: Snapshot | null;
  private snapshotDirty = false;
  /** Chunks of a snapshot arriving from the leader; volatile, so a crash mid-transfer keeps the old one. */
  private incomingSnapshot: { index: number; term: number; config: ClusterConfig; chunks: string[]; received: number } | null = null;
  private votes = new Map<NodeId, boolean>();
  private progress = new Map<NodeId, Progress>();
  /** Followers owed an AppendEntries at the next `ready()`; the flag says "even with no entries". */
  private replicationDue = new Map<NodeId, boolean>();
  private transferTarget: NodeId = NONE;

  // Reads (thesis §6.4). Every heartbeat broadcast is a numbered round; a read that arrived during round R is
  // safe once a majority has answered round R + 1 or later.
  private heartbeatRound = 0;
  private readonly roundSentAtMs = new Map<number, number>();
  private leaseStartMs = -Infinity;
  /** A TimeoutNow went out in this term: its election will bypass the voters' leases, now or later. */
  private timeoutNowSent = false;
  /** When this node restarted (-Infinity for a brand-new node): it has forgotten any lease it granted. */
  private readonly restartedAtMs: number;
  private readRoundDue = false;
  private pendingReads: { context: number; requester: NodeId; index: number; needRound: number }[] = [];
  /** Reads that arrived before this leader committed an entry of its term (§6.4 step 1: until then it
   *  cannot know the commit index). */
  private readsAwaitingCommit: { context: number; requester: NodeId }[] = [];
  private readStates: ReadState[] = [];

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
    const [min, max] = options.electionTimeoutMs;
    assert(min > 0 && min <= max, `election timeout range [${min}, ${max}] is not valid`);
    assert(options.heartbeatMs > 0, 'heartbeat interval must be positive');
    this.id = options.id;
    this.options = options;
    this.random = random;
    this.now = nowMs;
    // Only a node that had seen a term can have answered a leader's heartbeat, and so granted a lease.
    this.restartedAtMs = stored.hardState.term > 0 ? nowMs : -Infinity;
    this.snapshot = stored.snapshot;
    const snapshotIndex = stored.snapshot?.index ?? 0;
    this.log = new RaftLog(snapshotIndex, stored.snapshot?.term ?? 0, stored.entries);
    this.configs = [{ index: snapshotIndex, config: stored.snapshot?.config ?? { voters: options.voters, learners: [] } }];
    this.trackConfigEntries(this.log.firstIndex());
    this.termValue = stored.hardState.term;
    this.votedForValue = options.unsafe.forgetVoteOnRestart ? NONE : stored.hardState.votedFor;
    // commitIndex and lastApplied are volatile (Figure 2); what a snapshot covers is known committed and is
    // restored by the host from the snapshot.
    this.commitIndex = snapshotIndex;
    this.applied = snapshotIndex;
    this.durableIndex = this.log.lastIndex(); // what storage gave us is on disk
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
  /** The configuration in force: the latest in the log (thesis §4.1). */
  get config(): ClusterConfig {
    return this.configs[this.configs.length - 1]!.config;
  }
  private get voters(): readonly NodeId[] {
    return this.config.voters;
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
      config: this.config,
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

  /**
   * Change tunables (timeouts, PreVote, CheckQuorum, limits, teaching switches); they apply from now on. The
   * membership is not a tunable: it changes only through the log.
   */
  setOptions(options: RaftOptions): void {
    assert(options.id === this.id, `options for S${options.id} given to S${this.id}`);
    this.options = options;
  }

  // ---- Inputs -----------------------------------------------------------------------------------------------

  tick(nowMs: number): void {
    this.now = nowMs;
    this.tickRole();
  }

  step(m: Message, nowMs: number): void {
    this.now = nowMs;
    if (m.to !== this.id) return;
    if (m.term > TERM_MAX) return; // never a term a node takes (the codec refuses it before it gets here)
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
    const refusal = this.proposalRefusal();
    if (refusal) return { ok: false, reason: refusal, leader: this.roleValue === 'leader' ? this.id : this.leaderValue };
    const entry = this.appendToOwnLog('command', data);
    this.events.push({ type: 'propose', index: entry.index, term: entry.term });
    return { ok: true, index: entry.index, term: entry.term };
  }

  /**
   * Propose a membership change through the log (thesis §4.2). One at a time: a change is refused while an
   * earlier one is not committed, which keeps any two consecutive majorities overlapping.
   */
  proposeConfigChange(change: ConfigChange, nowMs: number): ProposeResult {
    this.now = nowMs;
    const refusal = this.proposalRefusal();
    if (refusal) return { ok: false, reason: refusal, leader: this.roleValue === 'leader' ? this.id : this.leaderValue };
    // One at a time, and not before this leader has committed an entry of its own term: otherwise a change it
    // appends at once may overlap an uncommitted change of an earlier leader, and two disjoint majorities
    // could each commit (the single-server bug found after the thesis; raft-dev, 2015).
    if (this.configChangePending() || this.log.termAt(this.commitIndex) !== this.termValue) {
      return { ok: false, reason: 'config-change-pending', leader: this.id };
    }
    const next = applyConfigChange(this.config, change);
    if (!next) return { ok: false, reason: 'invalid-config-change', leader: this.id };
    const entry = this.appendToOwnLog('config', JSON.stringify(next));
    this.events.push({ type: 'propose', index: entry.index, term: entry.term });
    return { ok: true, index: entry.index, term: entry.term };
  }

  private proposalRefusal(): ProposeRefusal | null {
    if (this.roleValue !== 'leader') return 'not-leader';
    if (this.transferTarget !== NONE) return 'transferring';
    if (this.log.lastIndex() - this.commitIndex >= this.options.uncommittedEntriesMax) return 'overloaded';
    return null;
  }

  private configChangePending(): boolean {
    return this.configs[this.configs.length - 1]!.index > this.commitIndex;
  }

  /**
   * The host took a snapshot of its state machine as of `index` (at most what it applied): discard the log up
   * to there (§7). The snapshot records the term of its last entry and the configuration then in force.
   */
  compact(index: number, data: string): boolean {
    if (index > this.applied || index <= this.log.snapshotIndex) return false;
    this.snapshot = { index, term: this.log.termAt(index)!, config: this.configAt(index), data };
    this.log.compactTo(index);
    this.dropConfigsBefore(index);
    this.snapshotDirty = true;
    this.events.push({ type: 'snapshot', phase: 'taken', index, term: this.snapshot.term });
    return true;
  }

  /**
   * With `reportsPersistence`: the host made our log durable up to `index`, whose entry has `term` (an entry
   * since replaced at that index is not the one made durable). A leader may now count itself for it.
   */
  persisted(index: number, term: number, nowMs: number): void {
    this.now = nowMs;
    if (index <= this.durableIndex || this.log.termAt(index) !== term) return;
    this.durableIndex = index;
    if (this.roleValue === 'leader') this.maybeCommit();
  }

  /**
   * Ask for a linearizable read (thesis §6.4). A leader confirms it still leads, then answers with its commit
   * index; a follower asks the leader. The answer comes as a ReadState in a later Ready.
   */
  readIndex(context: number, nowMs: number): void {
    this.now = nowMs;
    if (this.roleValue === 'leader') this.registerRead(context, this.id);
    else if (this.leaderValue !== NONE) this.send({ type: 'ReadIndex', from: this.id, to: this.leaderValue, term: this.termValue, context });
    else this.readStates.push({ context, refused: 'no-leader' });
  }

  /** Hand leadership to `target` (thesis §3.10): bring its log up to date, then tell it to campaign now. */
  transferLeadership(target: NodeId, nowMs: number): TransferResult {
    this.now = nowMs;
    if (this.roleValue !== 'leader') return { ok: false, reason: `S${this.id} is not the leader` };
    if (target === this.id) return { ok: false, reason: `S${this.id} is already the leader` };
    const pr = this.progress.get(target);
    if (!pr || !this.voters.includes(target)) return { ok: false, reason: `S${target} is not a voting member` };
    if (!this.voters.includes(this.id)) return { ok: false, reason: `S${this.id} is leaving the cluster` };
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
      this.snapshotDirty ||
      this.readRoundDue ||
      this.readStates.length > 0 ||
      this.replicationDue.size > 0 ||
      this.log.unstableEntries().length > 0 ||
      this.commitIndex > this.applied
    );
  }

  ready(): Ready {
    assert(!this.readyOutstanding, 'ready() called again before advance()');
    this.flushReplication();
    if (this.readRoundDue && this.roleValue === 'leader') this.broadcastHeartbeat();
    this.readRoundDue = false;
    // After a snapshot is installed, the host restores it first; entries to apply start after it.
    const applyFrom = Math.max(this.applied, this.log.snapshotIndex) + 1;
    const applyTo = Math.min(this.commitIndex, applyFrom - 1 + this.options.applyBatchMax);
    const rd: Ready = {
      hardState: this.hardStateDirty ? { term: this.termValue, votedFor: this.votedForValue } : null,
      snapshot: this.snapshotDirty ? this.snapshot : null,
      entries: this.log.unstableEntries(),
      messages: this.outbox,
      committedEntries: applyTo >= applyFrom ? this.log.slice(applyFrom, applyTo) : [],
      readStates: this.readStates,
      events: this.events,
    };
    this.readStates = [];
    this.hardStateDirty = false;
    this.snapshotDirty = false;
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
    if (rd.snapshot) this.applied = Math.max(this.applied, rd.snapshot.index);
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied) this.applied = lastApplied.index;
  }

  // ---- Terms ------------------------------------------------------------------------------------------------

  /** §5.1: a newer term makes us a follower. Returns false when the message must be dropped instead. */
  private acceptHigherTerm(m: Message): boolean {
    // A node that just restarted may have promised a lease before it crashed, and forgot it: it waits one
    // minimum election timeout before it votes, like a node that heard from a leader (thesis §6.4.1).
    const justRestarted = this.now - this.restartedAtMs < this.options.electionTimeoutMs[0];
    if (m.type === 'RequestVote' && this.options.checkQuorum && !m.transfer && (this.inLeaderLease() || justRestarted)) {
      // §4.2.3: a server that heard from a live leader lately ignores vote requests, so a partitioned or
      // removed server cannot depose a healthy leader by raising the term.
      this.events.push({ type: 'vote-ignored', candidate: m.from, term: m.term, reason: 'leader-recently-seen' });
      return false;
    }
    // A PreVote carries the term its sender would use; asking, or being granted, changes no term (§9.6).
    if (m.type === 'PreVote') return true;
    if (m.type === 'PreVoteResponse' && m.granted) return true;
    const leader = m.type === 'AppendEntries' || m.type === 'Heartbeat' || m.type === 'InstallSnapshot' ? m.from : NONE;
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
        this.send({ type: 'HeartbeatResponse', from: this.id, to: m.from, term: this.termValue, round: m.round });
        return;
      case 'ReadIndex':
        this.send({ type: 'ReadIndexResponse', from: this.id, to: m.from, term: this.termValue, context: m.context, index: 0, ok: false });
        return;
      case 'InstallSnapshot':
        this.answerSnapshot(m, 0, false, false);
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
    if (!this.voters.includes(this.id)) {
      // Only voters stand for election. A learner, or a server removed from the configuration, just waits
      // (thesis §4.2.1, §4.2.3); its timer runs on in case it is made a voter.
      this.resetElectionTimer();
      return;
    }
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
    this.trackMembers();
    this.heartbeatDeadline = this.now + this.options.heartbeatMs;
    this.checkQuorumDeadline = this.now + this.options.electionTimeoutMs[0];
    this.events.push({ type: 'role', role: 'leader', term: this.termValue, reason: 'won-election' });
    // §8: a no-op entry of the new term lets the leader commit everything before it (§5.4.2 forbids counting
    // replicas of older entries) and so learn what is committed.
    this.appendToOwnLog('noop', '');
  }

  /**
   * A leader keeps replication progress for every other member, voter or learner, of the configuration in force
   * and of the committed one before it; and for a server a committed change removed, until it holds the entry
   * that removed it (or ten election timeouts have passed: it may be gone for good). So a removed server learns
   * it is out and stops campaigning (thesis §4.2.2-§4.2.3) instead of raising its term at the others. It counts
   * toward nothing: commits and elections use the voters in force.
   */
  private trackMembers(): void {
    const members = new Set<NodeId>();
    for (const config of [this.config, this.configAt(this.commitIndex)]) for (const peer of [...config.voters, ...config.learners]) members.add(peer);
    members.delete(this.id);
    for (const peer of members) {
      this.leaving.delete(peer);
      if (!this.progress.has(peer)) {
        this.progress.set(peer, new Progress(peer, this.log.lastIndex(), this.options.inflightMessagesMax));
        this.scheduleReplication(peer, true);
      }
    }
    const removedAt = this.configs[this.configs.length - 1]!.index;
    for (const [peer, pr] of [...this.progress]) {
      if (members.has(peer)) continue;
      const leaving = this.leaving.get(peer) ?? { index: removedAt, until: this.now + 10 * this.options.electionTimeoutMs[1] };
      if (pr.match < leaving.index && this.now < leaving.until) this.leaving.set(peer, leaving);
      else {
        this.progress.delete(peer);
        this.leaving.delete(peer);
      }
    }
  }

  // ---- Configurations ---------------------------------------------------------------------------------------

  /** Note the config entries from `from` to the end of the log; they are in force at once (thesis §4.1). */
  private trackConfigEntries(from: number): void {
    for (let index = from; index <= this.log.lastIndex(); index++) {
      const entry = this.log.entryAt(index)!;
      if (entry.type === 'config') this.configs.push({ index, config: JSON.parse(entry.data) as ClusterConfig });
    }
  }

  /** Entries from `index` on are gone: configurations they set are no longer in force. */
  private forgetConfigsFrom(index: number): void {
    while (this.configs.length > 1 && this.configs[this.configs.length - 1]!.index >= index) this.configs.pop();
  }

  /** The configuration in force at `index`. */
  private configAt(index: number): ClusterConfig {
    let config = this.configs[0]!.config;
    for (const c of this.configs) if (c.index <= index) config = c.config;
    return config;
  }

  /** Entries up to `index` are compacted: the configuration in force there becomes the base. */
  private dropConfigsBefore(index: number): void {
    const base = this.configAt(index);
    this.configs = [{ index, config: base }, ...this.configs.filter((c) => c.index > index)];
  }

  private configChanged(before: ClusterConfig): void {
    const after = this.config;
    if (after === before) return;
    const index = this.configs[this.configs.length - 1]!.index;
    this.events.push({ type: 'config', index, voters: after.voters, learners: after.learners });
    if (this.roleValue === 'leader') this.trackMembers();
  }

  /** Volatile per-role state, cleared on every role change. */
  private reset(): void {
    for (const read of [...this.pendingReads, ...this.readsAwaitingCommit]) this.refuseRead(read.context, read.requester, 'lost-leadership');
    this.pendingReads = [];
    this.readsAwaitingCommit = [];
    this.readRoundDue = false;
    this.heartbeatRound = 0;
    this.roundSentAtMs.clear();
    this.leaseStartMs = -Infinity;
    this.timeoutNowSent = false;
    this.leaderValue = NONE;
    this.votes = new Map();
    this.progress = new Map();
    this.leaving = new Map();
    this.replicationDue = new Map();
    if (this.transferTarget !== NONE) this.abortTransfer();
  }

  // ---- Timers -----------------------------------------------------------------------------------------------

  private resetElectionTimer(): void {
    const [min, max] = this.options.electionTimeoutMs;
    this.electionTimeoutMs = timeBetween(this.random, min, max, this.options.timerStepMs ?? 1);
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
    if (this.now >= this.heartbeatDeadline) this.broadcastHeartbeat();
  }

  /** A new heartbeat round: it keeps followers from campaigning and confirms leadership for reads. */
  private broadcastHeartbeat(): void {
    if (this.leaving.size > 0) this.trackMembers(); // a removed server that never answers is let go in time
    this.heartbeatDeadline = this.now + this.options.heartbeatMs;
    this.heartbeatRound++;
    this.roundSentAtMs.set(this.heartbeatRound, this.now);
    for (const pr of this.progress.values()) {
      this.send({
        type: 'Heartbeat',
        from: this.id,
        to: pr.id,
        term: this.termValue,
        leaderCommit: Math.min(this.commitIndex, pr.match),
        round: this.heartbeatRound,
      });
    }
    this.releaseReads(); // a cluster of one confirms itself
  }

  // ---- Reads (thesis §6.4) ----------------------------------------------------------------------------------

  private registerRead(context: number, requester: NodeId): void {
    if (this.pendingReads.length + this.readsAwaitingCommit.length >= this.options.readRequestsMax) {
      this.refuseRead(context, requester, 'overloaded');
      return;
    }
    if (this.log.termAt(this.commitIndex) !== this.termValue) {
      // §6.4 step 1: until an entry of its own term commits, a new leader does not know the commit index.
      this.readsAwaitingCommit.push({ context, requester });
      return;
    }
    // No lease while handing over leadership: the target's election skips the voters' lease check (§3.10).
    const leaseHolds = this.options.checkQuorum && !this.timeoutNowSent && this.transferTarget === NONE && this.now < this.leaseExpiresAtMs();
    if (this.options.readMode === 'lease' && leaseHolds) {
      this.releaseRead({ context, requester, index: this.commitIndex }, 'lease');
      return;
    }
    this.pendingReads.push({ context, requester, index: this.commitIndex, needRound: this.heartbeatRound + 1 });
    this.readRoundDue = true;
  }

  /**
   * §6.4.1: followers do not start an election until an election timeout after hearing from the leader, so
   * the leader leads at least that long after the start of a round a majority answered, less the drift of
   * clocks that may run faster than ours.
   */
  private leaseExpiresAtMs(): number {
    return this.leaseStartMs + this.options.electionTimeoutMs[0] / (1 + this.options.clockDriftBound);
  }

  /** The latest heartbeat round a majority of voters (counting us) has answered. */
  private confirmedRound(): number {
    return committedIndex(this.voters, (id) => (id === this.id ? this.heartbeatRound : (this.progress.get(id)?.heartbeatRoundAcked ?? 0)));
  }

  private releaseReads(): void {
    const confirmed = this.confirmedRound();
    const startedAt = this.roundSentAtMs.get(confirmed);
    if (startedAt !== undefined) this.leaseStartMs = Math.max(this.leaseStartMs, startedAt);
    for (const round of this.roundSentAtMs.keys()) if (round < confirmed) this.roundSentAtMs.delete(round);
    const ready = this.pendingReads.filter((read) => read.needRound <= confirmed);
    if (ready.length === 0) return;
    this.pendingReads = this.pendingReads.filter((read) => read.needRound > confirmed);
    for (const read of ready) this.releaseRead(read, 'heartbeat-round');
  }

  private releaseRead(read: { context: number; requester: NodeId; index: number }, via: 'heartbeat-round' | 'lease'): void {
    this.events.push({ type: 'read', context: read.context, requester: read.requester, index: read.index, via });
    if (read.requester === this.id) this.readStates.push({ context: read.context, index: read.index });
    else this.send({ type: 'ReadIndexResponse', from: this.id, to: read.requester, term: this.termValue, context: read.context, index: read.index, ok: true });
  }

  private refuseRead(context: number, requester: NodeId, reason: 'lost-leadership' | 'overloaded'): void {
    if (requester === this.id) this.readStates.push({ context, refused: reason });
    else this.send({ type: 'ReadIndexResponse', from: this.id, to: requester, term: this.termValue, context, index: 0, ok: false });
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
      case 'InstallSnapshot':
        this.handleInstallSnapshot(m);
        return;
      case 'RequestVote':
      case 'PreVote':
        this.handleVoteRequest(m);
        return;
      case 'TimeoutNow':
        this.campaign('timeout-now');
        return;
      case 'ReadIndex':
      case 'ReadIndexResponse':
        this.handleReadAsNonLeader(m);
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
      case 'InstallSnapshot':
        this.becomeFollower(this.termValue, m.from, 'leader-discovered', m.from);
        this.handleInstallSnapshot(m);
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
      case 'ReadIndex':
      case 'ReadIndexResponse':
        this.handleReadAsNonLeader(m);
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

  /** A follower's read: refuse a request (we do not lead; the asker tries the leader it learns of) or take
   *  the leader's answer. */
  private handleReadAsNonLeader(m: ReadIndex | ReadIndexResponse): void {
    if (m.type === 'ReadIndex') {
      this.send({ type: 'ReadIndexResponse', from: this.id, to: m.from, term: this.termValue, context: m.context, index: 0, ok: false });
    } else {
      this.readStates.push(m.ok ? { context: m.context, index: m.index } : { context: m.context, refused: 'lost-leadership' });
    }
  }

  private handleHeartbeat(m: Heartbeat): void {
    this.leaderValue = m.from;
    this.lastLeaderContactMs = this.now;
    this.resetElectionTimer();
    this.commitTo(Math.min(m.leaderCommit, this.log.lastIndex()));
    this.send({ type: 'HeartbeatResponse', from: this.id, to: m.from, term: this.termValue, round: m.round });
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
    const configBefore = this.config;
    for (const entry of m.entries) {
      if (entry.index <= this.log.snapshotIndex) continue;
      const existing = this.log.termAt(entry.index);
      if (existing === entry.term) continue;
      if (existing !== undefined) {
        this.log.truncateFrom(entry.index);
        this.durableIndex = Math.min(this.durableIndex, entry.index - 1);
        this.forgetConfigsFrom(entry.index);
        truncatedFrom = entry.index;
      }
      this.log.append(entry);
      if (entry.type === 'config') this.configs.push({ index: entry.index, config: JSON.parse(entry.data) as ClusterConfig });
    }
    this.configChanged(configBefore);
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

  /**
   * Figure 13: chunks arrive in order and are assembled in memory; the last one installs the snapshot. If our
   * log holds the snapshot's last entry with the same term, the entries after it stay; otherwise the snapshot
   * replaces the whole log.
   */
  private handleInstallSnapshot(m: InstallSnapshot): void {
    this.leaderValue = m.from;
    this.lastLeaderContactMs = this.now;
    this.resetElectionTimer();
    if (m.lastIncludedIndex <= this.commitIndex) {
      // We already hold (committed) everything it covers: tell the leader to go on from there.
      this.incomingSnapshot = null;
      this.answerSnapshot(m, m.offset + m.data.length, true, true);
      return;
    }
    let incoming = this.incomingSnapshot;
    if (!incoming || incoming.index !== m.lastIncludedIndex || incoming.term !== m.lastIncludedTerm) {
      if (m.offset !== 0) {
        this.answerSnapshot(m, 0, false, false); // the start of a snapshot we never saw: begin again
        return;
      }
      incoming = { index: m.lastIncludedIndex, term: m.lastIncludedTerm, config: m.config, chunks: [], received: 0 };
      this.incomingSnapshot = incoming;
    }
    if (m.offset !== incoming.received) {
      // A duplicate (behind) is harmless; a gap (ahead) means a chunk was lost: ask for it again.
      this.answerSnapshot(m, incoming.received, m.offset < incoming.received, false);
      return;
    }
    incoming.chunks.push(m.data);
    incoming.received += m.data.length;
    if (!m.done) {
      this.answerSnapshot(m, incoming.received, true, false);
      return;
    }
    this.incomingSnapshot = null;
    const configBefore = this.config;
    this.snapshot = { index: incoming.index, term: incoming.term, config: incoming.config, data: incoming.chunks.join('') };
    if (this.log.matches(incoming.index, incoming.term)) {
      this.log.compactTo(incoming.index);
      this.dropConfigsBefore(incoming.index);
    } else {
      this.log.resetTo(incoming.index, incoming.term);
      this.durableIndex = Math.min(this.durableIndex, incoming.index);
      this.configs = [{ index: incoming.index, config: incoming.config }];
    }
    this.snapshotDirty = true;
    this.commitIndex = incoming.index; // a snapshot holds only committed entries
    this.events.push({ type: 'snapshot', phase: 'installed', index: incoming.index, term: incoming.term });
    this.configChanged(configBefore);
    this.answerSnapshot(m, incoming.received, true, true);
  }

  private answerSnapshot(m: InstallSnapshot, offset: number, success: boolean, done: boolean): void {
    this.send({
      type: 'InstallSnapshotResponse',
      from: this.id,
      to: m.from,
      term: this.termValue,
      lastIncludedIndex: m.lastIncludedIndex,
      offset,
      success,
      done,
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
        if (m.round > pr.heartbeatRoundAcked) {
          pr.heartbeatRoundAcked = m.round;
          this.releaseReads();
        }
        if (pr.state === 'snapshot' && this.now - pr.snapshotProgressAtMs >= 2 * this.options.heartbeatMs) {
          // The follower is alive but the snapshot stopped moving: a chunk or its answer was lost.
          pr.rewindSnapshot(this.now);
          this.scheduleReplication(m.from, true);
        } else if (pr.match < this.log.lastIndex() && pr.needsProbe(this.now, this.options.heartbeatMs)) {
          this.scheduleReplication(m.from, true);
        }
        // A learner that caught up while a promotion could not be proposed (a transfer under way, a change
        // pending) is promoted on a later heartbeat, even when nothing else commits (thesis §4.2.1).
        this.maybePromote(pr);
        return;
      }
      case 'InstallSnapshotResponse':
        this.handleSnapshotResponse(m);
        return;
      case 'ReadIndex':
        this.registerRead(m.context, m.from);
        return;
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
    if (pr.state === 'snapshot' && m.matchIndex < pr.snapshotIndex) return; // sent before the snapshot began
    pr.acknowledge(m.matchIndex);
    if (pr.state !== 'replicate') pr.becomeReplicate();
    if (this.leaving.has(m.from)) this.trackMembers(); // a removed server: done once it holds its removal
    else this.onFollowerProgress(pr);
    if (this.progress.has(m.from)) this.scheduleReplication(m.from, false);
  }

  /** A follower's match index moved: commit what a majority holds, then see what that allows. */
  private onFollowerProgress(pr: Progress): void {
    this.maybeCommit();
    if (this.roleValue !== 'leader') return; // stepped down: our own removal committed
    if (pr.id === this.transferTarget && pr.match === this.log.lastIndex()) this.sendTimeoutNow(pr.id);
    this.maybePromote(pr);
  }

  /**
   * Thesis §4.2.1: a new server joins as a learner, so that catching up does not stall commitment; once its
   * log reaches our commit index, it becomes a voter.
   */
  private maybePromote(pr: Progress): void {
    if (!this.config.learners.includes(pr.id) || pr.match < this.commitIndex) return;
    if (this.configChangePending() || this.proposalRefusal() !== null) return;
    this.proposeConfigChange({ type: 'promote', node: pr.id }, this.now);
  }

  private handleSnapshotResponse(m: InstallSnapshotResponse): void {
    const pr = this.progress.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    if (pr.state !== 'snapshot' || m.lastIncludedIndex !== pr.snapshotIndex) return; // about another transfer
    if (m.done) {
      pr.snapshotInstalled();
      this.onFollowerProgress(pr);
      this.scheduleReplication(m.from, true);
      return;
    }
    pr.snapshotAcknowledged(m.offset, m.success, this.now);
    this.scheduleReplication(m.from, true);
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
    const own = this.options.reportsPersistence ? Math.min(this.durableIndex, this.log.lastIndex()) : this.log.lastIndex();
    const index = committedIndex(this.voters, (id) => (id === this.id ? own : (this.progress.get(id)?.match ?? 0)));
    if (index <= this.commitIndex) return;
    if (this.log.termAt(index) !== this.termValue && !this.options.unsafe.commitPreviousTerms) return;
    this.commitTo(index);
    if (!this.voters.includes(this.id) && !this.configChangePending()) {
      // Thesis §4.2.2: a leader that is not in the committed configuration steps down.
      this.becomeFollower(this.termValue, NONE, 'removed');
      return;
    }
    for (const follower of this.progress.values()) this.maybePromote(follower);
  }

  private commitTo(index: number): void {
    if (index <= this.commitIndex) return;
    const committedConfig = this.configAt(this.commitIndex);
    this.commitIndex = index;
    // A configuration committed: a server it removed has been sent its removal; stop replicating to it.
    if (this.roleValue === 'leader' && this.configAt(index) !== committedConfig) this.trackMembers();
    this.events.push({ type: 'commit', index, term: this.log.termAt(index) ?? 0 });
    if (this.roleValue === 'leader' && this.readsAwaitingCommit.length > 0 && this.log.termAt(index) === this.termValue) {
      const waiting = this.readsAwaitingCommit;
      this.readsAwaitingCommit = [];
      for (const read of waiting) this.registerRead(read.context, read.requester);
    }
  }

  private appendToOwnLog(type: Entry['type'], data: string): Entry {
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.termValue, type, data };
    const configBefore = this.config;
    this.log.append(entry);
    if (type === 'config') this.configs.push({ index: entry.index, config: JSON.parse(data) as ClusterConfig });
    this.configChanged(configBefore);
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
      if (!pr) continue;
      if (pr.state === 'snapshot') this.sendSnapshotChunks(pr);
      else this.sendAppend(pr, evenIfEmpty);
    }
    this.replicationDue.clear();
  }

  private sendAppend(pr: Progress, evenIfEmpty: boolean): void {
    // In replicate state keep sending while the pipeline has room; a probe goes out once per answer.
    while (pr.canSend()) {
      const prevLogIndex = pr.next - 1;
      const prevLogTerm = this.log.termAt(prevLogIndex);
      if (prevLogTerm === undefined) {
        // The follower needs entries we compacted away: send our snapshot instead (§7).
        assert(this.snapshot !== null, `S${this.id} has no entry ${prevLogIndex} and no snapshot for S${pr.id}`);
        pr.becomeSnapshot(this.snapshot, this.now);
        this.sendSnapshotChunks(pr);
        return;
      }
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

  /** Stream the snapshot in chunks of `snapshotChunkBytes`, at most `snapshotChunksInflightMax` unanswered. */
  private sendSnapshotChunks(pr: Progress): void {
    const snapshot = pr.snapshot!;
    const chunkBytes = this.options.snapshotChunkBytes;
    const windowBytes = chunkBytes * this.options.snapshotChunksInflightMax;
    while (!pr.snapshotDoneSent && pr.snapshotSentOffset - pr.snapshotAckedOffset < windowBytes) {
      const offset = pr.snapshotSentOffset;
      const data = snapshot.data.slice(offset, offset + chunkBytes);
      const done = offset + data.length >= snapshot.data.length;
      this.send({
        type: 'InstallSnapshot',
        from: this.id,
        to: pr.id,
        term: this.termValue,
        lastIncludedIndex: snapshot.index,
        lastIncludedTerm: snapshot.term,
        config: snapshot.config,
        offset,
        data,
        done,
      });
      pr.snapshotChunkSent(data.length, done);
    }
  }

  private sendTimeoutNow(target: NodeId): void {
    this.timeoutNowSent = true;
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

/** The configuration after `change`, or null when the change does not apply (thesis §4.2). */
export function applyConfigChange(config: ClusterConfig, change: ConfigChange): ClusterConfig | null {
  const { voters, learners } = config;
  const node = change.node;
  const ascending = (ids: NodeId[]) => ids.sort((a, b) => a - b);
  switch (change.type) {
    case 'add-learner':
      if (voters.includes(node) || learners.includes(node)) return null;
      return { voters, learners: ascending([...learners, node]) };
    case 'promote':
      if (!learners.includes(node)) return null;
      return { voters: ascending([...voters, node]), learners: learners.filter((id) => id !== node) };
    case 'remove': {
      if (!voters.includes(node) && !learners.includes(node)) return null;
      const remaining = voters.filter((id) => id !== node);
      return remaining.length === 0 ? null : { voters: remaining, learners: learners.filter((id) => id !== node) };
    }
  }
}
