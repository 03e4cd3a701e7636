// The space-time diagram's model (Lamport's diagram of a run): a lane per node across virtual time, each message
// an arrow from its send to its delivery (or to where it was lost, with a cross), terms as bands in their
// colour, the leader's stretch drawn bold, crashes and restarts, commits, and every change of the network. It
// lays out only the window in view: the timeline's lists are sorted by time, so the window is found by binary
// search and a long run costs no more to draw than a short one. Pure: the canvas and the SVG export draw
// the same scene.
import type { MessageType, NodeId, Role } from '../core/types.ts';
import { lowerBound, type NodePhase, type Timeline, type TimelineMark, type TimelineMessage } from '../sim/timeline.ts';

export type MessageFamily = 'vote' | 'append' | 'heartbeat' | 'snapshot' | 'other';

const FAMILY: Record<MessageType, MessageFamily> = {
  RequestVote: 'vote',
  RequestVoteResponse: 'vote',
  PreVote: 'vote',
  PreVoteResponse: 'vote',
  AppendEntries: 'append',
  AppendEntriesResponse: 'append',
  Heartbeat: 'heartbeat',
  HeartbeatResponse: 'heartbeat',
  InstallSnapshot: 'snapshot',
  InstallSnapshotResponse: 'snapshot',
  ReadIndex: 'other',
  ReadIndexResponse: 'other',
  TimeoutNow: 'other',
};

export const familyOf = (type: MessageType): MessageFamily => FAMILY[type];
export const isResponse = (type: MessageType): boolean => type.endsWith('Response');

export interface SpaceTimeWindow {
  readonly startMs: number;
  readonly endMs: number;
  /** The moment shown (the clock or the scrubber): what comes after it is drawn faded. */
  readonly cursorMs: number;
  readonly width: number;
  readonly height: number;
  /** Draw heartbeats as one tick on the leader's lane per round, their answers not at all. */
  readonly foldHeartbeats: boolean;
}

export interface Lane {
  readonly node: NodeId;
  /** The lane's centre line. */
  readonly y: number;
}

/** A stretch of one node's lane in one state. */
export interface Band {
  readonly node: NodeId;
  readonly x0: number;
  readonly x1: number;
  readonly up: boolean;
  readonly role: Role;
  readonly term: number;
}

export interface Arrow {
  readonly id: number;
  readonly type: MessageType;
  readonly family: MessageFamily;
  readonly response: boolean;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly x1: number;
  readonly y1: number;
  /** Where it ends: at delivery, where it was lost, or (in flight at the cursor) where it is now. */
  readonly x2: number;
  readonly y2: number;
  readonly sentAt: number;
  readonly fate: 'delivered' | 'lost' | 'in-flight';
  readonly duplicate: boolean;
  /** Sent after the cursor (scrubbed into the past): drawn faded. */
  readonly future: boolean;
}

export type MarkKind = 'leader' | 'candidate' | 'crash' | 'restart' | 'commit' | 'snapshot' | 'heartbeats';

export interface Mark {
  readonly kind: MarkKind;
  readonly node: NodeId;
  readonly t: number;
  readonly x: number;
  readonly y: number;
  /** A few words, or '' where there is no room. */
  readonly label: string;
  readonly future: boolean;
}

/** A change of the network, across every lane. */
export interface NetworkLine {
  readonly t: number;
  readonly x: number;
  readonly label: string;
  readonly future: boolean;
}

export interface Tick {
  readonly x: number;
  readonly label: string;
}

export interface SpaceTimeScene {
  readonly window: SpaceTimeWindow;
  /** Where the time axis starts (the lane names sit left of it). */
  readonly plotLeft: number;
  readonly axisHeight: number;
  readonly laneHeight: number;
  readonly lanes: readonly Lane[];
  readonly bands: readonly Band[];
  readonly arrows: readonly Arrow[];
  readonly marks: readonly Mark[];
  readonly network: readonly NetworkLine[];
  readonly ticks: readonly Tick[];
  readonly cursorX: number;
}

export const PLOT_LEFT = 44;
export const AXIS_HEIGHT = 26;
/** Labels closer than this on one lane are left out. */
const LABEL_GAP_PX = 90;
/** Which marks get their words first where two would crowd (0 first). */
const LABEL_RANK: Partial<Record<MarkKind, number>> = { leader: 0, crash: 0, restart: 0, candidate: 1, snapshot: 1 };

