// The safety checker: watches every node from the outside after every simulated event and reports any breach
// of the properties the Raft paper proves (Figure 3), plus the monotonicity the proofs rely on. It reads only
// what a node exposes (role, term, vote, log, commit and applied indexes) and what the host applies; it shares
// no logic with the core, so a broken rule in the core shows up here.
import { quorumSize } from '../core/quorum.ts';
import { NONE, type Entry, type NodeId, type Role } from '../core/types.ts';
import { hashNumbers, hashString } from './hash.ts';

export type Invariant =
  | 'ElectionSafety' // at most one leader per term (§5.2)
  | 'LeaderAppendOnly' // a leader never overwrites or deletes its entries (§5.3)
  | 'LogMatching' // same index and term => identical logs up to there (§5.3)
  | 'LeaderCompleteness' // a committed entry is in the log of every later leader (§5.4)
  | 'StateMachineSafety' // no two nodes apply different entries at one index (§5.4.3)
  | 'CommittedEntryChanged' // a committed entry is never removed or replaced
  | 'CommitWithoutQuorum' // a leader commits only what a majority of its configuration holds (§5.3, thesis §4.1)
  | 'SnapshotOfUncommitted' // a snapshot covers only committed entries (§7)
  | 'StaleRead' // a read returned a value older than a write that completed before the read began (§6.4)
  | 'Linearizability' // the clients' history cannot be ordered as one sequence of operations (src/check)
  | 'QueueGuarantee' // a task queue broke a promise: re-handed an acked task, overlapping leases, FIFO
  | 'CommitIndexDecreased'
  | 'AppliedIndexDecreased'
  | 'AppliedOutOfOrder'
  | 'TermDecreased'
  | 'VoteChanged'; // one vote per term, kept across restarts (Figure 2)

/** Each invariant in words, for a learner who just broke it: what it promises, and where the paper says so. */
export const INVARIANT_MEANING: Readonly<Record<Invariant, string>> = {
  ElectionSafety: 'at most one leader is elected in a term (§5.2): two leaders could each commit different entries at one index',
  LeaderAppendOnly: 'a leader never overwrites or deletes entries in its own log (§5.3)',
  LogMatching: 'two logs with an entry of the same index and term are identical up to it (§5.3)',
  LeaderCompleteness: 'an entry committed in a term is in the log of every leader of a later term (§5.4): a leader without it will overwrite what clients were told is saved',
  StateMachineSafety: 'no two servers apply different entries at the same index (§5.4.3): the replicas no longer hold the same data',
  CommittedEntryChanged: 'a committed entry is never removed or replaced (§5.4): a write the client was told is saved was lost',
  CommitWithoutQuorum: 'a leader commits only what a majority of its configuration stores (§5.3, thesis §4.1)',
  SnapshotOfUncommitted: 'a snapshot holds only committed entries (§7)',
  StaleRead: 'a read returns a value at least as new as any write that completed before the read began (thesis §6.4)',
  Linearizability: "the clients' operations can be put in one order that agrees with when each one ran (thesis §6)",
  QueueGuarantee: 'the task queue keeps its promises: an acknowledged task is never handed out again, leases do not overlap, tasks go first in, first out',
  CommitIndexDecreased: "a server's commit index never goes back",
  AppliedIndexDecreased: 'a server never un-applies an entry',
  AppliedOutOfOrder: 'a server applies entries in index order',
  TermDecreased: "a server's term never goes back (Figure 2: it is kept on disk)",
  VoteChanged: 'a server votes at most once in a term, and keeps that vote across restarts (Figure 2)',
};

export interface Violation {
  readonly t: number;
  readonly node: NodeId;
  readonly invariant: Invariant;
  readonly message: string;
}

/** What the checker reads of a node's log: the host's stable storage, or the core's own log. */
export interface ObservedLog {
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  lastIndex(): number;
  entryAt(index: number): Entry | undefined;
}

/** What the checker reads of a running node: what Figure 2 names, nothing of how the core works. */
export interface ObservedState {
  readonly role: Role;
  readonly term: number;
  readonly votedFor: NodeId;
  readonly commit: number;
  readonly lastApplied: number;
  readonly config: { readonly voters: readonly NodeId[] };
  readonly log: ObservedLog;
}

/** What the checker needs of a node: its id and, while it runs, its Raft state. */
export interface ObservedNode {
  readonly id: NodeId;
  readonly raft: ObservedState | null;
}

