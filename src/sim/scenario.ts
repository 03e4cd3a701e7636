// The scenario file (SPEC §3): one JSON format for the browser, the simulator, lessons and tests.
import {
  countUtf8Bytes,
  describeValue,
  fail,
  field,
  fieldPath,
  isRecord,
  readBoolean,
  readObject,
  readRatio,
  readText,
  readWhole,
  readWholeAtLeast,
  rejectUnknownFields,
  ScenarioError,
} from './json-fields.ts';
import { readLesson, type Lesson } from './lesson-format.ts';

export { ScenarioError } from './json-fields.ts';

export interface SimConfig {
  /** A follower's election timeout is drawn from [min, max] each time its timer restarts (§5.2). */
  electionTimeoutMs: [number, number];
  heartbeatMs: number;
  /** One-way delay of each message, drawn from [min, max]; random delays also reorder messages. */
  latencyMs: [number, number];
  /**
   * How long each write to stable storage takes, drawn from [min, max]; writes queue. An answer sent after a
   * write (a vote, an acknowledgement) waits for it (thesis §3.8); a request does not (§10.2.1).
   */
  diskLatencyMs: [number, number];
  /** Election timeouts, message delays and disk writes drawn in steps of 1/1024 ms instead of whole ones. */
  subMillisecond: boolean;
  /** Chance that a message is lost. */
  lossRatio: number;
  /** Chance that a message is delivered twice. */
  duplicateRatio: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Take a snapshot once this many entries follow the last one (0: never). */
  snapshotEveryEntries: number;
  /** InstallSnapshot sends a snapshot in chunks of this many bytes (§7: offset and done). */
  snapshotChunkBytes: number;
  /** Batching: at most this many entries in one AppendEntries. */
  entriesPerMessageMax: number;
  /** Pipelining: at most this many unacknowledged AppendEntries to one follower. */
  inflightMessagesMax: number;
  /**
   * How `get` is served: `log` (as a log entry), `read-index` (the leader confirms it still leads with a
   * heartbeat round, thesis §6.4) or `lease` (no round while the leader's lease holds, §6.4.1; needs
   * checkQuorum, and is only as safe as clockDriftBound is true).
   */
  readMode: ReadMode;
  /** How much faster a server's clock may run than the leader's; lease reads rely on it. */
  clockDriftBound: number;
  /** Teaching switches: each removes one safety rule (see the README). */
  unsafeSkipVoteRestriction: boolean;
  unsafeCommitPreviousTerms: boolean;
  unsafeForgetVoteOnRestart: boolean;
}

export const DEFAULT_SIM_CONFIG: SimConfig = {
  electionTimeoutMs: [150, 300],
  heartbeatMs: 50,
  latencyMs: [10, 15],
  diskLatencyMs: [0, 0],
  subMillisecond: false,
  lossRatio: 0,
  duplicateRatio: 0,
  preVote: false,
  checkQuorum: false,
  snapshotEveryEntries: 0,
  snapshotChunkBytes: 1024,
  entriesPerMessageMax: 64,
  inflightMessagesMax: 8,
  readMode: 'read-index',
  clockDriftBound: 0.1,
  unsafeSkipVoteRestriction: false,
  unsafeCommitPreviousTerms: false,
  unsafeForgetVoteOnRestart: false,
};

export type ReadMode = 'log' | 'read-index' | 'lease';
export const READ_MODES: readonly ReadMode[] = ['log', 'read-index', 'lease'];

/** A node by number (1..N), or whichever node leads at the moment the action runs. */
export type NodeRef = number | 'leader';

