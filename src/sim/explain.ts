// Trace events in plain words, citing the rule behind each decision. The playground's event log, its message
// inspector and the CLI's failure reports all speak through this module. Every code the trace carries (a
// reason, a phase, an action, a setting) has its words in one of the typed records below, written
// `satisfies Record<Code, …>`: a new code without words does not compile, and explain.test.ts words each one.
import { formatMs } from '../check/linearizability.ts';
import type { AppendReason, NodeId, RoleReason, TransferPhase, VoteReason } from '../core/types.ts';
import type { ActionName, NodeRef, ReadMode, ScenarioAction, SimConfig } from './scenario.ts';
import type { ClientLostReason, ClientOp, DropReason, RefusalReason, TraceEvent } from './trace.ts';

const S = (id: NodeId) => `S${id}`;

/** The words for a decision: why, as a clause, and the rule it follows (a section of the paper or thesis). */
export interface Reasoned<Args extends readonly unknown[]> {
  readonly why: (...args: Args) => string;
  readonly rule: string;
}

/** `why (rule)`: the end of a sentence about a decision. */
function because<Args extends readonly unknown[]>(words: Reasoned<Args>, ...args: Args): string {
  return `${words.why(...args)} (${words.rule})`;
}

// ---- Votes and appends ------------------------------------------------------------------------------------

/** Why `voter` gave or denied its vote (or pre-vote) to `candidate`. */
export const VOTE_WORDS = {
  granted: {
    why: (voter, candidate) => `${candidate}'s term is current, ${voter} has voted for no one else in it, and ${candidate}'s log is at least as up-to-date`,
    rule: '§5.2, §5.4.1',
  },
  'already-voted': { why: (voter) => `${voter} already voted for another candidate in this term, and a server votes only once a term`, rule: '§5.2' },
  'has-leader': { why: (voter) => `${voter} already follows a leader of this term, and a term has only one leader`, rule: '§5.2' },
  'stale-term': { why: (voter, candidate) => `${candidate}'s term is behind ${voter}'s`, rule: '§5.1' },
  'log-behind': { why: (voter, candidate) => `${voter}'s log is more up-to-date than ${candidate}'s`, rule: '§5.4.1' },
  'leader-recently-seen': { why: (voter) => `${voter} heard from a live leader less than an election timeout ago`, rule: 'thesis §9.6' },
} as const satisfies Record<VoteReason, Reasoned<[voter: string, candidate: string]>>;

/** Why `follower` accepted or rejected `leader`'s AppendEntries whose previous entry is at `index`. */
export const APPEND_WORDS = {
  ok: { why: (follower, leader, index) => `${follower}'s log matches ${leader}'s at index ${index}`, rule: '§5.3' },
  'missing-entry': { why: (follower, _leader, index) => `${follower} has no entry at index ${index}`, rule: '§5.3' },
  'term-mismatch': { why: (follower, _leader, index) => `${follower}'s entry at index ${index} has another term`, rule: '§5.3' },
  'stale-term': { why: (_follower, leader) => `${leader}'s term is stale, so it is not the leader any more, and the answer tells it so`, rule: '§5.1' },
} as const satisfies Record<AppendReason, Reasoned<[follower: string, leader: string, index: number]>>;

type RoleEvent = Extract<TraceEvent, { type: 'role' }>;