/** The checker's own copy of what it has seen of one node. */
class Mirror {
  /** Entry objects by index, as last seen: the log changes only by truncation and appending, so comparing
   *  identities from the end finds exactly the suffix that changed. */
  entries: (Entry | undefined)[] = [undefined];
  /** chain[i] fingerprints entries 1..i: equal chains mean equal logs up to i. */
  chain: number[] = [0];
  /** The node's snapshot index as last seen: entries up to it are compacted, their fingerprints kept. */
  snapshotIndex = 0;
  term = 0;
  votedFor: NodeId = NONE;
  leaderTerm = 0;
  // Volatile: reset when the node restarts.
  commit = 0;
  /** The last entry the host applied (from onApply and onRestore)... */
  applied = 0;
  /** ...and the highest applied index the node itself has reported. */
  appliedReported = 0;

  lastIndex(): number {
    return this.entries.length - 1;
  }
}

const pairKey = (index: number, term: number) => index * 1_000_000 + term;

export class SafetyChecker {
  readonly violations: Violation[] = [];
  private readonly mirrors = new Map<NodeId, Mirror>();
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** Chain fingerprint of the first log seen holding (index, term). */
  private readonly chainOfPair = new Map<number, number>();
  /** By index: chain fingerprint of the committed entry, and the term in which it was first seen committed. */
  private readonly committedChain: number[] = [0];
  private readonly committedInTerm: number[] = [0];
  private readonly committedEntryTerm: number[] = [0];
  /** By index: fingerprint of the entry first applied there, and who applied it. */
  private readonly appliedFingerprint: number[] = [];
  private readonly appliedBy: NodeId[] = [];
  private now = 0;

  constructor(private readonly onViolation?: (violation: Violation) => void) {}

  private mirror(id: NodeId): Mirror {
    let mirror = this.mirrors.get(id);
    if (!mirror) this.mirrors.set(id, (mirror = new Mirror()));
    return mirror;
  }

  /** A breach seen by a client of the cluster rather than in a node's state (e.g. a stale read). */
  reportClientViolation(node: NodeId, invariant: Invariant, message: string, now: number): void {
    this.now = now;
    this.report(node, invariant, message);
  }

  private report(node: NodeId, invariant: Invariant, message: string): void {
    const violation: Violation = { t: this.now, node, invariant, message };
    this.violations.push(violation);
    this.onViolation?.(violation);
  }

  /** The node crashed: its volatile state is gone; what it persisted stays under watch. */
  onCrash(_id: NodeId): void {}

  /** The node (re)started: commit and applied indexes start over from its snapshot. */
  onRestart(id: NodeId, snapshotIndex: number): void {
    const mirror = this.mirror(id);
    mirror.commit = 0;
    mirror.applied = snapshotIndex;
    mirror.appliedReported = snapshotIndex;
    mirror.leaderTerm = 0;
  }

  /** The host restored the node's state machine from a snapshot up to `index`. */
  onRestore(id: NodeId, index: number): void {
    this.mirror(id).applied = index;
  }

  /** The host applied `entry` on node `id`. */
  onApply(id: NodeId, entry: Entry, now: number): void {
    this.now = now;
    const mirror = this.mirror(id);
    if (entry.index !== mirror.applied + 1) {
      this.report(id, 'AppliedOutOfOrder', `S${id} applied entry ${entry.index} after entry ${mirror.applied}`);
    }
    mirror.applied = entry.index;
    const fingerprint = this.fingerprint(entry);
    const earlier = this.appliedFingerprint[entry.index];
    if (earlier === undefined) {
      this.appliedFingerprint[entry.index] = fingerprint;
      this.appliedBy[entry.index] = id;
    } else if (earlier !== fingerprint) {
      this.report(
        id,
        'StateMachineSafety',
        `S${id} applied entry ${entry.index} (term ${entry.term}) but S${this.appliedBy[entry.index]} applied a different entry at index ${entry.index}`,
      );
    }
  }

  /** Term, type and data of an entry. */
  private fingerprint(entry: Entry): number {
    return hashNumbers(hashString(entry.data), entry.term, entry.type === 'noop' ? 0 : 1);
  }

