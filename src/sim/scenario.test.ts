import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SIM_CONFIG,
  NODES_MAX,
  formatScenario,
  parseScenario,
  parseScenarioText,
  ScenarioError,
  type Scenario,
} from './scenario.ts';
import { createScenarioSimulation } from './run-scenario.ts';

/** SPEC §3's example file, verbatim. */
const SPEC_EXAMPLE = `{
  "version": 1,
  "seed": 42,
  "nodes": 5,
  "config": {
    "electionTimeoutMs": [150, 300], "heartbeatMs": 50,
    "latencyMs": [10, 15], "lossRatio": 0, "duplicateRatio": 0,
    "preVote": false, "checkQuorum": false,
    "snapshotEveryEntries": 0
  },
  "actions": [
    { "atMs": 1000, "do": "crash", "node": "leader" },
    { "atMs": 1200, "do": "partition", "groups": [[1, 2], [3, 4, 5]] },
    { "atMs": 1300, "do": "put", "key": "x", "value": "1", "node": 3 },
    { "atMs": 2500, "do": "heal" },
    { "atMs": 2600, "do": "restart", "node": 1 }
  ],
  "runUntilMs": 5000
}`;

/** A minimal valid file (5 nodes, 5000 ms) with the given actions and top-level overrides. */
function file(actions: unknown[] = [], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { version: 1, seed: 7, nodes: 5, runUntilMs: 5000, actions, ...overrides };
}

function withConfig(config: Record<string, unknown>): Record<string, unknown> {
  return file([], { config });
}

function errorOf(fn: () => unknown): ScenarioError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return err as ScenarioError;
  }
  throw new Error('expected a ScenarioError, but nothing was thrown');
}

/** The whole message, not just a part of it (toThrow with a string only checks for a substring). */
function expectMessage(fn: () => unknown, message: string): void {
  expect(errorOf(fn).message).toBe(message);
}

/** Every kind of action once, valid against a 5-node file. */
const ONE_OF_EACH: unknown[] = [
  { atMs: 0, do: 'crash', node: 2 },
  { atMs: 10, do: 'restart', node: 2 },
  { atMs: 20, do: 'timeout', node: 'leader' },
  { atMs: 30, do: 'partition', groups: [[1], [2, 3]] },
  { atMs: 40, do: 'heal' },
  { atMs: 50, do: 'cut', from: 1, to: 2 },
  { atMs: 60, do: 'mend', from: 2, to: 1 },
  { atMs: 70, do: 'set', key: 'lossRatio', value: 0.2 },
  { atMs: 80, do: 'set', key: 'electionTimeoutMs', value: [200, 400] },
  { atMs: 90, do: 'put', key: 'x', value: '' },
  { atMs: 100, do: 'get', key: 'x', node: 4 },
  { atMs: 110, do: 'delete', key: 'x', node: 'leader' },
  { atMs: 120, do: 'cas', key: 'x', from: '1', to: '2' },
  { atMs: 130, do: 'enqueue', queue: 'jobs', payload: { n: [1, 'two', null, true] } },
  { atMs: 140, do: 'claim', queue: 'jobs', worker: 'w1', leaseMs: 30000 },
  { atMs: 150, do: 'ack', queue: 'jobs', task: 1 },
  { atMs: 160, do: 'nack', queue: 'jobs', task: 2, node: 1 },
  { atMs: 170, do: 'snapshot', node: 'leader' },
  { atMs: 180, do: 'transfer', to: 3 },
  { atMs: 190, do: 'add-node' },
  { atMs: 200, do: 'remove-node', node: 6 },
];