/** A role change, one whole sentence for each reason. */
export const ROLE_WORDS = {
  start: (e) => `${S(e.node)} started as a follower in term ${e.term}, as every server does (§5.2).`,
  'election-timeout': (e) => campaign(e, 'heard from no leader for its election timeout'),
  'forced-timeout': (e) => campaign(e, 'was made to time out'),
  'timeout-now': (e) => `${S(e.node)} was asked to take over and started an election for term ${e.term} at once (thesis §3.10).`,
  'won-prevote': (e) => `${S(e.node)} won the pre-vote and started a real election for term ${e.term} (thesis §9.6).`,
  'won-election': (e) => `${S(e.node)} won votes from a majority and became leader of term ${e.term} (§5.2).`,
  'lost-election': (e) => `${S(e.node)} lost the election: a majority said no; it waits as a follower in term ${e.term} (§5.2).`,
  'higher-term': (e) => `${S(e.node)} became a follower in term ${e.term}: ${peer(e)} has a newer term (§5.1).`,
  'leader-discovered': (e) => `${S(e.node)} heard from ${peer(e)}, leader of term ${e.term}, and follows it (§5.2).`,
  'lost-quorum': (e) => `${S(e.node)} stepped down: it heard from no majority within an election timeout (CheckQuorum, thesis §6.2).`,
  removed: (e) => `${S(e.node)} stepped down: the configuration that removes it is committed (thesis §4.2.2).`,
} as const satisfies Record<RoleReason, (event: RoleEvent) => string>;

function campaign(e: RoleEvent, cause: string): string {
  return e.role === 'precandidate'
    ? `${S(e.node)} ${cause}; it first asks whether a majority would vote for it in term ${e.term + 1} (pre-vote, thesis §9.6).`
    : `${S(e.node)} ${cause} and started an election for term ${e.term} (§5.2).`;
}

function peer(e: RoleEvent): string {
  return e.peer === undefined ? 'another server' : S(e.peer);
}

/** A step of a leadership transfer from `leader` to `target`. */
export const TRANSFER_WORDS = {
  started: (leader, target) => `${leader} began handing leadership to ${target} (thesis §3.10).`,
  'timeout-now-sent': (leader, target) => `${leader} told ${target}, now up to date, to start an election at once (TimeoutNow, thesis §3.10).`,
  completed: (leader, target) => `${target} took over from ${leader}: the leadership transfer is done (thesis §3.10).`,
  aborted: (leader, target) =>
    `${leader} gave up handing leadership to ${target}: ${target} did not catch up within an election timeout, or ${leader} stopped leading; it takes requests again (thesis §3.10).`,
} as const satisfies Record<TransferPhase, (leader: string, target: string) => string>;

type ReadEvent = Extract<TraceEvent, { type: 'read' }>;

/** How a leader made sure a read is linearizable. */
export const READ_WORDS = {
  lease: (e) =>
    `${S(e.node)} answered a read at index ${e.index} for ${e.requester === e.node ? 'its client' : S(e.requester)} without a heartbeat round: its leader lease still holds (thesis §6.4.1).`,
  'heartbeat-round': (e) =>
    `${S(e.node)} confirmed it still leads (a majority answered a heartbeat round sent after the read arrived), so a read at index ${e.index} is linearizable (thesis §6.4).`,
} as const satisfies Record<ReadEvent['via'], (event: ReadEvent) => string>;

// ---- The network --------------------------------------------------------------------------------------------

/** What became of a message that never arrived at `to`; also the message's tooltip and inspector row. */
export const DROP_WORDS = {
  loss: () => 'lost by the network',
  'link-down': () => 'dropped because the link is cut',
  'node-down': (to) => `dropped because ${to} is down`,
  user: () => 'dropped by hand',
} as const satisfies Record<DropReason, (to: string) => string>;

// ---- Clients ------------------------------------------------------------------------------------------------

/** What a client asked for, as a noun phrase. */
export const CLIENT_OP_WORDS = {
  put: 'a write',
  get: 'a read',
  delete: 'a delete',
  cas: 'a compare and set',
  enqueue: 'adding a task',
  claim: 'claiming a task',
  ack: 'finishing a task',
  nack: 'handing back a task',
} as const satisfies Record<ClientOp, string>;

/**
 * Why `server` turned a request down (a client's request, or a membership change); `leader` is the leader it
 * knows of, when that is another server.
 */