  /** Check node `node` after an event that may have changed it. */
  observe(node: ObservedNode, now: number): void {
    this.now = now;
    const raft = node.raft;
    if (!raft) return;
    const id = node.id;
    const mirror = this.mirror(id);

    // Term and vote only move forward, across restarts too: they are persistent (Figure 2).
    if (raft.term < mirror.term) {
      this.report(id, 'TermDecreased', `S${id}'s term went back from ${mirror.term} to ${raft.term}`);
    } else if (raft.term === mirror.term && mirror.votedFor !== NONE && raft.votedFor !== mirror.votedFor) {
      this.report(
        id,
        'VoteChanged',
        `S${id} voted for S${mirror.votedFor} in term ${raft.term}, then its vote became ${raft.votedFor === NONE ? 'none' : `S${raft.votedFor}`}`,
      );
    }
    mirror.term = raft.term;
    mirror.votedFor = raft.votedFor;

    const previousLast = mirror.lastIndex();
    if (raft.log.snapshotIndex > mirror.snapshotIndex) this.syncSnapshot(id, raft, mirror);
    const truncatedFrom = this.syncLog(id, raft, mirror);
    if (truncatedFrom <= previousLast && raft.role === 'leader' && mirror.leaderTerm === raft.term) {
      this.report(id, 'LeaderAppendOnly', `S${id}, leader of term ${raft.term}, removed its entries from index ${truncatedFrom} on`);
    }

    if (raft.role === 'leader') {
      const holder = this.leaderOfTerm.get(raft.term);
      if (holder === undefined) this.leaderOfTerm.set(raft.term, id);
      else if (holder !== id) this.report(id, 'ElectionSafety', `S${id} and S${holder} are both leaders of term ${raft.term}`);
      if (mirror.leaderTerm !== raft.term) {
        mirror.leaderTerm = raft.term;
        this.checkLeaderCompleteness(id, raft.term, mirror);
      }
    } else {
      mirror.leaderTerm = 0;
    }

    if (raft.commit < mirror.commit) {
      this.report(id, 'CommitIndexDecreased', `S${id}'s commit index went back from ${mirror.commit} to ${raft.commit}`);
    }
    for (let index = mirror.commit + 1; index <= raft.commit; index++) {
      if (!this.recordCommitted(id, index, raft, mirror)) break; // one report is enough
    }
    mirror.commit = Math.max(mirror.commit, raft.commit);

    const appliedBefore = Math.max(mirror.applied, mirror.appliedReported);
    if (raft.lastApplied < appliedBefore) {
      this.report(id, 'AppliedIndexDecreased', `S${id}'s applied index went back from ${appliedBefore} to ${raft.lastApplied}`);
    }
    mirror.appliedReported = Math.max(mirror.appliedReported, raft.lastApplied);
  }

  /**
   * The node compacted its log or installed a snapshot. A snapshot holds only committed entries, so its last
   * entry must be the committed one; if the node's log disagreed with it below its index (an installed
   * snapshot replaced a divergent log), its fingerprints there become those of the committed log.
   */
  private syncSnapshot(id: NodeId, raft: ObservedState, mirror: Mirror): void {
    const index = raft.log.snapshotIndex;
    const term = raft.log.snapshotTerm;
    mirror.snapshotIndex = index;
    if (raft.commit < index) {
      this.report(id, 'SnapshotOfUncommitted', `S${id}'s snapshot reaches index ${index}, past its commit index ${raft.commit}`);
      return;
    }
    if (mirror.entries[index]?.term === term) {
      // Our copy of its log agrees with the snapshot (it compacted its own log, or its log matched the one
      // sent), and it committed that far: record those commits before the entries are gone.
      for (let i = mirror.commit + 1; i <= index; i++) this.recordCommitted(id, i, raft, mirror);
      mirror.commit = Math.max(mirror.commit, index);
    }
    const committedChain = this.committedChain[index];
    if (committedChain === undefined) {
      this.report(id, 'SnapshotOfUncommitted', `S${id}'s snapshot reaches index ${index}, beyond every commit index seen`);
      return;
    }
    if (this.committedEntryTerm[index] !== term) {
      this.report(
        id,
        'SnapshotOfUncommitted',
        `S${id}'s snapshot ends with an entry of term ${term} at ${index}, but the committed entry there has term ${this.committedEntryTerm[index]}`,
      );
      return;
    }
    if (mirror.chain[index] === committedChain) return;
    // An installed snapshot replaced a log that disagreed with it: below its index the node now holds the
    // committed entries. The objects are gone; their fingerprints are known.
    mirror.entries.length = index + 1;
    mirror.chain.length = index + 1;
    for (let i = 1; i <= index; i++) {
      mirror.entries[i] = undefined;
      mirror.chain[i] = this.committedChain[i]!;
    }
  }