export type ScenarioAction = { atMs: number } & (
  | { do: 'crash'; node: NodeRef }
  | { do: 'restart'; node: number }
  | { do: 'timeout'; node: NodeRef }
  | { do: 'partition'; groups: number[][] }
  | { do: 'heal' }
  | { do: 'cut'; from: number; to: number }
  | { do: 'mend'; from: number; to: number }
  | { do: 'set'; key: keyof SimConfig; value: SimConfig[keyof SimConfig] }
  | { do: 'put'; key: string; value: string; node?: NodeRef; session?: ActionSession }
  | { do: 'get'; key: string; node?: NodeRef }
  | { do: 'delete'; key: string; node?: NodeRef; session?: ActionSession }
  | { do: 'cas'; key: string; from: string; to: string; node?: NodeRef; session?: ActionSession }
  | { do: 'enqueue'; queue: string; payload: unknown; node?: NodeRef; session?: ActionSession }
  | { do: 'claim'; queue: string; worker: string; leaseMs: number; node?: NodeRef; session?: ActionSession }
  | { do: 'ack'; queue: string; task: number; node?: NodeRef; session?: ActionSession }
  | { do: 'nack'; queue: string; task: number; node?: NodeRef; session?: ActionSession }
  | { do: 'snapshot'; node: NodeRef }
  | { do: 'transfer'; to: number }
  | { do: 'add-node' }
  | { do: 'remove-node'; node: NodeRef }
  /** Make a node's clock run `rate` times as fast as real time (1 is true time): to show clock drift. */
  | { do: 'clock'; node: number; rate: number }
  /** Lose the message in flight with this id (ids are in the trace's `send` events; a run numbers them alike). */
  | { do: 'drop'; message: number }
);

export type ActionName = ScenarioAction['do'];

/**
 * A write's client session (thesis §6.3): the client's name and the request's number in it. A retry carries the
 * same pair, and the state machine answers it with the first result instead of applying it again.
 */
export interface ActionSession {
  readonly client: string;
  readonly sequence: number;
}

/** An action without its time: what a learner or a button does now. */
export type ActionBody = ScenarioAction extends infer A ? (A extends ScenarioAction ? Omit<A, 'atMs'> : never) : never;

export interface Scenario {
  version: 1;
  /** One line saying what the scenario shows. */
  description?: string;
  seed: number;
  nodes: number;
  config: SimConfig;
  actions: ScenarioAction[];
  runUntilMs: number;
  /** A lesson's steps (SPEC §8): what to look at, ask and do along the run. */
  lesson?: Lesson;
}

export const NODES_MAX = 9;

// ---------------------------------------------------------------------------------------------------------------
// Validation (SPEC §3: "Every field is validated; an error names the JSON path and what was expected").
//
//   parseScenarioText(fs.readFileSync(file, 'utf8'))  // a fresh, normalized Scenario, or a ScenarioError
//   formatScenario(scenario)                          // the canonical text; parseScenarioText reads it back
//
// Errors read `path: expected …, got …` (`actions[3].node: expected 1..5 or "leader", got 7`); the first problem
// found is reported. Unknown fields are reported before anything else at their level, since a misspelt field
// would otherwise surface as a confusing "got nothing" on the field it was meant to be.

/** The most `runUntilMs` and `claim.leaseMs` may be: one hour of virtual time. */
export const RUN_UNTIL_MS_MAX = 3_600_000;
export const DESCRIPTION_CHARACTERS_MAX = 200;
/** For `put`/`get`/`delete`/`cas` keys and for queue and worker names. */
export const KEY_CHARACTERS_MAX = 256;
/** For `put` values and `cas` from/to, counted in UTF-8 bytes. */
export const VALUE_BYTES_MAX = 64 * 1024;
export const LATENCY_MS_MAX = 60_000;
export const ACTIONS_MAX = 100_000;
/** How deeply an `enqueue` payload may nest arrays and objects. */
export const PAYLOAD_DEPTH_MAX = 64;

/** The path used for the file as a whole: JSON syntax errors, a top level that is not an object. */
const FILE_PATH = '(file)';

const SCENARIO_FIELDS = ['version', 'description', 'seed', 'nodes', 'config', 'actions', 'runUntilMs', 'lesson'] as const;