export function layoutSpaceTime(timeline: Timeline, window: SpaceTimeWindow): SpaceTimeScene {
  const { startMs, endMs, cursorMs, width, height } = window;
  const nodes = timeline.nodes();
  const laneHeight = (height - AXIS_HEIGHT) / Math.max(1, nodes.length);
  const plotWidth = Math.max(1, width - PLOT_LEFT - 8);
  const span = Math.max(1, endMs - startMs);
  const x = (t: number) => PLOT_LEFT + ((t - startMs) / span) * plotWidth;
  const laneY = new Map<NodeId, number>();
  const lanes = nodes.map((node, i) => {
    const y = AXIS_HEIGHT + laneHeight * (i + 0.5);
    laneY.set(node, y);
    return { node, y };
  });
  const shownEnd = Math.min(endMs, cursorMs);

  // Bands: each node's phases that overlap the window, up to the cursor.
  const bands: Band[] = [];
  for (const node of nodes) {
    const phases = timeline.phases.get(node)!;
    let at = Math.max(0, lowerBound(phases, startMs, (p) => p.t) - 1);
    for (; at < phases.length && phases[at]!.t < shownEnd; at++) {
      const phase: NodePhase = phases[at]!;
      const until = Math.min(phases[at + 1]?.t ?? Infinity, shownEnd);
      if (until <= startMs) continue;
      bands.push({ node, x0: x(Math.max(phase.t, startMs)), x1: x(until), up: phase.up, role: phase.role, term: phase.term });
    }
  }

  // Arrows: messages sent in the window, or sent before it and still on the way when it starts.
  const arrows: Arrow[] = [];
  const marks: Mark[] = [];
  let lastRound: { from: NodeId; t: number } | null = null;
  for (let i = timeline.firstSentFrom(startMs - timeline.longestFlightMs); i < timeline.messages.length; i++) {
    const m: TimelineMessage = timeline.messages[i]!;
    if (m.sentAt > endMs) break;
    const ends = m.endAt ?? m.deliverAt;
    if (ends < startMs) continue;
    const y1 = laneY.get(m.from);
    const y2 = laneY.get(m.to);
    if (y1 === undefined || y2 === undefined) continue;
    const family = familyOf(m.type);
    if (window.foldHeartbeats && family === 'heartbeat') {
      if (m.type === 'Heartbeat' && m.sentAt >= startMs && !(lastRound && lastRound.from === m.from && lastRound.t === m.sentAt)) {
        lastRound = { from: m.from, t: m.sentAt };
        marks.push({ kind: 'heartbeats', node: m.from, t: m.sentAt, x: x(m.sentAt), y: y1, label: '', future: m.sentAt > cursorMs });
      }
      continue;
    }
    const future = m.sentAt > cursorMs;
    const arrived = m.endAt !== undefined && m.endAt <= cursorMs;
    const fate = future || arrived ? (m.lost ? 'lost' : 'delivered') : 'in-flight';
    // Where it is: at the end it came to, or (on the way at the cursor) along its path to its delivery.
    const endT = fate === 'in-flight' ? cursorMs : ends;
    const progress = m.deliverAt > m.sentAt ? Math.min(1, (endT - m.sentAt) / (m.deliverAt - m.sentAt)) : 1;
    arrows.push({
      id: m.id,
      type: m.type,
      family,
      response: isResponse(m.type),
      from: m.from,
      to: m.to,
      x1: x(m.sentAt),
      y1,
      x2: x(m.sentAt + (m.deliverAt - m.sentAt) * progress),
      y2: y1 + (y2 - y1) * progress,
      sentAt: m.sentAt,
      fate,
      duplicate: m.duplicate,
      future,
    });
  }

  for (const node of nodes) {
    const y = laneY.get(node)!;
    const list = timeline.marks.get(node)!;
    const lane: (Omit<Mark, 'label'> & { words: string })[] = [];
    for (let i = lowerBound(list, startMs, (m) => m.t); i < list.length && list[i]!.t <= endMs; i++) {
      const mark = markOf(list[i]!);
      if (mark) lane.push({ kind: mark.kind, node, t: mark.t, x: x(mark.t), y, words: mark.label, future: mark.t > cursorMs });
    }
    // Words where there is room, the more telling first: a candidate that won at once is labelled a leader.
    const labelled: number[] = [];
    const room = (at: number) => labelled.every((other) => Math.abs(other - at) >= LABEL_GAP_PX);
    const words = new Map<(typeof lane)[number], string>();
    for (const rank of [0, 1]) {
      for (const mark of lane) {
        if (mark.words === '' || (LABEL_RANK[mark.kind] ?? 1) !== rank || !room(mark.x)) continue;
        labelled.push(mark.x);
        words.set(mark, mark.words);
      }
    }
    for (const mark of lane) {
      const { words: _, ...drawn } = mark;
      marks.push({ ...drawn, label: words.get(mark) ?? '' });
    }
  }

  const network: NetworkLine[] = [];
  for (let i = lowerBound(timeline.network, startMs, (c) => c.t); i < timeline.network.length && timeline.network[i]!.t <= endMs; i++) {
    const change = timeline.network[i]!;
    const cut = change.cuts.length;
    network.push({ t: change.t, x: x(change.t), label: cut === 0 ? 'healed' : `${cut} link${cut === 1 ? '' : 's'} cut`, future: change.t > cursorMs });
  }

  return {
    window,
    plotLeft: PLOT_LEFT,
    axisHeight: AXIS_HEIGHT,
    laneHeight,
    lanes,
    bands,
    arrows,
    marks,
    network,
    ticks: ticksFor(startMs, endMs).map((t) => ({ x: x(t), label: `${(t / 1000).toFixed(t % 1000 === 0 ? 0 : t % 100 === 0 ? 1 : 2)} s` })),
    cursorX: x(cursorMs),
  };
}