describe('parseScenario: valid files', () => {
  it("parses SPEC §3's example file, filling in the config keys it leaves out", () => {
    const scenario = parseScenarioText(SPEC_EXAMPLE);
    expect(scenario).toEqual({
      version: 1,
      seed: 42,
      nodes: 5,
      config: DEFAULT_SIM_CONFIG,
      actions: [
        { atMs: 1000, do: 'crash', node: 'leader' },
        { atMs: 1200, do: 'partition', groups: [[1, 2], [3, 4, 5]] },
        { atMs: 1300, do: 'put', key: 'x', value: '1', node: 3 },
        { atMs: 2500, do: 'heal' },
        { atMs: 2600, do: 'restart', node: 1 },
      ],
      runUntilMs: 5000,
    });
  });

  it('accepts every kind of action', () => {
    const scenario = parseScenario(file(ONE_OF_EACH));
    expect(scenario.actions).toEqual(ONE_OF_EACH);
  });

  it('fills a missing config, and each missing config key, from DEFAULT_SIM_CONFIG', () => {
    expect(parseScenario(file()).config).toEqual(DEFAULT_SIM_CONFIG);
    expect(parseScenario(withConfig({})).config).toEqual(DEFAULT_SIM_CONFIG);
    expect(parseScenario(withConfig({ preVote: true, lossRatio: 0.5 })).config).toEqual({
      ...DEFAULT_SIM_CONFIG,
      preVote: true,
      lossRatio: 0.5,
    });
  });

  it('defaults actions to an empty list and keeps a description', () => {
    const scenario = parseScenario({ version: 1, seed: 0, nodes: 1, runUntilMs: 1, description: 'one node' });
    expect(scenario).toEqual({
      version: 1,
      description: 'one node',
      seed: 0,
      nodes: 1,
      config: DEFAULT_SIM_CONFIG,
      actions: [],
      runUntilMs: 1,
    });
  });

  it('keeps an absent client node absent (it means the leader)', () => {
    const [action] = parseScenario(file([{ atMs: 0, do: 'put', key: 'k', value: 'v' }])).actions;
    expect(action).toEqual({ atMs: 0, do: 'put', key: 'k', value: 'v' });
    expect(action && 'node' in action).toBe(false);
  });

  it('accepts the limits themselves', () => {
    const scenario = parseScenario({
      version: 1,
      seed: Number.MAX_SAFE_INTEGER,
      nodes: NODES_MAX,
      runUntilMs: 3_600_000,
      description: 'd'.repeat(200),
      config: { electionTimeoutMs: [2, 2], heartbeatMs: 1, latencyMs: [60000, 60000], lossRatio: 1, duplicateRatio: 0 },
      actions: [
        { atMs: 0, do: 'put', key: 'k'.repeat(256), value: 'v'.repeat(65536) },
        { atMs: 3_600_000, do: 'claim', queue: 'q', worker: 'w', leaseMs: 3_600_000 },
      ],
    });
    expect(scenario.seed).toBe(Number.MAX_SAFE_INTEGER);
    expect(scenario.actions).toHaveLength(2);
  });

  it('allows actions at the same moment, in the order written', () => {
    const actions = [
      { atMs: 100, do: 'crash', node: 1 },
      { atMs: 100, do: 'crash', node: 2 },
    ];
    expect(parseScenario(file(actions)).actions).toEqual(actions);
  });

  it('returns a fresh object and leaves the input untouched', () => {
    const input = file([{ atMs: 0, do: 'partition', groups: [[1, 2]] }], { config: { latencyMs: [1, 2] } });
    const before = structuredClone(input);
    const scenario = parseScenario(input);
    expect(input).toEqual(before);
    scenario.config.latencyMs[0] = 99;
    const action = scenario.actions[0] as { groups: number[][] };
    action.groups[0]!.push(3);
    expect(input).toEqual(before);
    expect(DEFAULT_SIM_CONFIG.electionTimeoutMs).toEqual([150, 300]);
    parseScenario(file()).config.electionTimeoutMs[0] = 1;
    expect(DEFAULT_SIM_CONFIG.electionTimeoutMs).toEqual([150, 300]);
  });

  it('accepts a file that starts with a byte order mark', () => {
    expect(parseScenarioText(`\uFEFF${SPEC_EXAMPLE}`).seed).toBe(42);
  });
});

describe('add-node: node ids grow along the action list', () => {
  it('makes node 6 valid after one add-node, and not before', () => {
    const later = [
      { atMs: 100, do: 'add-node' },
      { atMs: 200, do: 'crash', node: 6 },
      { atMs: 300, do: 'restart', node: 6 },
      { atMs: 400, do: 'partition', groups: [[6], [1, 2]] },
      { atMs: 500, do: 'transfer', to: 6 },
    ];
    expect(parseScenario(file(later)).actions).toEqual(later);

    expect(() => parseScenario(file([{ atMs: 0, do: 'crash', node: 6 }, { atMs: 100, do: 'add-node' }]))).toThrow(
      'actions[0].node: expected 1..5 or "leader", got 6',
    );
    expect(() => parseScenario(file([{ atMs: 100, do: 'add-node' }, { atMs: 200, do: 'crash', node: 7 }]))).toThrow(
      'actions[1].node: expected 1..6 or "leader", got 7',
    );
  });

  it('refuses an add-node beyond NODES_MAX', () => {
    const adds = Array.from({ length: NODES_MAX - 5 }, (_, i) => ({ atMs: i, do: 'add-node' }));
    expect(parseScenario(file([...adds, { atMs: 10, do: 'crash', node: 9 }])).actions).toHaveLength(5);
    expect(() => parseScenario(file([...adds, { atMs: 10, do: 'add-node' }]))).toThrow(
      'actions[4].do: expected at most 9 nodes in all, got "add-node" with 9 nodes already',
    );
    expect(() => parseScenario(file([{ atMs: 0, do: 'add-node' }], { nodes: 9 }))).toThrow(
      'actions[0].do: expected at most 9 nodes in all, got "add-node" with 9 nodes already',
    );
  });

  it('does not give ids back on remove-node (ids are never reused)', () => {
    const actions = [
      { atMs: 0, do: 'remove-node', node: 5 },
      { atMs: 1, do: 'add-node' },
      { atMs: 2, do: 'crash', node: 6 },
    ];
    expect(parseScenario(file(actions)).actions).toEqual(actions);
  });
});