/** The fields of each action besides `atMs` and `do`, in the order they are written out. */
const ACTION_FIELDS = {
  crash: ['node'],
  restart: ['node'],
  timeout: ['node'],
  partition: ['groups'],
  heal: [],
  cut: ['from', 'to'],
  mend: ['from', 'to'],
  set: ['key', 'value'],
  put: ['key', 'value', 'node', 'session'],
  get: ['key', 'node'],
  delete: ['key', 'node', 'session'],
  cas: ['key', 'from', 'to', 'node', 'session'],
  enqueue: ['queue', 'payload', 'node', 'session'],
  claim: ['queue', 'worker', 'leaseMs', 'node', 'session'],
  ack: ['queue', 'task', 'node', 'session'],
  nack: ['queue', 'task', 'node', 'session'],
  snapshot: ['node'],
  transfer: ['to'],
  'add-node': [],
  clock: ['node', 'rate'],
  'remove-node': ['node'],
  drop: ['message'],
} as const satisfies Record<ActionName, readonly string[]>;

export const ACTION_NAMES = Object.keys(ACTION_FIELDS) as ActionName[];
export const SIM_CONFIG_KEYS = Object.keys(DEFAULT_SIM_CONFIG) as (keyof SimConfig)[];


function readValueText(value: unknown, path: string): string {
  const expected = `a string of at most ${VALUE_BYTES_MAX} bytes (64 KiB)`;
  if (typeof value !== 'string') fail(path, expected, value);
  const bytes = countUtf8Bytes(value);
  if (bytes > VALUE_BYTES_MAX) throw new ScenarioError(path, `expected ${expected}, got a string of ${bytes} bytes`);
  return value;
}

/** Any JSON value, copied: null, booleans, finite numbers, strings, arrays and plain objects of them. */
function readJsonValue(value: unknown, path: string, depth = 0, ancestors = new Set<object>()): unknown {
  const expected = 'a JSON value (null, true, false, a number, a string, an array or an object)';
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(path, expected, value);
    return value + 0;
  }
  if (typeof value !== 'object') fail(path, expected, value);
  if (!Array.isArray(value) && !isRecord(value)) fail(path, expected, value);
  if (ancestors.has(value)) throw new ScenarioError(path, `expected ${expected}, got a reference to itself`);
  if (depth >= PAYLOAD_DEPTH_MAX) {
    throw new ScenarioError(path, `expected at most ${PAYLOAD_DEPTH_MAX} levels of nested arrays and objects`);
  }
  ancestors.add(value);
  let copy: unknown;
  if (Array.isArray(value)) {
    copy = value.map((item, i) => readJsonValue(item, `${path}[${i}]`, depth + 1, ancestors));
  } else {
    const record: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const item = readJsonValue(value[key], fieldPath(path, key), depth + 1, ancestors);
      // defineProperty: a "__proto__" key stays an ordinary own field, as JSON.parse makes it.
      Object.defineProperty(record, key, { value: item, enumerable: true, writable: true, configurable: true });
    }
    copy = record;
  }
  ancestors.delete(value);
  return copy;
}

// ---- config ----

function readRange(value: unknown, path: string, min: number, max: number | undefined): [number, number] {
  const bounds = max === undefined ? `${min} <= min <= max` : `${min} <= min <= max <= ${max}`;
  const expected = `[min, max], two whole numbers with ${bounds}`;
  if (!Array.isArray(value) || value.length !== 2) fail(path, expected, value);
  const [low, high] = value as unknown[];
  const limit = max ?? Number.MAX_SAFE_INTEGER;
  for (const end of [low, high]) {
    if (typeof end !== 'number' || !Number.isSafeInteger(end) || end < min || end > limit) fail(path, expected, value);
  }
  if ((low as number) > (high as number)) fail(path, expected, value);
  return [(low as number) + 0, (high as number) + 0];
}

type ConfigRules = { [K in keyof SimConfig]: (value: unknown, path: string) => SimConfig[K] };