export const REFUSAL_WORDS = {
  'not-leader': {
    why: (server, leader) => `${server} is not the leader, and only the leader takes requests${leader === null ? '' : `; the client should ask ${leader}`}`,
    rule: '§8',
  },
  transferring: { why: (server) => `${server} is handing leadership to another server and takes no new requests until that is done`, rule: 'thesis §3.10' },
  overloaded: {
    why: (server) => `${server} has too many requests still waiting (a limit of this playground, not a Raft rule); the client may try again later`,
    rule: '§8',
  },
  'config-change-pending': {
    why: (server) => `${server} has not yet committed its last membership change (or any entry of its own term), and only one change may be under way at a time`,
    rule: 'thesis §4.1',
  },
  'invalid-config-change': {
    why: (server) => `the change does not fit ${server}'s membership (the server is already in it, or not in it, or no voter would be left)`,
    rule: 'thesis §4.1',
  },
  'no-leader': { why: (server) => `${server} knows of no leader to confirm the read with, so it cannot answer safely`, rule: 'thesis §6.4' },
  'lost-leadership': {
    why: () => 'the leader could not confirm that it still leads, so an answer might have been out of date',
    rule: 'thesis §6.4',
  },
  'node-down': { why: (server) => `${server} is down, so nothing answered; the client must try another server`, rule: '§8' },
} as const satisfies Record<RefusalReason, Reasoned<[server: string, leader: string | null]>>;

/** Why a request that `server` had accepted got no answer. */
export const CLIENT_LOST_WORDS = {
  overwritten: {
    why: () => 'a new leader put another entry at its index, so it was never committed; the client cannot tell and must try again',
    rule: '§5.3, §8',
  },
  'covered-by-snapshot': {
    why: (server) => `a snapshot from the leader replaced ${server}'s log up to its index, so ${server} cannot tell whether it was committed`,
    rule: '§7',
  },
  'node-crashed': { why: (server) => `${server} crashed before it answered; the request may or may not have been committed`, rule: '§8' },
} as const satisfies Record<ClientLostReason, Reasoned<[server: string]>>;

function isCode<T extends object>(record: T, code: string): code is Extract<keyof T, string> {
  return Object.hasOwn(record, code);
}

// ---- Actions (from a scenario or the playground's controls) -------------------------------------------------

/** An action as the trace records it: the scenario action without its time and name. */
export type ActionDetail<K extends ActionName> = Omit<Extract<ScenarioAction, { do: K }>, 'atMs' | 'do'>;