describe('parseScenario: top-level errors', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['version', { version: 2 }, 'version: expected 1, got 2'],
    ['version as text', { version: '1' }, 'version: expected 1, got "1"'],
    ['missing version', { version: undefined }, 'version: expected 1, got nothing'],
    ['missing seed', { seed: undefined }, 'seed: expected a whole number from 0 to 9007199254740991, got nothing'],
    ['negative seed', { seed: -1 }, 'seed: expected a whole number from 0 to 9007199254740991, got -1'],
    ['seed 2^53', { seed: 2 ** 53 }, 'seed: expected a whole number from 0 to 9007199254740991, got 9007199254740992'],
    ['fractional seed', { seed: 1.5 }, 'seed: expected a whole number from 0 to 9007199254740991, got 1.5'],
    ['too many nodes', { nodes: 12 }, 'nodes: expected a whole number from 1 to 9, got 12'],
    ['no nodes', { nodes: 0 }, 'nodes: expected a whole number from 1 to 9, got 0'],
    ['nodes as text', { nodes: '5' }, 'nodes: expected a whole number from 1 to 9, got "5"'],
    ['runUntilMs 0', { runUntilMs: 0 }, 'runUntilMs: expected a whole number from 1 to 3600000, got 0'],
    ['runUntilMs too long', { runUntilMs: 3_600_001 }, 'runUntilMs: expected a whole number from 1 to 3600000, got 3600001'],
    ['missing runUntilMs', { runUntilMs: undefined }, 'runUntilMs: expected a whole number from 1 to 3600000, got nothing'],
    ['description type', { description: 5 }, 'description: expected a string of at most 200 characters, got 5'],
    [
      'description length',
      { description: 'x'.repeat(201) },
      'description: expected a string of at most 200 characters, got a string of 201 characters',
    ],
    ['actions type', { actions: { atMs: 0 } }, 'actions: expected an array, got {"atMs":0}'],
    ['config type', { config: [1] }, 'config: expected an object, got [1]'],
    ['config null', { config: null }, 'config: expected an object, got null'],
  ])('%s', (_name, overrides, message) => {
    expectMessage(() => parseScenario(file([], overrides)), message);
  });

  it('names the file when the top level is not an object', () => {
    expect(() => parseScenario([1, 2])).toThrow('(file): expected a scenario object, got [1,2]');
    expect(() => parseScenarioText('null')).toThrow('(file): expected a scenario object, got null');
  });

  it('rejects unknown top-level fields, listing the known ones', () => {
    expect(() => parseScenario(file([], { node: 5 }))).toThrow(
      'node: unknown field (expected one of actions, config, description, lesson, nodes, runUntilMs, seed, version)',
    );
  });

  it('reports an unknown field before the problems it may cause', () => {
    expectMessage(
      () => parseScenario({ version: 1, seed: 1, nodes: 3, runUntilMS: 10 }),
      'runUntilMS: unknown field (expected one of actions, config, description, lesson, nodes, runUntilMs, seed, version)',
    );
  });

  it('treats a "__proto__" field as an unknown field', () => {
    expect(() => parseScenarioText('{"version":1,"seed":1,"nodes":3,"runUntilMs":10,"__proto__":{}}')).toThrow(
      '__proto__: unknown field',
    );
  });

  it('carries the path and the detail separately', () => {
    const err = errorOf(() => parseScenario(file([], { nodes: 12 })));
    expect(err.path).toBe('nodes');
    expect(err.detail).toBe('expected a whole number from 1 to 9, got 12');
    expect(err.message).toBe('nodes: expected a whole number from 1 to 9, got 12');
    expect(err.name).toBe('ScenarioError');
  });
});

