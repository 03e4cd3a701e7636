// What Raft replicates. Applying is deterministic: no clock, no randomness; the same commands in the same
// order give the same state and the same results on every replica.

export interface StateMachine<Command, Result> {
  apply(command: Command): Result;
  /** A stable fingerprint of the whole state, equal on replicas that applied the same commands. */
  hash(): string;
}