/** Each action as a sentence once done (`done`), and as what was tried (`attempt`: "crash S3") when skipped. */
export const ACTION_WORDS: { readonly [K in ActionName]: { readonly done: (a: ActionDetail<K>) => string; readonly attempt: (a: ActionDetail<K>) => string } } = {
  crash: { done: (a) => `${target(a.node)} was crashed on purpose.`, attempt: (a) => `crash ${target(a.node)}` },
  restart: { done: (a) => `${S(a.node)} was restarted.`, attempt: (a) => `restart ${S(a.node)}` },
  timeout: {
    done: (a) => `${target(a.node)}'s election timer was made to run out now.`,
    attempt: (a) => `make ${target(a.node)}'s election timer run out`,
  },
  partition: {
    done: (a) => `The network was split into ${groups(a.groups)}: no message crosses from one group to another.`,
    attempt: (a) => `split the network into ${groups(a.groups)}`,
  },
  heal: { done: () => 'Every cut link was mended.', attempt: () => 'mend every cut link' },
  cut: {
    done: (a) => `The link from ${S(a.from)} to ${S(a.to)} was cut (messages the other way still pass).`,
    attempt: (a) => `cut the link from ${S(a.from)} to ${S(a.to)}`,
  },
  mend: { done: (a) => `The link from ${S(a.from)} to ${S(a.to)} was mended.`, attempt: (a) => `mend the link from ${S(a.from)} to ${S(a.to)}` },
  set: { done: (a) => `Setting changed: ${setting(a)}.`, attempt: (a) => `change a setting so that ${setting(a)}` },
  put: {
    done: (a) => `A client asked ${target(a.node)} to set ${text(a.key)} to ${text(a.value)}.`,
    attempt: (a) => `have a client ask ${target(a.node)} to set ${text(a.key)} to ${text(a.value)}`,
  },
  get: { done: (a) => `A client asked ${target(a.node)} to read ${text(a.key)}.`, attempt: (a) => `have a client ask ${target(a.node)} to read ${text(a.key)}` },
  delete: {
    done: (a) => `A client asked ${target(a.node)} to delete ${text(a.key)}.`,
    attempt: (a) => `have a client ask ${target(a.node)} to delete ${text(a.key)}`,
  },
  cas: {
    done: (a) => `A client asked ${target(a.node)} to change ${text(a.key)} from ${text(a.from)} to ${text(a.to)}, only if it is still ${text(a.from)}.`,
    attempt: (a) => `have a client ask ${target(a.node)} to change ${text(a.key)} from ${text(a.from)} to ${text(a.to)}`,
  },
  enqueue: {
    done: (a) => `A client asked ${target(a.node)} to add ${task(a.payload)} to queue ${text(a.queue)}.`,
    attempt: (a) => `have a client ask ${target(a.node)} to add a task to queue ${text(a.queue)}`,
  },
  claim: {
    done: (a) => `Worker ${text(a.worker)} asked ${target(a.node)} for a task from queue ${text(a.queue)}, to hold for ${a.leaseMs} ms.`,
    attempt: (a) => `have worker ${text(a.worker)} ask ${target(a.node)} for a task from queue ${text(a.queue)}`,
  },
  ack: {
    done: (a) => `A worker told ${target(a.node)} that task ${a.task} of queue ${text(a.queue)} is done.`,
    attempt: (a) => `have a worker tell ${target(a.node)} that task ${a.task} of queue ${text(a.queue)} is done`,
  },
  nack: {
    done: (a) => `A worker told ${target(a.node)} that task ${a.task} of queue ${text(a.queue)} failed, and handed it back.`,
    attempt: (a) => `have a worker hand back task ${a.task} of queue ${text(a.queue)} to ${target(a.node)}`,
  },
  snapshot: { done: (a) => `${target(a.node)} was asked to take a snapshot now (§7).`, attempt: (a) => `have ${target(a.node)} take a snapshot` },
  transfer: { done: (a) => `The leader was asked to hand leadership to ${S(a.to)} (thesis §3.10).`, attempt: (a) => `hand leadership to ${S(a.to)}` },
  'add-node': { done: () => 'A new server was added to the cluster, first as a learner (thesis §4.2.1).', attempt: () => 'add a new server' },
  'remove-node': {
    done: (a) => `The leader was asked to remove ${a.node === 'leader' ? 'itself' : S(a.node)} from the cluster (thesis §4.1).`,
    attempt: (a) => `remove ${target(a.node)} from the cluster`,
  },
  clock: { done: (a) => `${S(a.node)}'s clock now runs ${rate(a.rate)}.`, attempt: (a) => `make ${S(a.node)}'s clock run ${rate(a.rate)}` },
  drop: { done: (a) => `Message #${a.message} was dropped by hand.`, attempt: (a) => `drop message #${a.message}` },
};