function markOf(mark: TimelineMark): { kind: MarkKind; node: NodeId; t: number; label: string } | null {
  switch (mark.kind) {
    case 'role':
      if (mark.role === 'leader') return { kind: 'leader', node: mark.node, t: mark.t, label: `leader T${mark.term}` };
      if (mark.role === 'candidate') return { kind: 'candidate', node: mark.node, t: mark.t, label: `candidate T${mark.term}` };
      return null;
    case 'crash':
      return { kind: 'crash', node: mark.node, t: mark.t, label: 'crash' };
    case 'restart':
      return { kind: 'restart', node: mark.node, t: mark.t, label: 'restart' };
    case 'commit':
      return { kind: 'commit', node: mark.node, t: mark.t, label: '' };
    case 'snapshot':
      return { kind: 'snapshot', node: mark.node, t: mark.t, label: mark.phase === 'taken' ? `snapshot ${mark.index}` : `installed ${mark.index}` };
  }
}

/** Round times for the axis: about eight across the window. */
function ticksFor(startMs: number, endMs: number): number[] {
  const span = endMs - startMs;
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 60_000];
  const step = steps.find((s) => span / s <= 8) ?? 60_000;
  const ticks: number[] = [];
  for (let t = Math.ceil(startMs / step) * step; t <= endMs; t += step) if (t >= 0) ticks.push(t);
  return ticks;
}

export type SpaceTimeHit = { readonly kind: 'message'; readonly id: number; readonly t: number } | { readonly kind: 'mark'; readonly node: NodeId; readonly t: number };

/** What is under the pointer: the nearest arrow or mark within a few pixels, marks first. */
export function hitTest(scene: SpaceTimeScene, px: number, py: number, reach = 7): SpaceTimeHit | null {
  if (px < scene.plotLeft) return null; // the lane names
  let best: { distance: number; hit: SpaceTimeHit } | null = null;
  for (const mark of scene.marks) {
    const distance = Math.hypot(mark.x - px, mark.y - py);
    if (distance <= reach + 2 && (!best || distance < best.distance)) best = { distance, hit: { kind: 'mark', node: mark.node, t: mark.t } };
  }
  if (best) return best.hit;
  for (const arrow of scene.arrows) {
    const distance = distanceToSegment(px, py, arrow.x1, arrow.y1, arrow.x2, arrow.y2);
    if (distance <= reach && (!best || distance < best.distance)) best = { distance, hit: { kind: 'message', id: arrow.id, t: arrow.sentAt } };
  }
  return best?.hit ?? null;
}

function distanceToSegment(px: number, py: number, x1: number, y1: number, x2: number, y2: number): number {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const length = dx * dx + dy * dy;
  const along = length === 0 ? 0 : Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / length));
  return Math.hypot(px - (x1 + along * dx), py - (y1 + along * dy));
}