/** One rule per key, used for `config` and for the `value` of a `set` action. */
const CONFIG_RULES: ConfigRules = {
  electionTimeoutMs: (value, path) => readRange(value, path, 1, undefined),
  heartbeatMs: (value, path) => readWholeAtLeast(value, path, 1),
  latencyMs: (value, path) => readRange(value, path, 0, LATENCY_MS_MAX),
  diskLatencyMs: (value, path) => readRange(value, path, 0, LATENCY_MS_MAX),
  subMillisecond: readBoolean,
  lossRatio: readRatio,
  duplicateRatio: readRatio,
  preVote: readBoolean,
  checkQuorum: readBoolean,
  snapshotEveryEntries: (value, path) => readWholeAtLeast(value, path, 0),
  snapshotChunkBytes: (value, path) => readWhole(value, path, 8, 1024 * 1024),
  entriesPerMessageMax: (value, path) => readWhole(value, path, 1, 1024),
  inflightMessagesMax: (value, path) => readWhole(value, path, 1, 256),
  readMode: (value, path) => {
    if (typeof value !== 'string' || !(READ_MODES as readonly string[]).includes(value)) fail(path, `one of ${READ_MODES.join(', ')}`, value);
    return value as ReadMode;
  },
  clockDriftBound: (value, path) => readRatio(value, path),
  unsafeSkipVoteRestriction: readBoolean,
  unsafeCommitPreviousTerms: readBoolean,
  unsafeForgetVoteOnRestart: readBoolean,
};

function readConfigValue<K extends keyof SimConfig>(key: K, value: unknown, path: string): SimConfig[K] {
  return CONFIG_RULES[key](value, path);
}

/** Heartbeats must come more often than elections, or followers would keep starting elections (§5.2). */
function heartbeatFitsElection(config: SimConfig): boolean {
  return config.heartbeatMs < config.electionTimeoutMs[0];
}

function heartbeatProblem(config: SimConfig): string {
  return `expected less than the election timeout minimum ${config.electionTimeoutMs[0]}, got ${config.heartbeatMs}`;
}

function electionProblem(config: SimConfig, heartbeatSource: string): string {
  return (
    `expected a minimum greater than the heartbeat ${config.heartbeatMs} (${heartbeatSource}), ` +
    `got ${describeValue(config.electionTimeoutMs)}`
  );
}

function readConfig(value: unknown): SimConfig {
  const config = copyConfig(DEFAULT_SIM_CONFIG);
  if (value === undefined) return config;
  const record = readObject(value, 'config');
  rejectUnknownFields(record, SIM_CONFIG_KEYS, 'config');
  for (const key of SIM_CONFIG_KEYS) {
    const found = field(record, key);
    if (found !== undefined) setConfigValue(config, key, readConfigValue(key, found, `config.${key}`));
  }
  if (!heartbeatFitsElection(config)) {
    if (field(record, 'heartbeatMs') !== undefined) {
      throw new ScenarioError('config.heartbeatMs', heartbeatProblem(config));
    }
    throw new ScenarioError('config.electionTimeoutMs', electionProblem(config, 'the default'));
  }
  return config;
}

function copyConfig(config: SimConfig): SimConfig {
  return { ...config, electionTimeoutMs: [...config.electionTimeoutMs], latencyMs: [...config.latencyMs], diskLatencyMs: [...config.diskLatencyMs] };
}

function setConfigValue<K extends keyof SimConfig>(config: SimConfig, key: K, value: SimConfig[K]): void {
  config[key] = value;
}

// ---- actions ----

/** What the actions may refer to at a point of the list: node ids grow as `add-node` actions add them. */
interface ActionContext {
  nodeCount: number;
  config: SimConfig;
  runUntilMs: number;
}

function describeNodeIds(count: number): string {
  return count === 1 ? '1' : `1..${count}`;
}

function readNodeId(value: unknown, path: string, context: ActionContext): number {
  return readWhole(value, path, 1, context.nodeCount, describeNodeIds(context.nodeCount));
}

function readNodeRef(value: unknown, path: string, context: ActionContext): NodeRef {
  if (value === 'leader') return value;
  return readWhole(value, path, 1, context.nodeCount, `${describeNodeIds(context.nodeCount)} or "leader"`);
}

