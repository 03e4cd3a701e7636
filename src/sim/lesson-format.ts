// A scenario file's `lesson` block (SPEC §8): what to look at, what to ask, and what the learner does, step by
// step. Read here, field by field like the rest of the file; played by src/lessons/lesson-plan.ts.
import type { MessageType, NodeId, Role } from '../core/types.ts';
import { describeValue, fail, field, readObject, readText, readWhole, rejectUnknownFields, ScenarioError } from './json-fields.ts';
import type { ActionBody, NodeRef } from './scenario.ts';

export interface Lesson {
  /** For `?lesson=ID` and the learner's progress: lower-case letters, digits and dashes. */
  readonly id: string;
  readonly title: string;
  /** Where in the paper or the thesis: `§5.2`, `thesis §4`. */
  readonly paper: string;
  /** Its place in the curriculum: the lesson list sorts by it. */
  readonly order: number;
  /** The pace the clock runs at while a step plays (1 is real time); the page's default when absent. */
  readonly speed?: number;
  readonly steps: readonly LessonStep[];
  /** After the steps, a task for the learner: make the checker fire (with a teaching switch on). */
  readonly challenge?: Challenge;
}

/**
 * A challenge: after the lesson's steps the learner may do anything, and wins when the checker reports one of
 * `goal`. `solution` proves it can be done: moves from where the steps end, each action one millisecond after
 * the moment before it (as when the page is paused), each wait running that many milliseconds at once (+1 s).
 */
export interface Challenge {
  readonly goal: readonly string[];
  readonly solution: readonly ChallengeMove[];
}

export type ChallengeMove = ActionBody | { readonly waitMs: number };

/**
 * One step: words (`say`) or a question (`ask` with `choices`), then the run plays until `until` and pauses.
 * Without `until` the step ends where it starts (words to read before going on).
 */
export type LessonStep = (
  | { readonly say: string }
  | {
      readonly ask: string;
      /** The right one is the choice whose check holds when the step ends: computed, never written down. */
      readonly choices: readonly LessonChoice[];
      /** Said once the answer is revealed: why it holds, citing the rule. */
      readonly why: string;
    }
) & {
  readonly show?: LessonShow;
  readonly until?: LessonUntil;
  /** What the step's words claim, checked when it ends. */
  readonly check?: Claims;
};

export interface LessonChoice {
  readonly text: string;
  readonly check: Claims;
}

export const LESSON_PANELS = ['ring', 'space-time', 'history', 'logs', 'narration', 'inspector', 'machines'] as const;
export type LessonPanel = (typeof LESSON_PANELS)[number];

/** What the page highlights during the step. */
export interface LessonShow {
  readonly nodes?: readonly NodeRef[];
  readonly panel?: LessonPanel;
  readonly messages?: readonly MessageType[];
  readonly entries?: readonly { readonly node: NodeId; readonly index: number }[];
}

/** A number, or a range for it (both ends included). */
export type Bound = number | { readonly atLeast?: number; readonly atMost?: number };

export type LessonUntil =
  | { readonly atMs: number }
  | EventMatch
  /** The learner does this (a step that waits for them); `node: "leader"` matches whichever node leads then. */
  | { readonly user: ActionBody };

/** The first trace event of this type (or `leader`: a node becoming leader) whose fields match. */
export type EventMatch = { readonly event: LessonEventName } & { readonly [field: string]: string | number | boolean | Bound };

/**
 * A claim about the cluster when a step ends; every part must hold. `nodes` is keyed by node id, or by
 * "leader" for whichever node leads then.
 */
