// The client history of real runs: a lease read with clocks beyond the drift bound reads a value already
// overwritten, and the checker names exactly those operations; a run without it is linearizable, each
// operation's point inside its interval in the checker's order; the export is what check-history reads.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { readHistory } from '../cli/check-history-command.ts';
import { checkKvHistory } from '../check/kv-linearizability.ts';
import { historyFile, kvHistory, Timeline } from '../sim/timeline.ts';
import { createScenarioSimulation } from '../sim/run-scenario.ts';
import { parseScenarioText, type Scenario } from '../sim/scenario.ts';
import { historyPicture } from './client-history-model.ts';

function timelineOf(scenario: Scenario): Timeline {
  const timeline = new Timeline(Array.from({ length: scenario.nodes }, (_, i) => i + 1));
  const sim = createScenarioSimulation(scenario, { onTrace: (event) => timeline.record(event) });
  sim.runUntil(scenario.runUntilMs);
  return timeline;
}

const leaseRead = parseScenarioText(readFileSync('scenarios/lease-read-clock-drift.json', 'utf8'));

describe('the client history of a run', () => {
  test('a stale lease read: not linearizable, naming the overwriting write and the stale read', () => {
    const history = kvHistory(timelineOf(leaseRead).calls);
    expect(history.map((h) => h.operation.op)).toEqual(['put', 'put', 'get', 'get', 'get', 'get', 'get']);
    const picture = historyPicture(history, leaseRead.runUntilMs);
    expect(picture.result.verdict).toBe('not-linearizable');
    expect(picture.verdict).toMatch(/^Not linearizable: get\(x\) → old returned at 500 ms, but put\(x, new\) completed at \d+ ms and nothing wrote old after it\.$/);
    const offending = picture.bars.filter((bar) => bar.offending).map((bar) => bar.label);
    expect(offending.some((label) => /^put\(x, new\) → ok via S[2-5]$/.test(label))).toBe(true);
    expect(offending).toContain('get(x) → old via S1');
    expect(picture.bars.filter((bar) => bar.culprit)).toHaveLength(1);
  });

  test('a safe run is linearizable, and each point lies inside its interval in the checker\'s order', () => {
    const safe: Scenario = { ...leaseRead, config: { ...leaseRead.config, readMode: 'read-index' } };
    const picture = historyPicture(kvHistory(timelineOf(safe).calls), safe.runUntilMs);
    expect(picture.result.verdict).toBe('linearizable');
    expect(picture.verdict).toMatch(/^Linearizable/);
    const placed = picture.bars.filter((bar) => bar.pointMs !== undefined);
    expect(placed.length).toBeGreaterThan(0);
    for (const bar of placed) {
      expect(bar.pointMs!).toBeGreaterThanOrEqual(bar.operation.operation.callMs);
      expect(bar.pointMs!).toBeLessThanOrEqual(bar.operation.operation.returnMs);
    }
  });

  test('requests of one client whose intervals or labels would overlap stack in rows; the export reads back the same history', () => {
    const history = kvHistory(timelineOf(leaseRead).calls);
    const picture = historyPicture(history, leaseRead.runUntilMs, { plotPx: 600, charPx: 8 });
    const msPerPx = (picture.endMs - picture.startMs) / 600;
    // Where each bar and its label reach, along the time axis.
    const extent = (bar: (typeof picture.bars)[number]) => {
      const op = bar.operation.operation;
      const labelMs = (bar.label.length + 2) * 8 * msPerPx;
      return bar.labelLeft ? [op.callMs - labelMs, op.returnMs] : [op.callMs, Math.max(op.returnMs, op.callMs + labelMs)];
    };
    for (const a of picture.bars) {
      for (const b of picture.bars) {
        if (a === b || a.lane !== b.lane || a.row !== b.row) continue;
        const [first, second] = extent(a)[0]! <= extent(b)[0]! ? [a, b] : [b, a];
        expect(extent(first)[1]).toBeLessThan(extent(second)[0]!);
      }
    }
    expect(picture.bars.some((bar) => bar.labelLeft)).toBe(true);
    const read = readHistory(historyFile(history));
    expect(read).toEqual(history.map((h) => h.operation));
    expect(checkKvHistory(read).verdict).toBe('not-linearizable');
  });
});