function readGroups(value: unknown, path: string, context: ActionContext): number[][] {
  if (!Array.isArray(value)) fail(path, 'an array of groups, each a non-empty array of node ids', value);
  const groupOf = new Map<number, number>();
  return value.map((group: unknown, g) => {
    const groupPath = `${path}[${g}]`;
    if (!Array.isArray(group) || group.length === 0) fail(groupPath, 'a non-empty array of node ids', group);
    return group.map((member: unknown, m) => {
      const memberPath = `${groupPath}[${m}]`;
      const id = readNodeId(member, memberPath, context);
      const earlier = groupOf.get(id);
      if (earlier !== undefined) {
        const where = earlier === g ? 'in this group' : `in groups[${earlier}]`;
        throw new ScenarioError(memberPath, `expected each node in one group only, got ${id} again (already ${where})`);
      }
      groupOf.set(id, g);
      return id;
    });
  });
}

/** Optional `node` of client requests (absent means the leader, and stays absent), and `session` of writes. */
function withOptionalNode<T extends object>(
  action: T,
  record: Record<string, unknown>,
  path: string,
  context: ActionContext,
): T & { node?: NodeRef; session?: ActionSession } {
  const found = field(record, 'node');
  const sessionFound = field(record, 'session');
  return {
    ...action,
    ...(found === undefined ? {} : { node: readNodeRef(found, `${path}.node`, context) }),
    ...(sessionFound === undefined ? {} : { session: readSession(sessionFound, `${path}.session`) }),
  };
}

function readSession(value: unknown, path: string): ActionSession {
  const record = readObject(value, path, 'an object { "client", "sequence" }');
  rejectUnknownFields(record, ['client', 'sequence'], path);
  return {
    client: readText(field(record, 'client'), `${path}.client`, { nonEmpty: true, charactersMax: KEY_CHARACTERS_MAX }),
    sequence: readWhole(field(record, 'sequence'), `${path}.sequence`, 1, Number.MAX_SAFE_INTEGER),
  };
}

function readSetAction(
  atMs: number,
  record: Record<string, unknown>,
  path: string,
  context: ActionContext,
): ScenarioAction {
  const key = field(record, 'key');
  if (typeof key !== 'string' || !(SIM_CONFIG_KEYS as string[]).includes(key)) {
    fail(`${path}.key`, `one of ${SIM_CONFIG_KEYS.join(', ')}`, key);
  }
  const configKey = key as keyof SimConfig;
  const valuePath = `${path}.value`;
  const value = readConfigValue(configKey, field(record, 'value'), valuePath);
  const next = copyConfig(context.config);
  setConfigValue(next, configKey, value);
  if (!heartbeatFitsElection(next)) {
    if (configKey === 'heartbeatMs') throw new ScenarioError(valuePath, heartbeatProblem(next));
    throw new ScenarioError(valuePath, electionProblem(next, 'the config at this point'));
  }
  context.config = next;
  return { atMs, do: 'set', key: configKey, value };
}