export interface Claims {
  readonly leader?: NodeId | null;
  readonly nodes?: Readonly<Record<string, NodeClaim>>;
  /** A key's value in a node's state machine; null: the key is absent. */
  readonly keys?: readonly { readonly node: NodeRef; readonly key: string; readonly value: string | null }[];
  /** How many tasks a queue in a node's state machine has ever held (pending, claimed, done or dead). */
  readonly queues?: readonly { readonly node: NodeRef; readonly queue: string; readonly tasks: Bound }[];
  /** That the checker reported this invariant broken by now; null: that it reported none. */
  readonly violation?: string | null;
  /** The linearizability checker's verdict on the clients' key-value history so far (the Client history view's). */
  readonly history?: 'linearizable' | 'not-linearizable';
}

export interface NodeClaim {
  readonly status?: 'up' | 'down';
  readonly role?: Role;
  readonly term?: Bound;
  readonly commitIndex?: Bound;
  readonly lastIndex?: Bound;
  /** The voters of the configuration the node uses (thesis §4), in any order. */
  readonly voters?: readonly NodeId[];
}

/**
 * The events a step can wait for, and the fields each can be matched on (docs/trace.md). `leader` is a role
 * event that makes a leader; a role's `to` is its new role; a message's `messageType` is its type.
 */
export const EVENT_FIELDS = {
  leader: ['node', 'term'],
  role: ['node', 'to', 'term', 'reason'],
  vote: ['node', 'candidate', 'term', 'granted', 'preVote', 'reason'],
  append: ['node', 'leader', 'success', 'reason', 'entries'],
  commit: ['node', 'index', 'term'],
  propose: ['node', 'index'],
  apply: ['node', 'lastIndex'],
  snapshot: ['node', 'phase', 'index'],
  transfer: ['node', 'target', 'phase'],
  read: ['node', 'via'],
  config: ['node', 'index'],
  send: ['node', 'messageType', 'to'],
  deliver: ['node', 'messageType', 'from'],
  drop: ['node', 'messageType', 'from', 'to', 'reason'],
  crash: ['node'],
  restart: ['node'],
  client: ['node', 'op', 'outcome', 'reason'],
  violation: ['invariant'],
} as const satisfies Record<string, readonly string[]>;
export type LessonEventName = keyof typeof EVENT_FIELDS;
const EVENT_NAMES = Object.keys(EVENT_FIELDS) as LessonEventName[];

/** Fields whose values are numbers, which a match may give as a range. */
const NUMBER_FIELDS = new Set(['node', 'term', 'candidate', 'leader', 'index', 'lastIndex', 'target', 'from', 'to', 'entries']);

const ROLES: readonly Role[] = ['follower', 'precandidate', 'candidate', 'leader'];
const LESSON_FIELDS = ['id', 'title', 'paper', 'order', 'speed', 'steps', 'challenge'] as const;
const STEP_FIELDS = ['say', 'ask', 'choices', 'why', 'show', 'until', 'check'] as const;
const CLAIM_FIELDS = ['leader', 'nodes', 'keys', 'queues', 'violation', 'history'] as const;
const HISTORY_VERDICTS = ['linearizable', 'not-linearizable'] as const;
const NODE_CLAIM_FIELDS = ['status', 'role', 'term', 'commitIndex', 'lastIndex', 'voters'] as const;
const SHOW_FIELDS = ['nodes', 'panel', 'messages', 'entries'] as const;

export const LESSON_STEPS_MAX = 60;
export const LESSON_CHOICES_MAX = 6;
const WORDS_CHARACTERS_MAX = 600;
const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,47}$/;

/** What the lesson reader needs from the scenario around it. */
export interface LessonContext {
  /** Grows as the learner's steps add servers. */
  nodeCount: number;
  /** Reads a learner's action: a scenario action without `atMs`, in a cluster of `nodeCount` servers. */
  readonly readAction: (value: unknown, path: string, nodeCount: number) => ActionBody;
}