describe('parseScenario: config errors', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['lossRatio above 1', { lossRatio: 1.5 }, 'config.lossRatio: expected a number from 0 to 1, got 1.5'],
    ['negative duplicateRatio', { duplicateRatio: -0.1 }, 'config.duplicateRatio: expected a number from 0 to 1, got -0.1'],
    ['lossRatio as text', { lossRatio: '0.1' }, 'config.lossRatio: expected a number from 0 to 1, got "0.1"'],
    ['preVote as text', { preVote: 'yes' }, 'config.preVote: expected true or false, got "yes"'],
    ['checkQuorum as 1', { checkQuorum: 1 }, 'config.checkQuorum: expected true or false, got 1'],
    ['unsafe switch', { unsafeForgetVoteOnRestart: null }, 'config.unsafeForgetVoteOnRestart: expected true or false, got null'],
    ['heartbeat 0', { heartbeatMs: 0 }, 'config.heartbeatMs: expected a whole number >= 1, got 0'],
    ['fractional heartbeat', { heartbeatMs: 10.5 }, 'config.heartbeatMs: expected a whole number >= 1, got 10.5'],
    [
      'heartbeat not below the election minimum',
      { heartbeatMs: 200 },
      'config.heartbeatMs: expected less than the election timeout minimum 150, got 200',
    ],
    [
      'heartbeat equal to the election minimum',
      { heartbeatMs: 100, electionTimeoutMs: [100, 200] },
      'config.heartbeatMs: expected less than the election timeout minimum 100, got 100',
    ],
    [
      'election minimum not above the default heartbeat',
      { electionTimeoutMs: [40, 80] },
      'config.electionTimeoutMs: expected a minimum greater than the heartbeat 50 (the default), got [40,80]',
    ],
    [
      'election timeout reversed',
      { electionTimeoutMs: [300, 150] },
      'config.electionTimeoutMs: expected [min, max], two whole numbers with 1 <= min <= max, got [300,150]',
    ],
    [
      'election timeout of three numbers',
      { electionTimeoutMs: [1, 2, 3] },
      'config.electionTimeoutMs: expected [min, max], two whole numbers with 1 <= min <= max, got [1,2,3]',
    ],
    [
      'election timeout as a number',
      { electionTimeoutMs: 150 },
      'config.electionTimeoutMs: expected [min, max], two whole numbers with 1 <= min <= max, got 150',
    ],
    [
      'election timeout of 0',
      { electionTimeoutMs: [0, 10] },
      'config.electionTimeoutMs: expected [min, max], two whole numbers with 1 <= min <= max, got [0,10]',
    ],
    [
      'latency above 60000',
      { latencyMs: [10, 60001] },
      'config.latencyMs: expected [min, max], two whole numbers with 0 <= min <= max <= 60000, got [10,60001]',
    ],
    [
      'negative latency',
      { latencyMs: [-1, 10] },
      'config.latencyMs: expected [min, max], two whole numbers with 0 <= min <= max <= 60000, got [-1,10]',
    ],
    [
      'fractional latency',
      { latencyMs: [1.5, 10] },
      'config.latencyMs: expected [min, max], two whole numbers with 0 <= min <= max <= 60000, got [1.5,10]',
    ],
    [
      'disk latency backwards',
      { diskLatencyMs: [8, 2] },
      'config.diskLatencyMs: expected [min, max], two whole numbers with 0 <= min <= max <= 60000, got [8,2]',
    ],
    ['subMillisecond not a boolean', { subMillisecond: 'yes' }, 'config.subMillisecond: expected true or false, got "yes"'],
    [
      'negative snapshotEveryEntries',
      { snapshotEveryEntries: -1 },
      'config.snapshotEveryEntries: expected a whole number >= 0, got -1',
    ],
  ])('%s', (_name, config, message) => {
    expectMessage(() => parseScenario(withConfig(config)), message);
  });

  it('reads a disk latency and a sub-millisecond clock, and leaves both off by default (old files run as before)', () => {
    const config = parseScenario(withConfig({ diskLatencyMs: [2, 8], subMillisecond: true })).config;
    expect(config.diskLatencyMs).toEqual([2, 8]);
    expect(config.subMillisecond).toBe(true);
    const defaults = parseScenario(withConfig({})).config;
    expect(defaults.diskLatencyMs).toEqual([0, 0]);
    expect(defaults.subMillisecond).toBe(false);
  });

  it('accepts zero latency and a zero snapshot interval', () => {
    const config = parseScenario(withConfig({ latencyMs: [0, 0], snapshotEveryEntries: 0 })).config;
    expect(config.latencyMs).toEqual([0, 0]);
  });

  it('rejects unknown config keys, listing the known ones', () => {
    expect(() => parseScenario(withConfig({ heartbeat: 50 }))).toThrow(
      'config.heartbeat: unknown field (expected one of checkQuorum, clockDriftBound, diskLatencyMs, duplicateRatio, electionTimeoutMs, ' +
        'entriesPerMessageMax, heartbeatMs, inflightMessagesMax, latencyMs, lossRatio, preVote, readMode, snapshotChunkBytes, snapshotEveryEntries, ' +
        'subMillisecond, unsafeCommitPreviousTerms, unsafeForgetVoteOnRestart, unsafeSkipVoteRestriction)',
    );
  });

  it('quotes a field name that is not a plain identifier', () => {
    expect(() => parseScenario(withConfig({ 'loss ratio': 0 }))).toThrow('config["loss ratio"]: unknown field');
  });
});