  /** Bring the mirror up to date with the node's log. Returns the first index that changed (or Infinity). */
  private syncLog(id: NodeId, raft: ObservedState, mirror: Mirror): number {
    const log = raft.log;
    const last = log.lastIndex();
    let same = Math.min(mirror.lastIndex(), last);
    while (same > log.snapshotIndex && log.entryAt(same) !== mirror.entries[same]) same--;
    // A log reloaded from storage may hold equal copies rather than the same objects: adopt those.
    for (let next = same + 1; next <= Math.min(mirror.lastIndex(), last); next++) {
      const ours = mirror.entries[next];
      const theirs = log.entryAt(next)!;
      if (!ours || ours.term !== theirs.term || ours.type !== theirs.type || ours.data !== theirs.data) break;
      mirror.entries[next] = theirs;
      same = next;
    }
    const truncatedFrom = same < mirror.lastIndex() ? same + 1 : Infinity;
    if (truncatedFrom <= mirror.lastIndex()) {
      // Committed entries are never removed: not those this node committed, nor any the cluster committed.
      const known = this.committedChain[truncatedFrom];
      if (truncatedFrom <= mirror.commit || (known !== undefined && mirror.chain[truncatedFrom] === known)) {
        this.report(id, 'CommittedEntryChanged', `S${id} removed entry ${truncatedFrom}, which is committed`);
      }
    }
    mirror.entries.length = same + 1;
    mirror.chain.length = same + 1;
    for (let index = same + 1; index <= last; index++) {
      const entry = log.entryAt(index);
      if (!entry) {
        // Compacted before we saw it (only after a violation was reported): assume the committed entry.
        mirror.entries.push(undefined);
        mirror.chain.push(this.committedChain[index] ?? 0);
        continue;
      }
      const chain = hashNumbers(mirror.chain[index - 1]!, entry.index, this.fingerprint(entry));
      mirror.entries.push(entry);
      mirror.chain.push(chain);
      const key = pairKey(index, entry.term);
      const known = this.chainOfPair.get(key);
      if (known === undefined) this.chainOfPair.set(key, chain);
      else if (known !== chain) {
        this.report(id, 'LogMatching', `S${id} holds entry ${index} of term ${entry.term}, as another node does, but their logs differ at or before it`);
      }
    }
    return truncatedFrom;
  }

  /** Note that node `id` committed `index`. Returns false when that broke a rule (already reported). */
  private recordCommitted(id: NodeId, index: number, raft: ObservedState, mirror: Mirror): boolean {
    const chain = mirror.chain[index];
    const known = this.committedChain[index];
    if (chain === undefined) {
      if (known !== undefined) return true;
      this.report(id, 'CommitWithoutQuorum', `S${id} committed entry ${index}, which it does not hold`);
      return false;
    }
    if (known === undefined) {
      this.committedChain[index] = chain;
      this.committedInTerm[index] = raft.term;
      this.committedEntryTerm[index] = mirror.entries[index]?.term ?? 0;
      // A leader commits by counting replicas; followers only learn the commit index from it.
      if (raft.role === 'leader') return this.checkCommitQuorum(id, index, chain, raft.config.voters);
    } else if (known !== chain) {
      this.report(id, 'CommittedEntryChanged', `S${id} committed entry ${index}, but a different entry ${index} was committed before`);
      return false;
    }
    return true;
  }

  /**
   * The first node to commit an index (the leader, in a correct run) must have counted a majority of the voters
   * of its configuration holding that entry (§5.3, thesis §4.1).
   */
  private checkCommitQuorum(id: NodeId, index: number, chain: number, voters: readonly NodeId[]): boolean {
    const holders = voters.filter((voter) => this.mirrors.get(voter)?.chain[index] === chain);
    if (holders.length >= quorumSize(voters.length)) return true;
    this.report(
      id,
      'CommitWithoutQuorum',
      `S${id} committed entry ${index}, but only ${holders.map((h) => `S${h}`).join(', ') || 'no one'} of the voters ${voters.map((v) => `S${v}`).join(', ')} hold it`,
    );
    return false;
  }

  /** §5.4: the new leader of `term` must hold every entry committed in an earlier term. */
  private checkLeaderCompleteness(id: NodeId, term: number, mirror: Mirror): void {
    let index = this.committedChain.length - 1;
    while (index > 0 && this.committedInTerm[index]! >= term) index--;
    if (index === 0) return;
    if (mirror.lastIndex() < index || mirror.chain[index] !== this.committedChain[index]) {
      this.report(id, 'LeaderCompleteness', `S${id} became leader of term ${term} without entry ${index}, committed in term ${this.committedInTerm[index]}`);
    }
  }
}