export function readLesson(value: unknown, path: string, context: LessonContext): Lesson {
  const record = readObject(value, path);
  rejectUnknownFields(record, LESSON_FIELDS, path);
  const id = field(record, 'id');
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) fail(`${path}.id`, 'lower-case letters, digits and dashes, at most 48 (such as "election")', id);
  const title = readText(field(record, 'title'), `${path}.title`, { nonEmpty: true, charactersMax: 80 });
  const paper = readText(field(record, 'paper'), `${path}.paper`, { nonEmpty: true, charactersMax: 60 });
  const order = readWhole(field(record, 'order'), `${path}.order`, 1, 999);
  const speedFound = field(record, 'speed');
  if (speedFound !== undefined && (typeof speedFound !== 'number' || !(speedFound >= 0.001 && speedFound <= 1))) {
    fail(`${path}.speed`, 'a number from 0.001 to 1', speedFound);
  }
  const stepsFound = field(record, 'steps');
  if (!Array.isArray(stepsFound) || stepsFound.length === 0 || stepsFound.length > LESSON_STEPS_MAX) {
    fail(`${path}.steps`, `an array of 1 to ${LESSON_STEPS_MAX} steps`, stepsFound);
  }
  // A server the learner adds may be named from the step that adds it on.
  const growing = { ...context };
  const steps = stepsFound.map((step, i) => readStep(step, `${path}.steps[${i}]`, growing));
  const challengeFound = field(record, 'challenge');
  const challenge = challengeFound === undefined ? undefined : readChallenge(challengeFound, `${path}.challenge`, growing);
  return { id, title, paper, order, ...(speedFound === undefined ? {} : { speed: speedFound as number }), steps, ...(challenge ? { challenge } : {}) };
}

const CHALLENGE_MOVES_MAX = 200;

function readChallenge(value: unknown, path: string, context: LessonContext): Challenge {
  const record = readObject(value, path);
  rejectUnknownFields(record, ['goal', 'solution'], path);
  const goalFound = field(record, 'goal');
  if (!Array.isArray(goalFound) || goalFound.length === 0) fail(`${path}.goal`, 'a non-empty array of invariant names', goalFound);
  const goal = goalFound.map((name, i) => {
    if (typeof name !== 'string' || !/^[A-Za-z]{1,60}$/.test(name)) fail(`${path}.goal[${i}]`, 'an invariant name such as "LeaderCompleteness"', name);
    return name;
  });
  const movesFound = field(record, 'solution');
  if (!Array.isArray(movesFound) || movesFound.length === 0 || movesFound.length > CHALLENGE_MOVES_MAX) {
    fail(`${path}.solution`, `an array of 1 to ${CHALLENGE_MOVES_MAX} moves`, movesFound);
  }
  const solution = movesFound.map((move, i): ChallengeMove => {
    const at = `${path}.solution[${i}]`;
    const moveRecord = readObject(move, at, 'an action or { "waitMs" }');
    if (Object.hasOwn(moveRecord, 'waitMs')) {
      rejectUnknownFields(moveRecord, ['waitMs'], at);
      return { waitMs: readWhole(moveRecord['waitMs'], `${at}.waitMs`, 1, 600_000) };
    }
    const action = context.readAction(moveRecord, at, context.nodeCount);
    if (action.do === 'add-node') context.nodeCount++;
    return action;
  });
  return { goal, solution };
}

function readWords(value: unknown, path: string): string {
  return readText(value, path, { nonEmpty: true, charactersMax: WORDS_CHARACTERS_MAX });
}

