// The data that crosses the boundary of the Raft core: log entries, messages, persistent state, and the
// events that explain each decision. Everything here is plain, serializable data.

/** Nodes are numbered 1..N; 0 means "none" (no vote, no known leader). */
export type NodeId = number;
export const NONE: NodeId = 0;

/**
 * The highest term a node takes. Far beyond any real cluster's (a million elections a second would need nine
 * years to reach it), and far enough below 2^53 that a term and its successor are exact numbers. The codec
 * refuses a message over it and the core ignores one, so a forged term cannot leave a cluster unable to elect.
 */
export const TERM_MAX = 2 ** 48;

/** `config` entries carry a whole ClusterConfig as JSON (thesis §4.1: in force as soon as it is in a log). */
export type EntryType = 'noop' | 'command' | 'config';

/** One log entry. `data` is opaque to Raft; the state machine decodes it. */
export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: string;
}

/** The state Figure 2 calls persistent: it must be durable before a reply that depends on it leaves. */
export interface HardState {
  readonly term: number;
  readonly votedFor: NodeId;
}

export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader';

/** The members of the cluster: voters count in elections and commitment; learners only receive the log. */
export interface ClusterConfig {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** A state machine image that replaces the log up to `index` (§7, Figure 13). */
export interface Snapshot {
  readonly index: number;
  readonly term: number;
  /** The configuration in force at `index`, since the entries that set it are gone. */
  readonly config: ClusterConfig;
  readonly data: string;
}

// ---- Messages ---------------------------------------------------------------------------------------------

interface MessageHeader {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's current term; for PreVote, the term the sender would campaign in. */
  readonly term: number;
}

export interface RequestVote extends MessageHeader {
  readonly type: 'RequestVote';
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** Sent because of a leadership transfer: voters skip the leader-lease check (thesis §3.10, §4.2.3). */
  readonly transfer: boolean;
}

export interface RequestVoteResponse extends MessageHeader {
  readonly type: 'RequestVoteResponse';
  readonly granted: boolean;
  readonly reason: VoteReason;
}

/** A trial election that changes no term and no vote (thesis §9.6). */
export interface PreVote extends MessageHeader {
  readonly type: 'PreVote';
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
}

export interface PreVoteResponse extends MessageHeader {
  readonly type: 'PreVoteResponse';
  readonly granted: boolean;
  readonly reason: VoteReason;
}

export interface AppendEntries extends MessageHeader {
  readonly type: 'AppendEntries';
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly leaderCommit: number;
}

export interface AppendEntriesResponse extends MessageHeader {
  readonly type: 'AppendEntriesResponse';
  readonly success: boolean;
  /** On success the last index known to match the leader; on rejection the prevLogIndex that was rejected. */
  readonly matchIndex: number;
  /** Fast backup: the term of the follower's conflicting entry (0 when its log is too short)... */
  readonly conflictTerm: number;
  /** ...and the first index the follower holds for that term (or its last index + 1 when too short). */
  readonly conflictIndex: number;
  readonly reason: AppendReason;
}

/** An empty AppendEntries in spirit: it asserts leadership and carries a commit index the follower can trust. */
export interface Heartbeat extends MessageHeader {
  readonly type: 'Heartbeat';
  /** min(leader's commit, follower's match): never beyond what the follower is known to hold. */
  readonly leaderCommit: number;
  /** Which heartbeat round of this leader this is; answers echo it (thesis §6.4: confirming leadership). */
  readonly round: number;
}

export interface HeartbeatResponse extends MessageHeader {
  readonly type: 'HeartbeatResponse';
  readonly round: number;
}

/** A follower asks the leader for a read index on behalf of its client (thesis §6.4). */
export interface ReadIndex extends MessageHeader {
  readonly type: 'ReadIndex';
  readonly context: number;
}

export interface ReadIndexResponse extends MessageHeader {
  readonly type: 'ReadIndexResponse';
  readonly context: number;
  /** The read may be served once the follower has applied this index; 0 with `ok` false: refused. */
  readonly index: number;
  readonly ok: boolean;
}

/** One chunk of a snapshot (Figure 13). Chunks go in order; `done` marks the last. */
export interface InstallSnapshot extends MessageHeader {
  readonly type: 'InstallSnapshot';
  readonly lastIncludedIndex: number;
  readonly lastIncludedTerm: number;
  readonly config: ClusterConfig;
  readonly offset: number;
  readonly data: string;
  readonly done: boolean;
}

export interface InstallSnapshotResponse extends MessageHeader {
  readonly type: 'InstallSnapshotResponse';
  readonly lastIncludedIndex: number;
  /** How much of the snapshot the follower holds: where the next chunk must start. */
  readonly offset: number;
  /** False when the chunk did not start at `offset` (one was lost): the leader resends from there. */
  readonly success: boolean;
  /** The snapshot is installed (or the follower already had everything it covers). */
  readonly done: boolean;
}

/** Leadership transfer: "start an election now" (thesis §3.10). */
export interface TimeoutNow extends MessageHeader {
  readonly type: 'TimeoutNow';
}

export type Message =
  | RequestVote
  | RequestVoteResponse
  | PreVote
  | PreVoteResponse
  | AppendEntries
  | AppendEntriesResponse
  | Heartbeat
  | HeartbeatResponse
  | InstallSnapshot
  | InstallSnapshotResponse
  | ReadIndex
  | ReadIndexResponse
  | TimeoutNow;

export type MessageType = Message['type'];

// ---- Reasons ----------------------------------------------------------------------------------------------
// Every decision carries one of these codes so that a person can be told why, in words (see docs/trace.md).

export type VoteReason =
  | 'granted'
  | 'already-voted' // §5.2: at most one vote per term
  | 'has-leader' // we already follow a leader in this term, so no other candidate can win it
  | 'stale-term' // the candidate's term is behind ours
  | 'log-behind' // §5.4.1: the candidate's log is less up-to-date than ours
  | 'leader-recently-seen'; // §4.2.3 / §9.6: we heard from a live leader less than an election timeout ago

export type AppendReason =
  | 'ok'
  | 'stale-term' // the sender's term is behind ours: it is not the leader any more
  | 'missing-entry' // §5.3: we have no entry at prevLogIndex
  | 'term-mismatch'; // §5.3: our entry at prevLogIndex has another term

export type RoleReason =
  | 'start' // the node (re)started
  | 'election-timeout' // §5.2: no word from a leader for an election timeout
  | 'forced-timeout' // a person or a scenario forced the timeout
  | 'timeout-now' // leadership transfer asked this node to campaign (thesis §3.10)
  | 'won-prevote' // a majority said it would vote (thesis §9.6)
  | 'won-election' // §5.2: votes from a majority
  | 'lost-election' // a majority denied its vote (or pre-vote): wait as a follower
  | 'higher-term' // §5.1: a message carried a newer term
  | 'leader-discovered' // §5.2: a candidate heard from the leader of its term
  | 'lost-quorum' // CheckQuorum (thesis §6.2): no majority heard from in an election timeout
  | 'removed'; // thesis §4.2.2: a leader steps down once its removal from the configuration commits

// ---- Events -----------------------------------------------------------------------------------------------
// What the core did and why, in order. The host adds the time and the node id.

export type CoreEvent =
  | { readonly type: 'role'; readonly role: Role; readonly term: number; readonly reason: RoleReason; readonly peer?: NodeId }
  | {
      readonly type: 'vote';
      readonly candidate: NodeId;
      readonly term: number;
      readonly preVote: boolean;
      readonly granted: boolean;
      readonly reason: VoteReason;
      /** The voter's and the candidate's last log term and index, to explain the §5.4.1 comparison. */
      readonly lastLogTerm: number;
      readonly lastLogIndex: number;
      readonly candidateLastLogTerm: number;
      readonly candidateLastLogIndex: number;
    }
  | { readonly type: 'vote-ignored'; readonly candidate: NodeId; readonly term: number; readonly reason: 'leader-recently-seen' }
  | {
      readonly type: 'append';
      readonly leader: NodeId;
      readonly term: number;
      readonly prevLogIndex: number;
      readonly entries: number;
      readonly success: boolean;
      readonly reason: AppendReason;
      /** Set when conflicting entries from this index on were removed (§5.3). */
      readonly truncatedFrom?: number;
    }
  | { readonly type: 'commit'; readonly index: number; readonly term: number }
  | { readonly type: 'propose'; readonly index: number; readonly term: number }
  | { readonly type: 'transfer'; readonly target: NodeId; readonly phase: TransferPhase }
  /** A snapshot was taken here (`taken`) or received from the leader and installed (`installed`). */
  | { readonly type: 'snapshot'; readonly phase: 'taken' | 'installed'; readonly index: number; readonly term: number }
  /**
   * A linearizable read may proceed at `index`: leadership was confirmed by a heartbeat round that a majority
   * answered after the read arrived (`heartbeat-round`), or the leader's lease had not run out (`lease`).
   */
  | { readonly type: 'read'; readonly context: number; readonly requester: NodeId; readonly index: number; readonly via: 'heartbeat-round' | 'lease' }
  /** The configuration in force changed: a config entry was appended or removed, or a snapshot installed. */
  | { readonly type: 'config'; readonly index: number; readonly voters: readonly NodeId[]; readonly learners: readonly NodeId[] };

/** The answer to a read request: serve it once `index` is applied, or the reason it was refused. */
export type ReadState =
  | { readonly context: number; readonly index: number }
  | { readonly context: number; readonly refused: ReadRefusal };

export type ReadRefusal = 'no-leader' | 'lost-leadership' | 'overloaded';

export type TransferPhase = 'started' | 'timeout-now-sent' | 'completed' | 'aborted';
