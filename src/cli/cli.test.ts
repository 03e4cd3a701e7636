// The `raft-playground` bin as a user runs it: a real process, real files, exit codes and output (SPEC §2).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { fuzzRun } from '../sim/fuzz.ts';
import { runScenario } from '../sim/run-scenario.ts';
import { parseScenarioText } from '../sim/scenario.ts';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'raft-playground.mjs');
const scenarioPath = join(root, 'scenarios', 'first-election.json');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('raft-playground', () => {
  test('--help lists the commands and exits 0', async () => {
    const { code, stdout } = await cli('--help');
    expect(code).toBe(0);
    for (const command of ['sim', 'fuzz', 'bench']) expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  test('an unknown command or flag is bad usage: exit 2 with one sentence and the usage', async () => {
    const unknown = await cli('explode');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'explode'");
    const badFlag = await cli('fuzz', '--seeds', 'many');
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("--seeds expects a whole number, got 'many'");
    expect(badFlag.stderr).toContain('Usage: raft-playground');
  });

  test('sim --json prints the result object of SPEC §4, identical to an in-process run', async () => {
    const { code, stdout } = await cli('sim', '--scenario', scenarioPath, '--json');
    expect(code).toBe(0);
    const printed = JSON.parse(stdout);
    const expected = runScenario(parseScenarioText(readFileSync(scenarioPath, 'utf8')));
    expect(printed).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(Object.keys(printed)).toEqual(['seed', 'endMs', 'traceHash', 'events', 'violations', 'leader', 'configuration', 'nodes']);
    expect(printed.configuration).toEqual({ voters: [1, 2, 3, 4, 5].slice(0, printed.nodes.length), learners: [] });
    expect(Object.keys(printed.nodes[0])).toEqual([
      'id', 'status', 'role', 'membership', 'term', 'votedFor', 'commitIndex', 'lastApplied', 'lastLogIndex', 'snapshotIndex', 'machineHash',
    ]);
  });

  test('sim --trace writes every event as one JSON object a line, with t, node and type', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'raft-trace-')), 'trace.ndjson');
    const { code, stdout } = await cli('sim', '--scenario', scenarioPath, '--trace', out, '--json');
    expect(code).toBe(0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(JSON.parse(stdout).events);
    for (const line of lines) {
      const event = JSON.parse(line);
      expect(typeof event.t).toBe('number');
      expect(typeof event.node).toBe('number');
      expect(typeof event.type).toBe('string');
    }
    expect(lines.some((line) => line.includes('"type":"vote"') && line.includes('"reason":"granted"'))).toBe(true);
  });

  test('a malformed scenario file is reported in one sentence naming the JSON path, exit 1', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'raft-scenario-')), 'bad.json');
    writeFileSync(file, JSON.stringify({ version: 1, seed: 1, nodes: 5, actions: [{ atMs: 1, do: 'crash', node: 7 }], runUntilMs: 100 }));
    const { code, stderr } = await cli('sim', '--scenario', file);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(`raft-playground sim: ${file}: actions[0].node: expected 1..5 or "leader", got 7`);
  });

  test('fuzz exits 0 when every seed passes and says how many ran', async () => {
    const { code, stdout } = await cli('fuzz', '--seeds', '5', '--first', '100');
    expect(code).toBe(0);
    expect(stdout).toContain('5 seed(s) from 100: 5 passed, 0 failed');
  });

  test('a failing fuzz seed prints the seed, the invariant, the last events and the command that replays it', async () => {
    // With the vote restriction off, the checker soon catches a leader missing a committed entry.
    const seed = [...Array(50).keys()]
      .map((i) => i + 1)
      .find((s) => fuzzRun(s, { adjust: (x) => ({ ...x, config: { ...x.config, unsafeSkipVoteRestriction: true } }) }).violation?.invariant === 'LeaderCompleteness')!;
    expect(seed).toBeDefined();
    const { code, stdout } = await cli('fuzz', '--seeds', '1', '--first', String(seed), '--unsafe', 'skip-vote-restriction');
    expect(code).toBe(1);
    expect(stdout).toMatch(new RegExp(`^FAIL seed=${seed} invariant=LeaderCompleteness at t=[\\d.]+ms: `, 'm'));
    expect(stdout).toContain('last events:');
    expect(stdout).toContain(`replay: npx raft-playground fuzz --seeds 1 --first ${seed} --unsafe skip-vote-restriction`);
    const replay = await cli('fuzz', '--seeds', '1', '--first', String(seed), '--unsafe', 'skip-vote-restriction');
    expect(replay.stdout).toBe(stdout.replace(/checked in [\d.]+ s/, replay.stdout.match(/checked in [\d.]+ s/)![0]));
  });

  test('lesson --check proves every shipped lesson (SPEC §8)', async () => {
    const files = readdirSync(join(root, 'lessons')).filter((name) => name.endsWith('.json')).map((name) => join('lessons', name));
    expect(files.length).toBeGreaterThanOrEqual(14);
    const { code, stdout, stderr } = await cli('lesson', '--check', ...files);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`${files.length} of ${files.length} lessons hold.`);
  });

  test('lesson --check fails a copy with a broken claim, naming the file, the step and what did not hold', async () => {
    const lesson = JSON.parse(readFileSync(join(root, 'lessons', '02-election.json'), 'utf8'));
    lesson.lesson.steps[1].check = { nodes: { '3': { role: 'leader' } } }; // S3 is a candidate there
    const dir = mkdtempSync(join(tmpdir(), 'raft-lesson-'));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify(lesson));
    const { code, stderr } = await cli('lesson', '--check', broken);
    expect(code).toBe(1);
    expect(stderr).toContain(`${broken}: step 2 (`);
    expect(stderr).toContain("its check does not hold: S3 is candidate, not leader");

    lesson.lesson.steps[2].choices[1].check = { leader: 3 }; // now both choices hold
    lesson.lesson.steps[1].check = { nodes: { '3': { role: 'candidate' } } };
    writeFileSync(broken, JSON.stringify(lesson));
    const twoAnswers = await cli('lesson', '--check', broken);
    expect(twoAnswers.code).toBe(1);
    expect(twoAnswers.stderr).toContain('step 3 (');
    expect(twoAnswers.stderr).toContain('exactly one choice must hold when it ends, but 2 of its choices hold');
  });

  test('lesson without --check, or with a malformed file, is refused in one sentence', async () => {
    const usage = await cli('lesson', 'lessons/02-election.json');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("Expected --check first, got 'lessons/02-election.json'.");
    const dir = mkdtempSync(join(tmpdir(), 'raft-lesson-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...JSON.parse(readFileSync(join(root, 'lessons', '02-election.json'), 'utf8')), lesson: { id: 'Bad Id' } }));
    const malformed = await cli('lesson', '--check', bad);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr.trim()).toBe(`${bad}: lesson.id: expected lower-case letters, digits and dashes, at most 48 (such as "election"), got "Bad Id"`);
  });

  test('check-history says whether a client history is linearizable, and names the operations that cannot be ordered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raft-history-'));
    const write = (name: string, operations: unknown[]) => {
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify({ operations }));
      return file;
    };
    const put = (client: string, value: string, callMs: number, returnMs: number | null) => ({ client, op: 'put', key: 'x', value, callMs, returnMs, result: { ok: true } });
    const ok = await cli('check-history', write('ok.json', [put('a', '1', 0, 10), { client: 'b', op: 'get', key: 'x', callMs: 5, returnMs: 20, result: { ok: true, value: '1' } }, put('c', '2', 30, null)]));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('linearizable: 3 operations on 1 key, 2 search steps\n');
    const stale = await cli('check-history', write('stale.json', [put('a', '1', 0, 10), put('a', '2', 20, 30), { client: 'b', op: 'get', key: 'x', callMs: 40, returnMs: 50, result: { ok: true, value: '1' } }]));
    expect(stale.code).toBe(1);
    expect(stale.stdout).toContain('not linearizable: 3 operations on 1 key');
    expect(stale.stdout).toContain('key x: get(x) → 1 returned at 50 ms, but put(x, 2) completed at 30 ms and nothing wrote 1 after it.');
    const malformed = await cli('check-history', write('bad.json', [{ client: 'a', op: 'zap', key: 'x', callMs: 0, returnMs: 1 }]));
    expect(malformed.code).toBe(1);
    expect(malformed.stderr.trim()).toBe(`raft-playground check-history: ${join(dir, 'bad.json')}: operations[0].op: expected one of put, get, delete, cas, got "zap"`);
  });
});
