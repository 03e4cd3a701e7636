// The replica's own bookkeeping of client requests, seen from a host.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import type { ReplicaOutput } from './replica.ts';
import { Simulation } from './simulation.ts';
import { awaitLeader, ids } from './test-cluster.ts';

const doneFor = (output: ReplicaOutput, request: number) =>
  output.effects.filter((e) => e.kind === 'client' && e.client.request === request && e.client.outcome === 'done');

describe('replica', () => {
  it('a read the host gave up on (forget-read) is not answered when its read index arrives late; one not given up is', () => {
    const sim = new Simulation({ seed: 3, nodes: 3 });
    const leader = awaitLeader(sim, ids(sim), 2000);
    const follower = ids(sim).find((id) => id !== leader) as NodeId;
    const replica = sim.node(follower).replica!;
    const { term, commit } = replica.raft;
    const lateAnswer = (context: number) =>
      replica.handle({ kind: 'message', message: { type: 'ReadIndexResponse', from: leader, to: follower, term, context, index: commit, ok: true } }, sim.now);

    // Both reads go to the leader as ReadIndex requests, which this test loses.
    replica.handle({ kind: 'read', request: 901, key: 'x' }, sim.now);
    replica.handle({ kind: 'read', request: 902, key: 'x' }, sim.now);
    replica.handle({ kind: 'forget-read', request: 901 }, sim.now);

    expect(doneFor(lateAnswer(901), 901)).toEqual([]);
    expect(doneFor(lateAnswer(902), 902)).toHaveLength(1);
  });
});
