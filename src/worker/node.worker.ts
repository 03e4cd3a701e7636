// One Raft node in its own Web Worker: the Replica (core, state machine, waiting client requests) lives here
// and nowhere else, so terminating the worker really loses the node's volatile state. Raft messages arrive on
// the node's MessagePort, from the network the page controls — one at a time, or a lookahead window's worth at
// once (src/sim/lookahead.ts) — and the effects they cause (messages to send, state to persist) go back the
// same way. Control calls (boot, timers, client requests, inspect) come through comlink.
import { expose } from 'comlink';
import type { Message } from '../core/types.ts';
import type { QueueLanes } from '../machines/task-queues.ts';
import { planNodeWindow, type NodeWindow } from '../sim/lookahead.ts';
import { Replica, type ReplicaBoot, type ReplicaInput, type ReplicaOutput } from '../sim/replica.ts';

/**
 * What comes on the network port: one delivery (the message, and the node's clock when it arrives), or the
 * node's share of a lookahead window to work through (answered with its planned inputs).
 */
export type PortRequest =
  | { readonly kind: 'deliver'; readonly message: Message; readonly nowMs: number }
  | { readonly kind: 'window'; readonly window: NodeWindow; readonly endMs: number };

/** What the page shows of a node's state machine. */
export interface MachineView {
  readonly kv: readonly (readonly [string, string])[];
  readonly queues: readonly QueueLanes[];
  readonly hash: string;
}

let replica: Replica | null = null;

function running(): Replica {
  if (!replica) throw new Error('the node has not booted');
  return replica;
}

const node = {
  /** Start from what the node persisted; Raft traffic then flows over `port`. */
  boot(boot: ReplicaBoot, port: MessagePort): ReplicaOutput {
    replica = new Replica(boot);
    port.onmessage = (event: MessageEvent<PortRequest>) => {
      const request = event.data;
      try {
        const replica = running();
        port.postMessage(
          request.kind === 'deliver'
            ? replica.handle({ kind: 'message', message: request.message }, request.nowMs)
            : planNodeWindow(request.window, request.endMs, (input, nowMs) => replica.handle(input, nowMs)),
        );
      } catch (error) {
        // The page must hear of it: it is waiting for this answer.
        port.postMessage({ error: error instanceof Error ? error.message : String(error) });
      }
    };
    return replica.start();
  },

  handle(input: ReplicaInput, nowMs: number): ReplicaOutput {
    return running().handle(input, nowMs);
  },

  machine(): MachineView {
    const machine = running().machine;
    return {
      kv: machine.kvEntries(),
      queues: machine.queues().map((q) => machine.queueLanes(q.name)),
      hash: machine.hash(),
    };
  },
};

export type NodeWorkerApi = typeof node;

expose(node);