function readAction(
  value: unknown,
  path: string,
  context: ActionContext,
  previous: { atMs: number; index: number } | undefined,
): ScenarioAction {
  const record = readObject(value, path);
  const name = field(record, 'do');
  if (typeof name !== 'string' || !Object.hasOwn(ACTION_FIELDS, name)) {
    fail(`${path}.do`, `one of ${ACTION_NAMES.join(', ')}`, name);
  }
  const kind = name as ActionName;
  rejectUnknownFields(record, ['atMs', 'do', ...ACTION_FIELDS[kind]], path);

  const atPath = `${path}.atMs`;
  const atMs = readWhole(field(record, 'atMs'), atPath, 0, context.runUntilMs, undefined);
  if (previous !== undefined && atMs < previous.atMs) {
    throw new ScenarioError(
      atPath,
      `expected ${previous.atMs} or later (actions are sorted by atMs, and actions[${previous.index}] is at ` +
        `${previous.atMs}), got ${atMs}`,
    );
  }

  const at = (key: string): string => `${path}.${key}`;
  const get = (key: string): unknown => field(record, key);
  const keyText = (key: string): string =>
    readText(get(key), at(key), { nonEmpty: true, charactersMax: KEY_CHARACTERS_MAX });
  const task = (): number => readWholeAtLeast(get('task'), at('task'), 1);

  switch (kind) {
    case 'crash':
    case 'timeout':
    case 'snapshot':
    case 'remove-node':
      return { atMs, do: kind, node: readNodeRef(get('node'), at('node'), context) };
    case 'restart':
      return { atMs, do: kind, node: readNodeId(get('node'), at('node'), context) };
    case 'partition':
      return { atMs, do: kind, groups: readGroups(get('groups'), at('groups'), context) };
    case 'heal':
      return { atMs, do: kind };
    case 'drop':
      return { atMs, do: kind, message: readWholeAtLeast(get('message'), at('message'), 1) };
    case 'cut':
    case 'mend': {
      const from = readNodeId(get('from'), at('from'), context);
      const to = readNodeId(get('to'), at('to'), context);
      if (to === from) fail(at('to'), `a node other than from (${from})`, to);
      return { atMs, do: kind, from, to };
    }
    case 'set':
      return readSetAction(atMs, record, path, context);
    case 'put': {
      const action = { atMs, do: kind, key: keyText('key'), value: readValueText(get('value'), at('value')) };
      return withOptionalNode(action, record, path, context);
    }
    case 'get':
    case 'delete':
      return withOptionalNode({ atMs, do: kind, key: keyText('key') }, record, path, context);
    case 'cas': {
      const action = {
        atMs,
        do: kind,
        key: keyText('key'),
        from: readValueText(get('from'), at('from')),
        to: readValueText(get('to'), at('to')),
      };
      return withOptionalNode(action, record, path, context);
    }
    case 'enqueue': {
      const queue = keyText('queue');
      if (get('payload') === undefined) fail(at('payload'), 'a JSON value', undefined);
      const action = { atMs, do: kind, queue, payload: readJsonValue(get('payload'), at('payload')) };
      return withOptionalNode(action, record, path, context);
    }
    case 'claim': {
      const action = {
        atMs,
        do: kind,
        queue: keyText('queue'),
        worker: keyText('worker'),
        leaseMs: readWhole(get('leaseMs'), at('leaseMs'), 1, RUN_UNTIL_MS_MAX),
      };
      return withOptionalNode(action, record, path, context);
    }
    case 'ack':
    case 'nack':
      return withOptionalNode({ atMs, do: kind, queue: keyText('queue'), task: task() }, record, path, context);
    case 'transfer':
      return { atMs, do: kind, to: readNodeId(get('to'), at('to'), context) };
    case 'clock': {
      const rate = get('rate');
      if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0.1 || rate > 10) fail(at('rate'), 'a number from 0.1 to 10', rate);
      return { atMs, do: kind, node: readNodeId(get('node'), at('node'), context), rate: rate + 0 };
    }
    case 'add-node': {
      if (context.nodeCount >= NODES_MAX) {
        throw new ScenarioError(
          `${path}.do`,
          `expected at most ${NODES_MAX} nodes in all, got "add-node" with ${context.nodeCount} nodes already`,
        );
      }
      context.nodeCount++;
      return { atMs, do: kind };
    }
  }
}

function readActions(value: unknown, context: ActionContext): ScenarioAction[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail('actions', 'an array', value);
  if (value.length > ACTIONS_MAX) {
    throw new ScenarioError('actions', `expected at most ${ACTIONS_MAX} actions, got ${value.length}`);
  }
  const actions: ScenarioAction[] = [];
  for (let i = 0; i < value.length; i++) {
    const last = actions.at(-1);
    const previous = last === undefined ? undefined : { atMs: last.atMs, index: i - 1 };
    actions.push(readAction(value[i], `actions[${i}]`, context, previous));
  }
  return actions;
}

// ---- the file ----

