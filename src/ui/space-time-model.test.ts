// The space-time diagram's layout on a real run (a leader crashes, a new one is elected, the old one restarts
// and catches up): a lane per node, one arrow per message in the window, ending on the receiver's lane (or
// where it was lost), heartbeats folded into one tick per round, marks for the election and the crash, and a
// pointer on an arrow finds that message. The SVG export draws the same scene.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { Timeline } from '../sim/timeline.ts';
import { createScenarioSimulation } from '../sim/run-scenario.ts';
import { parseScenarioText } from '../sim/scenario.ts';
import type { TraceEvent } from '../sim/trace.ts';
import { hitTest, layoutSpaceTime, type SpaceTimeWindow } from './space-time-model.ts';
import { paintScene, svgPen, type Palette } from './space-time-paint.ts';

const scenario = parseScenarioText(readFileSync('scenarios/leader-crash.json', 'utf8'));
const timeline = new Timeline([1, 2, 3, 4, 5]);
const trace: TraceEvent[] = [];
const sim = createScenarioSimulation({ ...scenario, config: { ...scenario.config, lossRatio: 0.05, duplicateRatio: 0.05 } }, {
  onTrace: (event) => {
    trace.push(event);
    timeline.record(event);
  },
});
sim.runUntil(scenario.runUntilMs);

const whole: SpaceTimeWindow = { startMs: 0, endMs: 3000, cursorMs: 3000, width: 1200, height: 400, foldHeartbeats: false };
const sends = trace.filter((e): e is Extract<TraceEvent, { type: 'send' }> => e.type === 'send');

describe('the space-time diagram of a run', () => {
  test('a lane per node, and an arrow per message, each from its sender\'s lane to its receiver\'s', () => {
    const scene = layoutSpaceTime(timeline, whole);
    expect(scene.lanes.map((lane) => lane.node)).toEqual([1, 2, 3, 4, 5]);
    expect(scene.arrows.map((a) => a.id).sort((a, b) => a - b)).toEqual(sends.map((s) => s.id));
    const laneOf = new Map(scene.lanes.map((lane) => [lane.node, lane.y]));
    const delivered = new Map(trace.filter((e) => e.type === 'deliver').map((e) => [(e as { id: number }).id, e.t]));
    const lost = new Set(trace.filter((e) => e.type === 'drop').map((e) => (e as { id: number }).id));
    expect(lost.size).toBeGreaterThan(0);
    expect(sends.some((s) => s.duplicate)).toBe(true);
    for (const arrow of scene.arrows) {
      expect(arrow.y1).toBe(laneOf.get(arrow.from));
      if (delivered.has(arrow.id)) {
        expect(arrow.fate).toBe('delivered');
        expect(arrow.y2).toBeCloseTo(laneOf.get(arrow.to)!, 6);
      } else if (lost.has(arrow.id)) expect(arrow.fate).toBe('lost');
      expect(arrow.duplicate).toBe(sends.find((s) => s.id === arrow.id)!.duplicate === true);
    }
  });

  test('only the window is laid out: the messages sent in it, or on the way when it starts', () => {
    const window = { ...whole, startMs: 1000, endMs: 1500, cursorMs: 1500 };
    const ids = new Set(layoutSpaceTime(timeline, window).arrows.map((a) => a.id));
    const ends = new Map(trace.filter((e) => e.type === 'deliver' || e.type === 'drop').map((e) => [(e as { id: number }).id, e.t]));
    for (const send of sends) {
      const inWindow = send.t <= 1500 && (ends.get(send.id) ?? send.deliverAt) >= 1000;
      expect(ids.has(send.id)).toBe(inWindow);
    }
  });

  test('folded heartbeats: no heartbeat arrows, one tick per round on the leader\'s lane', () => {
    const scene = layoutSpaceTime(timeline, { ...whole, foldHeartbeats: true });
    expect(scene.arrows.some((a) => a.family === 'heartbeat')).toBe(false);
    const rounds = new Set(sends.filter((s) => s.message.type === 'Heartbeat').map((s) => `${s.message.from}@${s.t}`));
    expect(scene.marks.filter((m) => m.kind === 'heartbeats')).toHaveLength(rounds.size);
  });

  test('marks the elections, the crash and the restart, with words where there is room', () => {
    const scene = layoutSpaceTime(timeline, whole);
    const kinds = (node: number) => scene.marks.filter((m) => m.node === node && m.kind !== 'commit').map((m) => m.kind);
    expect(kinds(3)).toEqual(expect.arrayContaining(['candidate', 'leader', 'crash', 'restart']));
    expect(scene.marks.find((m) => m.node === 3 && m.kind === 'leader')!.label).toMatch(/^leader T\d+$/);
    expect(scene.marks.filter((m) => m.kind === 'commit').length).toBeGreaterThan(0);
  });

  test('what comes after the cursor is marked future; a message on the way at the cursor ends where it is', () => {
    const scene = layoutSpaceTime(timeline, { ...whole, cursorMs: 1200 });
    for (const arrow of scene.arrows) expect(arrow.future).toBe(arrow.sentAt > 1200);
    const onTheWay = scene.arrows.filter((a) => a.fate === 'in-flight');
    for (const arrow of onTheWay) expect(arrow.x2).toBeCloseTo(scene.cursorX, 6);
  });

  test('the pointer on an arrow finds its message', () => {
    const scene = layoutSpaceTime(timeline, { ...whole, startMs: 1000, endMs: 1300, cursorMs: 1300 });
    const arrow = scene.arrows.find((a) => a.fate === 'delivered' && Math.abs(a.y2 - a.y1) > 100)!;
    const hit = hitTest(scene, (arrow.x1 + arrow.x2) / 2, (arrow.y1 + arrow.y2) / 2);
    expect(hit).toMatchObject({ kind: 'message', t: arrow.sentAt });
    expect(hitTest(scene, 2, 2)).toBeNull();
  });

  test('forgetting the run before a moment leaves every later window as it was', () => {
    const copy = new Timeline([1, 2, 3, 4, 5]);
    for (const event of trace) copy.record(event);
    const later = { ...whole, startMs: 1500, endMs: 3000 };
    const before = layoutSpaceTime(copy, later);
    copy.forgetBefore(1500);
    expect(copy.messages.length).toBeLessThan(timeline.messages.length);
    const after = layoutSpaceTime(copy, later);
    expect(after.arrows).toEqual(before.arrows);
    expect(after.bands).toEqual(before.bands);
    expect(after.marks).toEqual(before.marks);
  });

  test('the SVG export draws a line or two for every arrow', () => {
    const scene = layoutSpaceTime(timeline, { ...whole, startMs: 2000, endMs: 2400, cursorMs: 2400 });
    const palette: Palette = {
      background: '#fff', text: '#111', muted: '#666', grid: '#ddd', terms: ['#cc79a7', '#0072b2'], cursor: '#0072b2', font: 'sans-serif', small: 14, large: 17,
      families: { vote: '#d55e00', append: '#111', heartbeat: '#888', snapshot: '#009e73', other: '#cc79a7' },
    };
    const pen = svgPen(scene.window.width, scene.window.height, palette.font);
    paintScene(pen, scene, palette);
    const svg = pen.svg();
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect((svg.match(/<line /g) ?? []).length).toBeGreaterThan(scene.arrows.length);
    expect(svg).toContain('>S5</text>');
  });
});