function readStep(value: unknown, path: string, context: LessonContext): LessonStep {
  const record = readObject(value, path);
  rejectUnknownFields(record, STEP_FIELDS, path);
  const say = field(record, 'say');
  const ask = field(record, 'ask');
  if ((say === undefined) === (ask === undefined)) {
    throw new ScenarioError(path, `expected either "say" or "ask", got ${say === undefined ? 'neither' : 'both'}`);
  }
  const showFound = field(record, 'show');
  const untilFound = field(record, 'until');
  const checkFound = field(record, 'check');
  const until = untilFound === undefined ? undefined : readUntil(untilFound, `${path}.until`, context);
  if (until && 'user' in until && (until.user as ActionBody).do === 'add-node') context.nodeCount++;
  const rest = {
    ...(showFound === undefined ? {} : { show: readShow(showFound, `${path}.show`, context) }),
    ...(until === undefined ? {} : { until }),
    ...(checkFound === undefined ? {} : { check: readClaims(checkFound, `${path}.check`, context) }),
  };
  if (say !== undefined) {
    for (const key of ['choices', 'why']) {
      if (field(record, key) !== undefined) throw new ScenarioError(`${path}.${key}`, 'expected only with "ask", got it with "say"');
    }
    return { say: readWords(say, `${path}.say`), ...rest };
  }
  const choicesFound = field(record, 'choices');
  if (!Array.isArray(choicesFound) || choicesFound.length < 2 || choicesFound.length > LESSON_CHOICES_MAX) {
    fail(`${path}.choices`, `an array of 2 to ${LESSON_CHOICES_MAX} choices`, choicesFound);
  }
  const choices = choicesFound.map((choice, i) => {
    const choicePath = `${path}.choices[${i}]`;
    const choiceRecord = readObject(choice, choicePath);
    rejectUnknownFields(choiceRecord, ['text', 'check'], choicePath);
    return {
      text: readText(field(choiceRecord, 'text'), `${choicePath}.text`, { nonEmpty: true, charactersMax: 200 }),
      check: readClaims(field(choiceRecord, 'check'), `${choicePath}.check`, context),
    };
  });
  return { ask: readWords(ask, `${path}.ask`), choices, why: readWords(field(record, 'why'), `${path}.why`), ...rest };
}

function readNodeId(value: unknown, path: string, context: LessonContext): NodeId {
  return readWhole(value, path, 1, context.nodeCount, context.nodeCount === 1 ? '1' : `1..${context.nodeCount}`);
}

function readNodeRef(value: unknown, path: string, context: LessonContext): NodeRef {
  if (value === 'leader') return value;
  return readWhole(value, path, 1, context.nodeCount, `1..${context.nodeCount} or "leader"`);
}

function readList<T>(value: unknown, path: string, what: string, read: (item: unknown, path: string) => T): T[] {
  if (!Array.isArray(value)) fail(path, `an array of ${what}`, value);
  return value.map((item, i) => read(item, `${path}[${i}]`));
}

function readShow(value: unknown, path: string, context: LessonContext): LessonShow {
  const record = readObject(value, path);
  rejectUnknownFields(record, SHOW_FIELDS, path);
  const show: { -readonly [K in keyof LessonShow]: LessonShow[K] } = {};
  const nodes = field(record, 'nodes');
  if (nodes !== undefined) show.nodes = readList(nodes, `${path}.nodes`, 'node ids or "leader"', (item, p) => readNodeRef(item, p, context));
  const panel = field(record, 'panel');
  if (panel !== undefined) {
    if (typeof panel !== 'string' || !(LESSON_PANELS as readonly string[]).includes(panel)) fail(`${path}.panel`, `one of ${LESSON_PANELS.join(', ')}`, panel);
    show.panel = panel as LessonPanel;
  }
  const messages = field(record, 'messages');
  if (messages !== undefined) {
    show.messages = readList(messages, `${path}.messages`, 'message types', (item, p) => {
      if (typeof item !== 'string' || !/^[A-Za-z]{1,40}$/.test(item)) fail(p, 'a message type such as "RequestVote"', item);
      return item as MessageType;
    });
  }
  const entries = field(record, 'entries');
  if (entries !== undefined) {
    show.entries = readList(entries, `${path}.entries`, '{ "node", "index" } objects', (item, p) => {
      const entry = readObject(item, p);
      rejectUnknownFields(entry, ['node', 'index'], p);
      return { node: readNodeId(field(entry, 'node'), `${p}.node`, context), index: readWhole(field(entry, 'index'), `${p}.index`, 1, Number.MAX_SAFE_INTEGER) };
    });
  }
  return show;
}