/** Each setting, as a clause saying what it is now. */
export const SETTING_WORDS: { readonly [K in keyof SimConfig]: (value: SimConfig[K]) => string } = {
  electionTimeoutMs: ([min, max]) => `the election timeout is ${min}–${max} ms`,
  heartbeatMs: (ms) => `the leader sends heartbeats every ${ms} ms`,
  latencyMs: ([min, max]) => `a message takes ${min}–${max} ms to arrive`,
  diskLatencyMs: ([min, max]) => (max === 0 ? 'a write to disk takes no time' : `a write to disk takes ${min}–${max} ms, and a server's answers wait for it`),
  subMillisecond: (on) => (on ? 'timers and delays run in steps finer than a millisecond' : 'timers and delays are whole milliseconds'),
  lossRatio: (ratio) => `the network loses ${percent(ratio)} of messages`,
  duplicateRatio: (ratio) => `the network delivers ${percent(ratio)} of messages twice`,
  preVote: (on) => `pre-vote is ${on ? 'on' : 'off'} (thesis §9.6)`,
  checkQuorum: (on) => `CheckQuorum is ${on ? 'on' : 'off'} (thesis §6.2)`,
  snapshotEveryEntries: (every) => (every === 0 ? 'servers take no snapshots on their own' : `a server takes a snapshot every ${every} entries (§7)`),
  snapshotChunkBytes: (bytes) => `a snapshot travels in chunks of ${bytes} bytes (§7)`,
  entriesPerMessageMax: (most) => `an AppendEntries carries at most ${most} entries`,
  inflightMessagesMax: (most) => `the leader keeps at most ${most} AppendEntries in flight to each follower`,
  readMode: (mode) => `reads are served ${READ_MODE_WORDS[mode]}`,
  clockDriftBound: (bound) => `a clock is assumed to run at most ${percent(bound)} fast`,
  unsafeSkipVoteRestriction: (on) =>
    on ? 'voters no longer check that a candidate’s log is up to date, which is unsafe (§5.4.1)' : 'voters check again that a candidate’s log is up to date (§5.4.1)',
  unsafeCommitPreviousTerms: (on) =>
    on
      ? 'a leader may commit an entry of an earlier term by counting replicas, which is unsafe (§5.4.2)'
      : 'a leader again commits by counting replicas only entries of its own term (§5.4.2)',
  unsafeForgetVoteOnRestart: (on) =>
    on ? 'a server forgets its vote when it restarts, which is unsafe (§5.2, Figure 2)' : 'a server keeps its vote on disk across restarts (Figure 2)',
};

export const READ_MODE_WORDS = {
  log: 'through the log, like writes',
  'read-index': 'after a heartbeat round confirms the leader (ReadIndex, thesis §6.4)',
  lease: 'under the leader lease, without a heartbeat round (thesis §6.4.1)',
} as const satisfies Record<ReadMode, string>;

/** A read mode's short name, for a menu. */
export const READ_MODE_NAMES = {
  log: 'through the log',
  'read-index': 'ReadIndex (heartbeat round)',
  lease: 'leader lease',
} as const satisfies Record<ReadMode, string>;

function target(node: NodeRef | undefined): string {
  return node === undefined || node === 'leader' ? 'the leader' : S(node);
}

/** `2 groups (S1 and S2; S3, S4 and S5)` */
function groups(list: readonly (readonly number[])[]): string {
  return `${list.length} ${list.length === 1 ? 'group' : 'groups'} (${list.map((group) => listed(group.map(S))).join('; ')})`;
}

