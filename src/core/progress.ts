// What a leader knows about one follower's log, and how fast it may send to it.
//
// A small state machine, after etcd's tracker/progress.go:
//   probe      - we do not know where the follower's log matches ours; send one AppendEntries at a time and
//                back off using its rejection (§5.3, with the fast backup of conflict term and index);
//   replicate  - the follower is in step; stream entries optimistically, up to `inflightMessagesMax`
//                unacknowledged messages;
//   snapshot   - the follower needs entries we compacted away; stream our snapshot in chunks (§7), then
//                probe from just after it.
import type { NodeId, Snapshot } from './types.ts';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  /** Highest index known to be replicated on the follower (Figure 2: matchIndex). */
  match = 0;
  /** Index of the next entry to send (Figure 2: nextIndex). */
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an AppendEntries is out and we wait for its answer (or the next heartbeat). */
  probeSent = false;
  /**
   * In snapshot state: the snapshot being sent (kept until installed, even if the leader takes a newer one
   * meanwhile: restarting would never finish under steady writes), how far it was sent and acknowledged, and
   * when it last moved.
   */
  snapshot: Snapshot | null = null;
  snapshotIndex = 0;
  snapshotSentOffset = 0;
  snapshotAckedOffset = 0;
  snapshotDoneSent = false;
  snapshotProgressAtMs = 0;
  /** Heard from since the last CheckQuorum round (thesis §6.2). */
  recentActive = false;
  /** The latest heartbeat round this follower answered (thesis §6.4). */
  heartbeatRoundAcked = 0;
  /** Last index of each unacknowledged AppendEntries, oldest first, in replicate state... */
  readonly inflight: number[] = [];
  /** ...and when each was sent. */
  private readonly inflightSentAtMs: number[] = [];

  constructor(
    readonly id: NodeId,
    lastIndex: number,
    private readonly inflightMessagesMax: number,
  ) {
    this.next = lastIndex + 1;
  }

  becomeProbe(): void {
    // After a rejection or a restart of replication, resume right after what is known to match.
    this.state = 'probe';
    this.snapshot = null;
    this.next = this.match + 1;
    this.probeSent = false;
    this.clearInflight();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.snapshot = null;
    this.next = this.match + 1;
    this.probeSent = false;
    this.clearInflight();
  }

  becomeSnapshot(snapshot: Snapshot, nowMs: number): void {
    this.state = 'snapshot';
    this.snapshot = snapshot;
    this.snapshotIndex = snapshot.index;
    this.snapshotSentOffset = 0;
    this.snapshotAckedOffset = 0;
    this.snapshotDoneSent = false;
    this.snapshotProgressAtMs = nowMs;
    this.probeSent = false;
    this.clearInflight();
  }

  snapshotChunkSent(bytes: number, done: boolean): void {
    this.snapshotSentOffset += bytes;
    this.snapshotDoneSent = done;
  }

  /** The follower holds `offset` bytes; when `inOrder` is false a chunk went missing: resend from there. */
  snapshotAcknowledged(offset: number, inOrder: boolean, nowMs: number): void {
    if (offset > this.snapshotAckedOffset) {
      this.snapshotAckedOffset = offset;
      this.snapshotProgressAtMs = nowMs;
      // A resend may have been overtaken by the original chunks: never send again what it already holds.
      this.snapshotSentOffset = Math.max(this.snapshotSentOffset, offset);
    }
    if (!inOrder) {
      this.snapshotAckedOffset = offset;
      this.rewindSnapshot(nowMs);
    }
  }

  /** Send again from what the follower acknowledged. */
  rewindSnapshot(nowMs: number): void {
    this.snapshotSentOffset = this.snapshotAckedOffset;
    this.snapshotDoneSent = false;
    this.snapshotProgressAtMs = nowMs;
  }

  /** The snapshot is installed: resume with entries right after it. */
  snapshotInstalled(): void {
    this.match = Math.max(this.match, this.snapshotIndex);
    this.snapshot = null;
    this.becomeProbe();
  }

  private clearInflight(): void {
    this.inflight.length = 0;
    this.inflightSentAtMs.length = 0;
  }

  private freeOldestInflight(): void {
    this.inflight.shift();
    this.inflightSentAtMs.shift();
  }

  /** May we send entries (or a probe) now? */
  canSend(): boolean {
    if (this.state === 'snapshot') return false;
    if (this.state === 'probe') return !this.probeSent;
    return this.inflight.length < this.inflightMessagesMax;
  }

  /** Record that an AppendEntries carrying entries up to `lastIndex` left at `nowMs`. */
  onSent(lastIndex: number, entryCount: number, nowMs: number): void {
    if (this.state === 'probe') {
      this.probeSent = true;
      return;
    }
    if (entryCount > 0) {
      this.next = lastIndex + 1;
      this.inflight.push(lastIndex);
      this.inflightSentAtMs.push(nowMs);
    }
  }

  /**
   * Should the leader re-probe after a heartbeat answer shows the follower behind? In probe state, yes. In
   * replicate state only when nothing is in flight, or the oldest message has had a whole heartbeat interval
   * to be answered and may be lost: a re-probe while appends are merely on their way is waste.
   */
  needsProbe(nowMs: number, heartbeatMs: number): boolean {
    if (this.state === 'snapshot') return false;
    if (this.state === 'probe') return true;
    const oldest = this.inflightSentAtMs[0];
    return oldest === undefined || oldest <= nowMs - heartbeatMs;
  }

  /** A success up to `index`. Returns false when it told us nothing new (a duplicate or reordered answer). */
  acknowledge(index: number): boolean {
    let inflightFreed = false;
    while (this.inflight.length > 0 && this.inflight[0]! <= index) {
      this.freeOldestInflight();
      inflightFreed = true;
    }
    if (index <= this.match) return inflightFreed;
    this.match = index;
    if (this.next <= index) this.next = index + 1;
    this.probeSent = false;
    return true;
  }

  /**
   * A rejection of the AppendEntries whose prevLogIndex was `rejected`; `hint` is where the follower's log
   * may match (from fast backup). Returns false for a stale rejection that must be ignored.
   */
  reject(rejected: number, hint: number): boolean {
    if (this.state === 'snapshot') return false; // an answer to an append sent before the snapshot began
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false; // about an index already known to match: stale
      this.becomeProbe();
      this.next = Math.max(this.match + 1, Math.min(hint, rejected));
      return true;
    }
    if (rejected !== this.next - 1) return false; // not the answer to our current probe
    this.next = Math.max(this.match + 1, Math.min(hint, rejected));
    this.probeSent = false;
    return true;
  }

  /** A heartbeat answer: the follower is alive. With every slot taken, let one more message go (etcd). */
  onHeartbeatResponse(): void {
    this.probeSent = false;
    if (this.state === 'replicate' && this.inflight.length >= this.inflightMessagesMax) this.freeOldestInflight();
  }
}