function readBound(value: unknown, path: string): Bound {
  if (typeof value === 'number') return readWhole(value, path, 0, Number.MAX_SAFE_INTEGER, 'a whole number >= 0 or { "atLeast", "atMost" }');
  const record = readObject(value, path, 'a whole number >= 0 or { "atLeast", "atMost" }');
  rejectUnknownFields(record, ['atLeast', 'atMost'], path);
  const atLeast = field(record, 'atLeast');
  const atMost = field(record, 'atMost');
  if (atLeast === undefined && atMost === undefined) fail(path, '"atLeast", "atMost" or both', value);
  const bound = {
    ...(atLeast === undefined ? {} : { atLeast: readWhole(atLeast, `${path}.atLeast`, 0, Number.MAX_SAFE_INTEGER) }),
    ...(atMost === undefined ? {} : { atMost: readWhole(atMost, `${path}.atMost`, 0, Number.MAX_SAFE_INTEGER) }),
  };
  if (bound.atLeast !== undefined && bound.atMost !== undefined && bound.atLeast > bound.atMost) fail(path, 'atLeast <= atMost', value);
  return bound;
}

function readUntil(value: unknown, path: string, context: LessonContext): LessonUntil {
  const record = readObject(value, path, 'an object with "atMs", "event" or "user"');
  const kinds = ['atMs', 'event', 'user'].filter((key) => field(record, key) !== undefined);
  if (kinds.length !== 1) throw new ScenarioError(path, `expected one of "atMs", "event" or "user", got ${kinds.length === 0 ? 'none' : kinds.join(' and ')}`);
  if (kinds[0] === 'atMs') {
    rejectUnknownFields(record, ['atMs'], path);
    return { atMs: readWhole(field(record, 'atMs'), `${path}.atMs`, 1, Number.MAX_SAFE_INTEGER) };
  }
  if (kinds[0] === 'user') {
    rejectUnknownFields(record, ['user'], path);
    return { user: context.readAction(field(record, 'user'), `${path}.user`, context.nodeCount) };
  }
  const event = field(record, 'event');
  if (typeof event !== 'string' || !Object.hasOwn(EVENT_FIELDS, event)) fail(`${path}.event`, `one of ${EVENT_NAMES.join(', ')}`, event);
  const name = event as LessonEventName;
  rejectUnknownFields(record, ['event', ...EVENT_FIELDS[name]], path);
  const match: Record<string, string | number | boolean | Bound> = { event: name };
  for (const key of EVENT_FIELDS[name]) {
    const found = field(record, key);
    if (found === undefined) continue;
    const at = `${path}.${key}`;
    if (key === 'node') match[key] = readNodeId(found, at, context);
    else if (NUMBER_FIELDS.has(key) && !(name === 'role' && key === 'to')) match[key] = readBound(found, at);
    else if (name === 'role' && key === 'to') {
      if (typeof found !== 'string' || !(ROLES as readonly string[]).includes(found)) fail(at, `one of ${ROLES.join(', ')}`, found);
      match[key] = found;
    } else if (typeof found === 'string' || typeof found === 'boolean') match[key] = found;
    else fail(at, 'a string or true or false', found);
  }
  return match as EventMatch;
}