/** `S1`, `S1 and S2`, `S1, S2 and S3` */
export function listed(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function setting(a: ActionDetail<'set'>): string {
  const words = SETTING_WORDS[a.key] as (value: SimConfig[keyof SimConfig]) => string;
  return words(a.value);
}

/** Characters of a key, value or payload shown before it is cut short. */
const TEXT_SHOWN_MAX = 40;

/** A key or value as typed: bare when it is one plain word, else in quotes; long ones cut short. */
function text(value: string): string {
  if (/^[\w.:/@]{1,40}$/.test(value)) return value;
  return JSON.stringify(value.length > TEXT_SHOWN_MAX ? `${value.slice(0, TEXT_SHOWN_MAX)}…` : value);
}

/** A task's payload when it is a plain value (`the task report`); a structured one is just `a task`. */
function task(payload: unknown): string {
  if (typeof payload === 'string') return `the task ${text(payload)}`;
  if (typeof payload === 'number' || typeof payload === 'boolean') return `the task ${String(payload)}`;
  return 'a task';
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}

function rate(value: number): string {
  return value === 1 ? 'at true time' : `${value}× as fast as true time`;
}

function explainAction(event: Extract<TraceEvent, { type: 'action' }>): string {
  const name = event.action as ActionName;
  const words = Object.hasOwn(ACTION_WORDS, name) ? (ACTION_WORDS[name] as { done: (a: unknown) => string; attempt: (a: unknown) => string }) : undefined;
  if (!words) return `An action the page has no words for ran: ${event.action}.`;
  if (event.skipped === undefined) return capitalize(words.done(event.detail));
  return `Tried to ${words.attempt(event.detail)}, but ${explainSkipped(event.skipped, event.detail)}.`;
}

// The skipped strings come from the simulator as they are in the trace (pinned by its hash): most are plain
// already ("S3 is already down"); two carry a refusal code, which is worded here.
const REQUEST_REFUSED = /^S(\d+|\?) leads; the request was refused: ([a-z-]+)$/;
const CHANGE_REFUSED = /^S(\d+) refused: ([a-z-]+)$/;

function explainSkipped(skipped: string, detail: unknown): string {
  const request = REQUEST_REFUSED.exec(skipped);
  if (request && isCode(REFUSAL_WORDS, request[2]!)) {
    const leader = request[1] === '?' ? null : `S${request[1]}`;
    const node = (detail as { node?: NodeRef } | null)?.node;
    const server = typeof node === 'number' ? S(node) : (leader ?? 'the server');
    return `the request was turned down: ${because(REFUSAL_WORDS[request[2]], server, leader === server ? null : leader)}`;
  }
  const change = CHANGE_REFUSED.exec(skipped);
  if (change && isCode(REFUSAL_WORDS, change[2]!)) return `S${change[1]} refused: ${because(REFUSAL_WORDS[change[2]], `S${change[1]}`, null)}`;
  return skipped;
}

// ---- Every event --------------------------------------------------------------------------------------------

/** One sentence saying what happened and why, or null for plumbing not worth narrating (sends, deliveries). */
export function explainEvent(event: TraceEvent): string | null {
  const who = S(event.node);
  switch (event.type) {
    case 'role':
      return ROLE_WORDS[event.reason](event);
    case 'vote': {
      const to = S(event.candidate);
      if (event.reason === 'granted') {
        return event.preVote
          ? `${who} would vote for ${to} in term ${event.term} (pre-vote, thesis §9.6).`
          : `${who} voted for ${to} in term ${event.term} (§5.2).`;
      }
      const kind = event.preVote ? 'pre-vote' : 'vote';
      const words = VOTE_WORDS[event.reason];
      const comparison = event.reason === 'log-behind' ? logComparison(event, who, to) : '';
      return `${who} denied its ${kind} to ${to} in term ${event.term}: ${words.why(who, to)}${comparison} (${words.rule}).`;
    }
    case 'vote-ignored':
      return `${who} ignored ${S(event.candidate)}'s vote request for term ${event.term}: it heard from its leader less than an election timeout ago (thesis §4.2.3).`;
    case 'append': {
      const from = S(event.leader);
      if (event.reason === 'ok') {
        const what = event.entries === 0 ? 'an empty AppendEntries' : `${event.entries} ${event.entries === 1 ? 'entry' : 'entries'}`;
        const cut = event.truncatedFrom === undefined ? '' : ` after removing its conflicting entries from index ${event.truncatedFrom}`;
        return `${who} accepted ${what} from ${from}${cut}: ${because(APPEND_WORDS.ok, who, from, event.prevLogIndex)}.`;
      }
      return `${who} rejected ${from}'s AppendEntries: ${because(APPEND_WORDS[event.reason], who, from, event.prevLogIndex)}.`;
    }
    case 'commit':
      return `${who} committed up to index ${event.index} (term ${event.term}): a majority holds it (§5.3).`;
    case 'propose':
      return `${who} appended a client command at index ${event.index} in term ${event.term} (§5.3).`;
    case 'transfer':
      return TRANSFER_WORDS[event.phase](who, S(event.target));
    case 'snapshot':
      return event.phase === 'taken'
        ? `${who} took a snapshot of its state machine up to index ${event.index} and discarded the log before it (§7).`
        : `${who} installed a snapshot from the leader up to index ${event.index} (term ${event.term}), replacing its log up to there (§7).`;
    case 'read':
      return READ_WORDS[event.via](event);
    case 'config':
      return `${who} now uses the configuration voters ${event.voters.map(S).join(', ') || 'none'}${
        event.learners.length > 0 ? `, learners ${event.learners.map(S).join(', ')}` : ''
      } (entry ${event.index}; in force as soon as it is in the log, thesis §4.1).`;
    case 'drop':
      return `${S(event.from)}'s ${event.messageType} to ${S(event.to)} was ${DROP_WORDS[event.reason](S(event.to))}.`;
    case 'network':
      return event.cuts.length === 0
        ? 'The network is whole again: every link is up.'
        : `The network changed: ${event.cuts.length} ${event.cuts.length === 1 ? 'direction is' : 'directions are'} cut (${event.cuts.map(([a, b]) => `${S(a)}→${S(b)}`).join(', ')}).`;
    case 'crash':
      return `${who} crashed: its volatile state is gone; its term, vote and log survive on disk.`;
    case 'restart':
      return `${who} restarted from what it had persisted.`;
    case 'action':
      return explainAction(event);
    case 'client': {
      const request = `client request ${event.request} (${CLIENT_OP_WORDS[event.op]})`;
      switch (event.outcome) {
        case 'done':
          return event.op === 'get'
            ? `${capitalize(request)} is done: the answer reflects the log up to index ${event.index} (thesis §6.4).`
            : `${capitalize(request)} is done: its entry at index ${event.index} is committed and applied (§5.3).`;
        case 'rejected': {
          const leader = event.leader === undefined || event.leader === event.node ? null : S(event.leader);
          return `${who} turned down ${request}: ${because(REFUSAL_WORDS[event.reason], who, leader)}.`;
        }
        case 'lost':
          return `${capitalize(request)} to ${who} got no answer: ${because(CLIENT_LOST_WORDS[event.reason], who)}.`;
      }
      return null;
    }
    case 'violation':
      return `SAFETY VIOLATION (${event.invariant}): ${event.message}`;
    case 'send':
    case 'deliver':
    case 'apply':
      return null;
  }
}

/** The §5.4.1 comparison: the later last term wins; with the same last term, the longer log. */
function logComparison(event: Extract<TraceEvent, { type: 'vote' }>, voter: string, candidate: string): string {
  return event.lastLogTerm !== event.candidateLastLogTerm
    ? `, since its last entry has term ${event.lastLogTerm} and ${candidate}'s only term ${event.candidateLastLogTerm}`
    : `, since both last entries have term ${event.lastLogTerm} and ${voter}'s log reaches index ${event.lastLogIndex}, ${candidate}'s only ${event.candidateLastLogIndex}`;
}

function capitalize(words: string): string {
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A message's `reason` field in words, for the inspector: why the vote or the append was answered so. */
export function explainMessageReason(
  message: { readonly type: 'RequestVoteResponse' | 'PreVoteResponse'; readonly from: NodeId; readonly to: NodeId; readonly reason: VoteReason } | {
    readonly type: 'AppendEntriesResponse';
    readonly from: NodeId;
    readonly to: NodeId;
    readonly matchIndex: number;
    readonly reason: AppendReason;
  },
): string {
  return message.type === 'AppendEntriesResponse'
    ? because(APPEND_WORDS[message.reason], S(message.from), S(message.to), message.matchIndex)
    : because(VOTE_WORDS[message.reason], S(message.from), S(message.to));
}

/** A compact line for terminals: time, node, and the explanation (or the raw event). */
export function formatTraceEvent(event: TraceEvent): string {
  const time = `t=${formatMs(event.t)}ms`.padEnd(10);
  const sentence = explainEvent(event);
  if (sentence !== null) return `${time} ${sentence}`;
  if (event.type === 'send') {
    return `${time} ${S(event.message.from)} -> ${S(event.message.to)} ${event.message.type} term ${event.message.term} (#${event.id}, arrives t=${formatMs(event.deliverAt)}ms)`;
  }
  if (event.type === 'deliver') return `${time} ${S(event.from)} -> ${S(event.node)} ${event.messageType} delivered (#${event.id})`;
  if (event.type === 'apply') return `${time} S${event.node} applied entries ${event.firstIndex}..${event.lastIndex}`;
  return `${time} ${JSON.stringify(event)}`;
}