/** Checks every field of a scenario and returns a fresh, normalized copy with the config filled in. */
export function parseScenario(input: unknown): Scenario {
  const record = readObject(input, FILE_PATH, 'a scenario object');
  rejectUnknownFields(record, SCENARIO_FIELDS, '');

  const version = field(record, 'version');
  if (version !== 1) fail('version', '1', version);
  const descriptionFound = field(record, 'description');
  const description =
    descriptionFound === undefined
      ? undefined
      : readText(descriptionFound, 'description', { nonEmpty: false, charactersMax: DESCRIPTION_CHARACTERS_MAX });
  const seed = readWhole(field(record, 'seed'), 'seed', 0, Number.MAX_SAFE_INTEGER);
  const nodes = readWhole(field(record, 'nodes'), 'nodes', 1, NODES_MAX);
  const config = readConfig(field(record, 'config'));
  const runUntilMs = readWhole(field(record, 'runUntilMs'), 'runUntilMs', 1, RUN_UNTIL_MS_MAX);
  const context: ActionContext = { nodeCount: nodes, config: copyConfig(config), runUntilMs };
  const actions = readActions(field(record, 'actions'), context);
  const lessonFound = field(record, 'lesson');
  const lesson =
    lessonFound === undefined
      ? undefined
      : readLesson(lessonFound, 'lesson', {
          nodeCount: context.nodeCount,
          readAction: (value, path, nodeCount) => {
            const action = readObject(value, path);
            if (Object.hasOwn(action, 'atMs')) throw new ScenarioError(`${path}.atMs`, 'unknown field: the learner acts when the step waits for it, not at a set time');
            // Checked as if at the end of the scripted actions; its time is the step's.
            const { atMs: _, ...body } = readAction({ ...action, atMs: runUntilMs }, path, { ...context, nodeCount, config: copyConfig(context.config) }, undefined);
            return body as ActionBody;
          },
        });

  // Fields in the order of SPEC §3's example; formatScenario writes them in this order.
  return {
    version: 1,
    ...(description === undefined ? {} : { description }),
    seed,
    nodes,
    config,
    actions,
    runUntilMs,
    ...(lesson === undefined ? {} : { lesson }),
  };
}

/** Parses a scenario file's text; a JSON syntax error is a ScenarioError at `(file)`. */
export function parseScenarioText(text: string): Scenario {
  let input: unknown;
  try {
    input = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ScenarioError(FILE_PATH, `not valid JSON: ${reason}`);
  }
  return parseScenario(input);
}

/** Writes a JSON value on one line, with a space after each comma and colon: `{ "atMs": 0, "do": "heal" }`. */
function formatInline(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[${value.map(formatInline).join(', ')}]`;
  if (isRecord(value)) {
    const fields = Object.keys(value).map((key) => `${JSON.stringify(key)}: ${formatInline(value[key])}`);
    return fields.length === 0 ? '{}' : `{ ${fields.join(', ')} }`;
  }
  return JSON.stringify(value);
}

/** A lesson block: its fields one a line, each step one a line, at the indentation of a top-level field. */
function formatLesson(lesson: Lesson): string {
  const fields = Object.entries(lesson).map(([key, value]) => {
    if (key !== 'steps') return `    ${JSON.stringify(key)}: ${formatInline(value)}`;
    const steps = (value as Lesson['steps']).map((step) => `      ${formatInline(step)}`);
    return `    "steps": [\n${steps.join(',\n')}\n    ]`;
  });
  return `{\n${fields.join(',\n')}\n  }`;
}

/**
 * The canonical text of a scenario, laid out like SPEC §3's example: 2-space indentation, one config key and
 * one action per line, fields in a fixed order, a final newline. The scenario is validated (and normalized) first,
 * so the same scenario always gives the same text and `parseScenarioText` reads it back.
 */
export function formatScenario(s: Scenario): string {
  const scenario = parseScenario(s);
  const lines: string[] = [];
  for (const [key, value] of Object.entries(scenario)) {
    const name = JSON.stringify(key);
    if (key === 'config') {
      const fields = Object.entries(value as SimConfig).map(([k, v]) => `    ${JSON.stringify(k)}: ${formatInline(v)}`);
      lines.push(`  ${name}: {\n${fields.join(',\n')}\n  }`);
    } else if (key === 'actions' && (value as ScenarioAction[]).length > 0) {
      const items = (value as ScenarioAction[]).map((action) => `    ${formatInline(action)}`);
      lines.push(`  ${name}: [\n${items.join(',\n')}\n  ]`);
    } else if (key === 'lesson') {
      lines.push(`  ${name}: ${formatLesson(value as Lesson)}`);
    } else {
      lines.push(`  ${name}: ${formatInline(value)}`);
    }
  }
  return `{\n${lines.join(',\n')}\n}\n`;
}