function readClaims(value: unknown, path: string, context: LessonContext): Claims {
  const record = readObject(value, path);
  rejectUnknownFields(record, CLAIM_FIELDS, path);
  if (Object.keys(record).length === 0) throw new ScenarioError(path, `expected at least one of ${CLAIM_FIELDS.join(', ')}, got {}`);
  const claims: { -readonly [K in keyof Claims]: Claims[K] } = {};
  if (Object.hasOwn(record, 'leader')) {
    const leader = record['leader'];
    claims.leader = leader === null ? null : readNodeId(leader, `${path}.leader`, context);
  }
  const nodes = field(record, 'nodes');
  if (nodes !== undefined) {
    const nodesRecord = readObject(nodes, `${path}.nodes`, 'an object keyed by node id or "leader"');
    const read: Record<string, NodeClaim> = {};
    for (const key of Object.keys(nodesRecord)) {
      const at = `${path}.nodes.${key}`;
      if (key !== 'leader' && !(/^[1-9]$/.test(key) && Number(key) <= context.nodeCount)) {
        throw new ScenarioError(at, `expected a node id 1..${context.nodeCount} or "leader" as the key, got ${describeValue(key)}`);
      }
      read[key] = readNodeClaim(nodesRecord[key], at, context);
    }
    claims.nodes = read;
  }
  const keys = field(record, 'keys');
  if (keys !== undefined) {
    claims.keys = readList(keys, `${path}.keys`, '{ "node", "key", "value" } objects', (item, p) => {
      const claim = readObject(item, p);
      rejectUnknownFields(claim, ['node', 'key', 'value'], p);
      const found = claim['value'];
      if (found !== null && typeof found !== 'string') fail(`${p}.value`, 'a string, or null for no such key', found);
      return { node: readNodeRef(field(claim, 'node'), `${p}.node`, context), key: readText(field(claim, 'key'), `${p}.key`, { nonEmpty: true, charactersMax: 256 }), value: found as string | null };
    });
  }
  const queues = field(record, 'queues');
  if (queues !== undefined) {
    claims.queues = readList(queues, `${path}.queues`, '{ "node", "queue", "tasks" } objects', (item, p) => {
      const claim = readObject(item, p);
      rejectUnknownFields(claim, ['node', 'queue', 'tasks'], p);
      return {
        node: readNodeRef(field(claim, 'node'), `${p}.node`, context),
        queue: readText(field(claim, 'queue'), `${p}.queue`, { nonEmpty: true, charactersMax: 256 }),
        tasks: readBound(field(claim, 'tasks'), `${p}.tasks`),
      };
    });
  }
  if (Object.hasOwn(record, 'violation')) {
    const violation = record['violation'];
    if (violation !== null && (typeof violation !== 'string' || !/^[A-Za-z]{1,60}$/.test(violation))) {
      fail(`${path}.violation`, 'an invariant name such as "LeaderCompleteness", or null for none', violation);
    }
    claims.violation = violation as string | null;
  }
  const history = field(record, 'history');
  if (history !== undefined) {
    if (!(HISTORY_VERDICTS as readonly unknown[]).includes(history)) fail(`${path}.history`, `one of ${HISTORY_VERDICTS.join(', ')}`, history);
    claims.history = history as Claims['history'];
  }
  return claims;
}

function readNodeClaim(value: unknown, path: string, context: LessonContext): NodeClaim {
  const record = readObject(value, path);
  rejectUnknownFields(record, NODE_CLAIM_FIELDS, path);
  const claim: { -readonly [K in keyof NodeClaim]: NodeClaim[K] } = {};
  const status = field(record, 'status');
  if (status !== undefined) {
    if (status !== 'up' && status !== 'down') fail(`${path}.status`, '"up" or "down"', status);
    claim.status = status;
  }
  const role = field(record, 'role');
  if (role !== undefined) {
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) fail(`${path}.role`, `one of ${ROLES.join(', ')}`, role);
    claim.role = role as Role;
  }
  for (const key of ['term', 'commitIndex', 'lastIndex'] as const) {
    const found = field(record, key);
    if (found !== undefined) claim[key] = readBound(found, `${path}.${key}`);
  }
  const voters = field(record, 'voters');
  if (voters !== undefined) claim.voters = readList(voters, `${path}.voters`, 'node ids', (item, p) => readWhole(item, p, 1, 9));
  return claim;
}

/** The action a step waits for the learner to do, if it waits for one. */
export function learnerAction(step: LessonStep): ActionBody | null {
  const until = step.until;
  return until !== undefined && 'user' in until && !('event' in until) ? (until.user as ActionBody) : null;
}
