// What Raft replicates. Applying is deterministic: no clock, no randomness; the same commands in the same
// order give the same state and the same results on every replica. Anything that depends on time uses the time
// the leader stamped into the command when it proposed it (see envelope.ts).

export interface StateMachine<Command, Result> {
  apply(command: Command): Result;
  /** The whole state as text, enough for `restore` to rebuild a replica that behaves identically (§7). */
  snapshot(): string;
  /** Replaces the whole state with a snapshot's; throws, leaving the state as it was, when `data` is malformed. */
  restore(data: string): void;
  /**
   * A stable fingerprint of the whole state, equal on replicas that applied the same commands, and unchanged by
   * a snapshot followed by a restore.
   */
  hash(): string;
}