describe('parseScenario: action errors', () => {
  it.each<[string, unknown, string]>([
    ['not an object', 5, 'actions[0]: expected an object, got 5'],
    [
      'unknown action',
      { atMs: 0, do: 'explode' },
      'actions[0].do: expected one of crash, restart, timeout, partition, heal, cut, mend, set, put, get, delete, ' +
        'cas, enqueue, claim, ack, nack, snapshot, transfer, add-node, clock, remove-node, drop, got "explode"',
    ],
    [
      'missing do',
      { atMs: 0 },
      'actions[0].do: expected one of crash, restart, timeout, partition, heal, cut, mend, set, put, get, delete, ' +
        'cas, enqueue, claim, ack, nack, snapshot, transfer, add-node, clock, remove-node, drop, got nothing',
    ],
    ['missing atMs', { do: 'heal' }, 'actions[0].atMs: expected a whole number from 0 to 5000, got nothing'],
    ['negative atMs', { atMs: -1, do: 'heal' }, 'actions[0].atMs: expected a whole number from 0 to 5000, got -1'],
    ['atMs after runUntilMs', { atMs: 5001, do: 'heal' }, 'actions[0].atMs: expected a whole number from 0 to 5000, got 5001'],
    ['atMs as text', { atMs: '10', do: 'heal' }, 'actions[0].atMs: expected a whole number from 0 to 5000, got "10"'],
    ['crash node too high', { atMs: 0, do: 'crash', node: 7 }, 'actions[0].node: expected 1..5 or "leader", got 7'],
    ['crash node 0', { atMs: 0, do: 'crash', node: 0 }, 'actions[0].node: expected 1..5 or "leader", got 0'],
    ['crash node missing', { atMs: 0, do: 'crash' }, 'actions[0].node: expected 1..5 or "leader", got nothing'],
    ['crash "Leader"', { atMs: 0, do: 'timeout', node: 'Leader' }, 'actions[0].node: expected 1..5 or "leader", got "Leader"'],
    ['restart "leader"', { atMs: 0, do: 'restart', node: 'leader' }, 'actions[0].node: expected 1..5, got "leader"'],
    ['remove-node of a node that is not there', { atMs: 0, do: 'remove-node', node: 6 }, 'actions[0].node: expected 1..5 or "leader", got 6'],
    ['transfer to "leader"', { atMs: 0, do: 'transfer', to: 'leader' }, 'actions[0].to: expected 1..5, got "leader"'],
    ['transfer to nobody', { atMs: 0, do: 'transfer' }, 'actions[0].to: expected 1..5, got nothing'],
    ['snapshot without node', { atMs: 0, do: 'snapshot' }, 'actions[0].node: expected 1..5 or "leader", got nothing'],
    ['cut to itself', { atMs: 0, do: 'cut', from: 3, to: 3 }, 'actions[0].to: expected a node other than from (3), got 3'],
    ['mend from "leader"', { atMs: 0, do: 'mend', from: 'leader', to: 3 }, 'actions[0].from: expected 1..5, got "leader"'],
    ['cut to node 6', { atMs: 0, do: 'cut', from: 1, to: 6 }, 'actions[0].to: expected 1..5, got 6'],
    [
      'partition without groups',
      { atMs: 0, do: 'partition' },
      'actions[0].groups: expected an array of groups, each a non-empty array of node ids, got nothing',
    ],
    [
      'partition group not an array',
      { atMs: 0, do: 'partition', groups: [1, 2] },
      'actions[0].groups[0]: expected a non-empty array of node ids, got 1',
    ],
    [
      'partition empty group',
      { atMs: 0, do: 'partition', groups: [[1], []] },
      'actions[0].groups[1]: expected a non-empty array of node ids, got []',
    ],
    [
      'partition unknown node',
      { atMs: 0, do: 'partition', groups: [[1, 2], [3, 9]] },
      'actions[0].groups[1][1]: expected 1..5, got 9',
    ],
    [
      'partition "leader"',
      { atMs: 0, do: 'partition', groups: [['leader']] },
      'actions[0].groups[0][0]: expected 1..5, got "leader"',
    ],
    [
      'partition node twice across groups',
      { atMs: 0, do: 'partition', groups: [[1, 2], [3, 2]] },
      'actions[0].groups[1][1]: expected each node in one group only, got 2 again (already in groups[0])',
    ],
    [
      'partition node twice in a group',
      { atMs: 0, do: 'partition', groups: [[1, 1]] },
      'actions[0].groups[0][1]: expected each node in one group only, got 1 again (already in this group)',
    ],
    [
      'put with an empty key',
      { atMs: 0, do: 'put', key: '', value: 'v' },
      'actions[0].key: expected a non-empty string of at most 256 characters, got ""',
    ],
    [
      'put with a long key',
      { atMs: 0, do: 'put', key: 'k'.repeat(257), value: 'v' },
      'actions[0].key: expected a non-empty string of at most 256 characters, got a string of 257 characters',
    ],
    [
      'put with a numeric value',
      { atMs: 0, do: 'put', key: 'k', value: 1 },
      'actions[0].value: expected a string of at most 65536 bytes (64 KiB), got 1',
    ],
    [
      'put with too big a value',
      { atMs: 0, do: 'put', key: 'k', value: 'é'.repeat(32769) },
      'actions[0].value: expected a string of at most 65536 bytes (64 KiB), got a string of 65538 bytes',
    ],
    [
      'put to node 6',
      { atMs: 0, do: 'put', key: 'k', value: 'v', node: 6 },
      'actions[0].node: expected 1..5 or "leader", got 6',
    ],
    ['get without key', { atMs: 0, do: 'get' }, 'actions[0].key: expected a non-empty string of at most 256 characters, got nothing'],
    ['delete with a null node', { atMs: 0, do: 'delete', key: 'k', node: null }, 'actions[0].node: expected 1..5 or "leader", got null'],
    [
      'cas without to',
      { atMs: 0, do: 'cas', key: 'k', from: 'a' },
      'actions[0].to: expected a string of at most 65536 bytes (64 KiB), got nothing',
    ],
    [
      'enqueue without payload',
      { atMs: 0, do: 'enqueue', queue: 'q' },
      'actions[0].payload: expected a JSON value, got nothing',
    ],
    [
      'enqueue with an empty queue',
      { atMs: 0, do: 'enqueue', queue: '', payload: 1 },
      'actions[0].queue: expected a non-empty string of at most 256 characters, got ""',
    ],
    [
      'claim without worker',
      { atMs: 0, do: 'claim', queue: 'q', leaseMs: 1000 },
      'actions[0].worker: expected a non-empty string of at most 256 characters, got nothing',
    ],
    [
      'claim with a zero lease',
      { atMs: 0, do: 'claim', queue: 'q', worker: 'w', leaseMs: 0 },
      'actions[0].leaseMs: expected a whole number from 1 to 3600000, got 0',
    ],
    [
      'claim with a lease over an hour',
      { atMs: 0, do: 'claim', queue: 'q', worker: 'w', leaseMs: 3_600_001 },
      'actions[0].leaseMs: expected a whole number from 1 to 3600000, got 3600001',
    ],
    ['ack task 0', { atMs: 0, do: 'ack', queue: 'q', task: 0 }, 'actions[0].task: expected a whole number >= 1, got 0'],
    ['nack task as text', { atMs: 0, do: 'nack', queue: 'q', task: '3' }, 'actions[0].task: expected a whole number >= 1, got "3"'],
  ])('%s', (_name, action, message) => {
    expectMessage(() => parseScenario(file([action])), message);
  });

  it('with one node, says 1 rather than 1..1', () => {
    expect(() => parseScenario(file([{ atMs: 0, do: 'crash', node: 2 }], { nodes: 1 }))).toThrow(
      'actions[0].node: expected 1 or "leader", got 2',
    );
  });

  it('names the index of the failing action', () => {
    const actions = [...ONE_OF_EACH.slice(0, 3), { atMs: 1000, do: 'crash', node: 7 }];
    expect(() => parseScenario(file(actions))).toThrow('actions[3].node: expected 1..5 or "leader", got 7');
  });

  it('rejects unknown fields in an action, listing that action’s fields', () => {
    expect(() =>
      parseScenario(file([{ atMs: 0, do: 'heal' }, { atMs: 0, do: 'heal' }, { atMs: 10, do: 'crash', nod: 3 }])),
    ).toThrow('actions[2].nod: unknown field (expected one of atMs, do, node)');
    expect(() => parseScenario(file([{ atMs: 0, do: 'heal', node: 1 }]))).toThrow(
      'actions[0].node: unknown field (expected one of atMs, do)',
    );
    expect(() => parseScenario(file([{ atMs: 0, do: 'put', key: 'k', value: 'v', to: 2 }]))).toThrow(
      'actions[0].to: unknown field (expected one of atMs, do, key, node, session, value)',
    );
  });

  it('says which action is out of time order', () => {
    const actions = [
      { atMs: 1000, do: 'crash', node: 'leader' },
      { atMs: 1200, do: 'heal' },
      { atMs: 2500, do: 'heal' },
      { atMs: 1000, do: 'restart', node: 1 },
    ];
    expect(() => parseScenario(file(actions))).toThrow(
      'actions[3].atMs: expected 2500 or later (actions are sorted by atMs, and actions[2] is at 2500), got 1000',
    );
  });

  it('checks an enqueue payload is JSON, naming where inside it', () => {
    expect(() => parseScenario(file([{ atMs: 0, do: 'enqueue', queue: 'q', payload: { a: [1, Number.NaN] } }]))).toThrow(
      'actions[0].payload.a[1]: expected a JSON value (null, true, false, a number, a string, an array or an object), got NaN',
    );
    expect(() => parseScenario(file([{ atMs: 0, do: 'enqueue', queue: 'q', payload: new Date(0) }]))).toThrow(
      'actions[0].payload: expected a JSON value',
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => parseScenario(file([{ atMs: 0, do: 'enqueue', queue: 'q', payload: cyclic }]))).toThrow(
      'actions[0].payload.self: expected a JSON value (null, true, false, a number, a string, an array or an object), got a reference to itself',
    );
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(() => parseScenario(file([{ atMs: 0, do: 'enqueue', queue: 'q', payload: deep }]))).toThrow(
      'expected at most 64 levels of nested arrays and objects',
    );
  });

  it('accepts null and a shared (not cyclic) object as payloads', () => {
    const shared = { x: 1 };
    const actions = [
      { atMs: 0, do: 'enqueue', queue: 'q', payload: null },
      { atMs: 0, do: 'enqueue', queue: 'q', payload: [shared, shared] },
    ];
    expect(parseScenario(file(actions)).actions).toEqual(actions);
  });

  it('abbreviates a long value after "got"', () => {
    const err = errorOf(() => parseScenario(file([{ atMs: 0, do: 'crash', node: { why: 'x'.repeat(200) } }])));
    expect(err.message).toMatch(/^actions\[0\]\.node: expected 1\.\.5 or "leader", got \{"why":"x+\.\.\.$/);
    expect(err.message.length).toBeLessThan(140);
  });
});

describe('set actions', () => {
  it.each<[string, unknown, string]>([
    [
      'unknown key',
      { key: 'speed', value: 1 },
      'actions[0].key: expected one of electionTimeoutMs, heartbeatMs, latencyMs, diskLatencyMs, subMillisecond, lossRatio, duplicateRatio, preVote, ' +
        'checkQuorum, snapshotEveryEntries, snapshotChunkBytes, entriesPerMessageMax, inflightMessagesMax, readMode, clockDriftBound, unsafeSkipVoteRestriction, unsafeCommitPreviousTerms, ' +
        'unsafeForgetVoteOnRestart, got "speed"',
    ],
    ['lossRatio out of range', { key: 'lossRatio', value: 2 }, 'actions[0].value: expected a number from 0 to 1, got 2'],
    ['entriesPerMessageMax of zero', { key: 'entriesPerMessageMax', value: 0 }, 'actions[0].value: expected a whole number from 1 to 1024, got 0'],
    ['an unknown read mode', { key: 'readMode', value: 'fast' }, 'actions[0].value: expected one of log, read-index, lease, got "fast"'],
    ['missing value', { key: 'preVote' }, 'actions[0].value: expected true or false, got nothing'],
    [
      'latency of one number',
      { key: 'latencyMs', value: 10 },
      'actions[0].value: expected [min, max], two whole numbers with 0 <= min <= max <= 60000, got 10',
    ],
    [
      'heartbeat at the election minimum',
      { key: 'heartbeatMs', value: 150 },
      'actions[0].value: expected less than the election timeout minimum 150, got 150',
    ],
    [
      'election minimum at the heartbeat',
      { key: 'electionTimeoutMs', value: [50, 100] },
      'actions[0].value: expected a minimum greater than the heartbeat 50 (the config at this point), got [50,100]',
    ],
  ])('%s', (_name, fields, message) => {
    expectMessage(() => parseScenario(file([{ atMs: 0, do: 'set', ...(fields as object) }])), message);
  });

  it('checks combinations against the config as it stands at that action', () => {
    // Lowering the heartbeat first makes a lower election minimum valid.
    const ok = [
      { atMs: 0, do: 'set', key: 'heartbeatMs', value: 10 },
      { atMs: 1, do: 'set', key: 'electionTimeoutMs', value: [20, 40] },
    ];
    expect(parseScenario(file(ok)).actions).toEqual(ok);
    // ...but not the other way round.
    expect(() => parseScenario(file([ok[1], { ...ok[0], atMs: 2 }]))).toThrow(
      'actions[0].value: expected a minimum greater than the heartbeat 50 (the config at this point), got [20,40]',
    );
    // The starting point is the file's config, not the defaults.
    expect(() =>
      parseScenario(file([{ atMs: 0, do: 'set', key: 'heartbeatMs', value: 90 }], { config: { electionTimeoutMs: [80, 160], heartbeatMs: 20 } })),
    ).toThrow('actions[0].value: expected less than the election timeout minimum 80, got 90');
  });

  it('does not change the scenario config (set takes effect during the run)', () => {
    const scenario = parseScenario(file([{ atMs: 0, do: 'set', key: 'lossRatio', value: 0.3 }]));
    expect(scenario.config.lossRatio).toBe(0);
  });
});

describe('parseScenarioText: JSON syntax', () => {
  it('turns a JSON syntax error into a ScenarioError at (file)', () => {
    const err = errorOf(() => parseScenarioText('{ "version": 1, }'));
    expect(err.path).toBe('(file)');
    expect(err.message).toMatch(/^\(file\): not valid JSON: \S/);
    expect(err.detail).toContain('not valid JSON: ');
  });

  it('reports an empty file', () => {
    expect(() => parseScenarioText('')).toThrow(/^\(file\): not valid JSON: Unexpected end of JSON input$/);
  });

  it('reports a truncated file', () => {
    expect(() => parseScenarioText(SPEC_EXAMPLE.slice(0, 100))).toThrow(/^\(file\): not valid JSON: /);
  });
});

describe('formatScenario', () => {
  it("writes SPEC §3's example in the same layout, with the full config", () => {
    expect(formatScenario(parseScenarioText(SPEC_EXAMPLE))).toBe(`{
  "version": 1,
  "seed": 42,
  "nodes": 5,
  "config": {
    "electionTimeoutMs": [150, 300],
    "heartbeatMs": 50,
    "latencyMs": [10, 15],
    "diskLatencyMs": [0, 0],
    "subMillisecond": false,
    "lossRatio": 0,
    "duplicateRatio": 0,
    "preVote": false,
    "checkQuorum": false,
    "snapshotEveryEntries": 0,
    "snapshotChunkBytes": 1024,
    "entriesPerMessageMax": 64,
    "inflightMessagesMax": 8,
    "readMode": "read-index",
    "clockDriftBound": 0.1,
    "unsafeSkipVoteRestriction": false,
    "unsafeCommitPreviousTerms": false,
    "unsafeForgetVoteOnRestart": false
  },
  "actions": [
    { "atMs": 1000, "do": "crash", "node": "leader" },
    { "atMs": 1200, "do": "partition", "groups": [[1, 2], [3, 4, 5]] },
    { "atMs": 1300, "do": "put", "key": "x", "value": "1", "node": 3 },
    { "atMs": 2500, "do": "heal" },
    { "atMs": 2600, "do": "restart", "node": 1 }
  ],
  "runUntilMs": 5000
}
`);
  });

  it('round-trips through parseScenarioText, and formatting is stable', () => {
    const scenarios: Scenario[] = [
      parseScenarioText(SPEC_EXAMPLE),
      parseScenario(file(ONE_OF_EACH, { description: 'every action, "quoted" and ünïcode ✓' })),
      parseScenario(file([], { config: { preVote: true, lossRatio: 0.25 } })),
      parseScenario(
        file([{ atMs: 0, do: 'enqueue', queue: 'q', payload: { '': [], 'a b': {}, __proto__x: [{ deep: [null] }] } }]),
      ),
    ];
    for (const scenario of scenarios) {
      const text = formatScenario(scenario);
      const again = parseScenarioText(text);
      expect(again).toEqual(scenario);
      expect(formatScenario(again)).toBe(text);
      expect(JSON.parse(text)).toEqual(scenario);
    }
  });

  it('writes fields in one fixed order whatever the input order', () => {
    const a = parseScenario({ runUntilMs: 10, nodes: 3, seed: 1, version: 1, actions: [{ node: 1, do: 'crash', atMs: 0 }] });
    const b = parseScenario({ version: 1, seed: 1, nodes: 3, actions: [{ atMs: 0, do: 'crash', node: 1 }], runUntilMs: 10 });
    expect(formatScenario(a)).toBe(formatScenario(b));
    expect(formatScenario(a)).toContain('{ "atMs": 0, "do": "crash", "node": 1 }');
  });

  it('writes an empty action list on one line', () => {
    expect(formatScenario(parseScenario(file()))).toContain('  "actions": [],\n');
  });

  it('refuses to write an invalid scenario', () => {
    const bad = { ...parseScenario(file()), nodes: 12 };
    expect(() => formatScenario(bad)).toThrow('nodes: expected a whole number from 1 to 9, got 12');
  });
});

describe('a write with a client session (thesis §6.3)', () => {
  const base = { version: 1, seed: 1, nodes: 3, runUntilMs: 2000 };

  it('reads and writes back the session, and a retry with it is applied once', () => {
    const enqueue = { do: 'enqueue', queue: 'jobs', payload: 'p', session: { client: 'c1', sequence: 1 } };
    const scenario = parseScenario({ ...base, actions: [{ atMs: 1000, ...enqueue }, { atMs: 1500, ...enqueue }] });
    expect(scenario.actions[0]).toEqual({ atMs: 1000, ...enqueue });
    expect(parseScenarioText(formatScenario(scenario))).toEqual(scenario);
    const once = createScenarioSimulation(scenario);
    once.runUntil(2000);
    const twice = createScenarioSimulation({ ...scenario, actions: scenario.actions.map((action) => ({ ...action, session: undefined })) as typeof scenario.actions });
    twice.runUntil(2000);
    const tasks = (sim: typeof once) => sim.node(sim.leader()!).machine.queues()[0]!;
    expect(tasks(once).pending).toBe(1);
    expect(tasks(twice).pending).toBe(2);
  });

  it('names a malformed session', () => {
    expect(() => parseScenario({ ...base, actions: [{ atMs: 1, do: 'put', key: 'x', value: '1', session: { client: 'c1', sequence: 0 } }] })).toThrow(
      'actions[0].session.sequence: expected a whole number from 1 to',
    );
    expect(() => parseScenario({ ...base, actions: [{ atMs: 1, do: 'heal', session: { client: 'c1', sequence: 1 } }] })).toThrow('actions[0].session: unknown field');
  });
});
