// The numbers behind the cluster ring: where each node sits, where a message is along its link, which glyph a
// message gets, what a click on a link does next, and which partition a dragged node's drop makes. Pure
// functions of their arguments (D3 scales and arcs, no DOM), so that they are tested without a browser.
import { arc, scaleLinear } from 'd3';
import type { Message, NodeId, Role } from '../core/types.ts';
import type { Action, LiveLink, LiveNode } from '../playground/live-cluster.ts';

/** The ring's drawing area, in SVG user units (about 1:1 with CSS pixels in the page's 560 px column). */
export const RING_WIDTH = 560;
export const RING_HEIGHT = 540;
const RING_RADIUS = 186;
/** The ring sits a little above the middle: a crown needs less room above a node than a vote tally below. */
const CENTER_Y = 268;
const NODE_RADIUS_MAX = 44;
/** A lost message fades out over this much virtual time (the live view keeps it about as long). */
export const DROPPED_FADE_MS = 40;
/** Requests and their responses travel on opposite sides of a link, this far from its centre line. */
const MESSAGE_SIDE_OFFSET = 7;
/** A drop this close to the centre of the ring cancels the drag. */
export const CANCEL_RADIUS = 72;

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface RingLayout {
  readonly center: Point;
  readonly radius: number;
  readonly nodeRadius: number;
  readonly places: ReadonlyMap<NodeId, Point>;
}

/** The Okabe–Ito palette: safe for the common kinds of colour blindness. */
export const PALETTE = {
  blue: '#0072B2',
  orange: '#E69F00',
  yellow: '#F0E442',
  sky: '#56B4E9',
  green: '#009E73',
  purple: '#CC79A7',
  vermillion: '#D55E00',
  grey: '#999999',
  downGrey: '#BBBBBB',
} as const;

export const ROLE_FILL: Record<Role, string> = {
  leader: PALETTE.blue,
  candidate: PALETTE.orange,
  precandidate: PALETTE.yellow,
  follower: PALETTE.sky,
};

/**
 * Nodes evenly round a circle, the first at 12 o'clock, clockwise (the angle convention of d3-shape's arc).
 * A node's radius is at least `minNodeRadius` (so that large type fits in it, legibility.ts) where that
 * leaves room between neighbours.
 */
export function layoutRing(ids: readonly NodeId[], minNodeRadius = 0, width = RING_WIDTH, height = RING_HEIGHT): RingLayout {
  const center = { x: width / 2, y: Math.min(CENTER_Y, height / 2) };
  const count = Math.max(1, ids.length);
  const angle = scaleLinear().domain([0, count]).range([0, 2 * Math.PI]);
  const places = new Map<NodeId, Point>();
  // A cluster of one sits in the middle: there is no ring to go round.
  ids.forEach((id, i) => places.set(id, count === 1 ? center : pointAt(center, RING_RADIUS, angle(i))));
  // Neighbours stay apart: a node is 30% of the distance to the next one, 40% when its type needs the room.
  const neighbourDistance = count === 1 ? Infinity : 2 * RING_RADIUS * Math.sin(Math.PI / count);
  const spaced = Math.min(NODE_RADIUS_MAX, Math.round(neighbourDistance * 0.3));
  const nodeRadius = Math.min(Math.max(spaced, minNodeRadius), Math.round(neighbourDistance * 0.4), NODE_RADIUS_MAX + 6);
  return { center, radius: RING_RADIUS, nodeRadius, places };
}

/** The point at `angle` (radians, 0 at 12 o'clock, clockwise) and `distance` from `center`. */
export function pointAt(center: Point, distance: number, angle: number): Point {
  return { x: center.x + distance * Math.sin(angle), y: center.y - distance * Math.cos(angle) };
}

/** The angle of `point` seen from `center`, in [0, 2π), 0 at 12 o'clock, clockwise. */
export function angleOf(center: Point, point: Point): number {
  const angle = Math.atan2(point.x - center.x, center.y - point.y);
  return angle < 0 ? angle + 2 * Math.PI : angle;
}

// ---- Nodes ----------------------------------------------------------------------------------------------------

/** SPEC §7's accessible name: `S3, leader, term 4`, with `, down` when the node is down. */
export function nodeLabel(node: Pick<LiveNode, 'id' | 'role' | 'term' | 'status'>): string {
  return `S${node.id}, ${node.role}, term ${node.term}${node.status === 'down' ? ', down' : ''}`;
}

/**
 * How much of the election timeout is left, 1 (just reset) to 0 (about to fire), or null when no timer runs
 * (a leader, a down node). The deadline is in the page's clock; the timeout is in the node's own clock, which
 * runs `clockRate` times as fast.
 */
export function timerFraction(deadlineMs: number | null, timeoutMs: number, clockMs: number, clockRate = 1): number | null {
  if (deadlineMs === null || !(timeoutMs > 0) || !(clockRate > 0)) return null;
  return clamp((deadlineMs - clockMs) / (timeoutMs / clockRate), 0, 1);
}

/** The timer ring's path: a d3-shape arc from 12 o'clock, clockwise, as long as the time left. */
export function timerArcPath(fraction: number, innerRadius: number, outerRadius: number): string {
  return arc()({ innerRadius, outerRadius, startAngle: 0, endAngle: 2 * Math.PI * clamp(fraction, 0, 1) }) ?? '';
}

/** `×1.5 clock` for a node whose clock runs at another rate than real time, else null. */
export function formatClockRate(rate: number): string | null {
  if (rate === 1) return null;
  return `×${Number(rate.toFixed(2))} clock`;
}

/** The votes a candidate (or pre-votes a pre-candidate) holds, out of the voters it needs them from. */
export function voteTally(node: Pick<LiveNode, 'role' | 'status' | 'votesGranted' | 'voters'>, clusterSize: number): { granted: number; total: number; label: string } | null {
  if (node.status === 'down' || (node.role !== 'candidate' && node.role !== 'precandidate')) return null;
  const total = node.voters.length > 0 ? node.voters.length : clusterSize;
  const granted = node.votesGranted.length;
  const noun = node.role === 'precandidate' ? 'pre-votes' : 'votes';
  return { granted, total, label: `${granted}/${total} ${noun}` };
}

/** A square turned on its corner, centred on the origin, `radius` from centre to each corner. */
export function diamondPath(radius: number): string {
  return `M0,${-radius}L${radius},0L0,${radius}L${-radius},0Z`;
}

/** A small crown sitting on top of a leader, its base `width` wide at y = 0. */
export function crownPath(width: number): string {
  const w = width / 2;
  const h = width * 0.55;
  return `M${-w},0L${-w},${-h}L${-w / 2},${-h * 0.45}L0,${-h}L${w / 2},${-h * 0.45}L${w},${-h}L${w},0Z`;
}

// ---- Links ----------------------------------------------------------------------------------------------------

/** The segment from `p` to `q`, shortened by `trim` at each end (so it runs rim to rim between two nodes). */
export function trimSegment(p: Point, q: Point, trim: number): { from: Point; to: Point } {
  const length = Math.hypot(q.x - p.x, q.y - p.y);
  if (length <= 2 * trim) {
    const middle = { x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 };
    return { from: middle, to: middle };
  }
  const ux = (q.x - p.x) / length;
  const uy = (q.y - p.y) / length;
  return { from: { x: p.x + ux * trim, y: p.y + uy * trim }, to: { x: q.x - ux * trim, y: q.y - uy * trim } };
}

export interface Direction {
  readonly from: NodeId;
  readonly to: NodeId;
}

/**
 * The direction that still gets through on a one-way link, or null when the link is not one-way or the
 * direction is unknown (`isCut` answers for the network, when it can be asked).
 */
export function workingDirection(link: LiveLink, isCut: ((from: NodeId, to: NodeId) => boolean) | null): Direction | null {
  if (link.state !== 'one-way' || !isCut) return null;
  if (!isCut(link.a, link.b)) return { from: link.a, to: link.b };
  if (!isCut(link.b, link.a)) return { from: link.b, to: link.a };
  return null;
}

/** A click on a link cycles it: up → cut a→b (one-way) → cut both ways (down) → mended (up). */
export function nextLinkActions(link: LiveLink, working: Direction | null): Action[] {
  const { a, b } = link;
  switch (link.state) {
    case 'up':
      return [{ do: 'cut', from: a, to: b }];
    case 'one-way':
      return working
        ? [{ do: 'cut', from: working.from, to: working.to }]
        : [
            { do: 'cut', from: a, to: b },
            { do: 'cut', from: b, to: a },
          ];
    case 'down':
      return [
        { do: 'mend', from: a, to: b },
        { do: 'mend', from: b, to: a },
      ];
  }
}

/** The accessible name of a link: its state and what a click will do. */
export function linkLabel(link: LiveLink, working: Direction | null): string {
  const name = `link S${link.a}–S${link.b}`;
  switch (link.state) {
    case 'up':
      return `${name}, up; click to cut`;
    case 'one-way':
      return working
        ? `${name}, one-way: only S${working.from}→S${working.to} gets through; click to cut both ways`
        : `${name}, one-way; click to cut both ways`;
    case 'down':
      return `${name}, down; click to mend`;
  }
}

// ---- Messages -------------------------------------------------------------------------------------------------

export interface MessageTiming {
  readonly sentAt: number;
  readonly deliverAt: number;
  readonly dropped?: { readonly at: number };
}

export interface MessagePlacement extends Point {
  /** How far along its trip, 0 (sent) to 1 (delivered); a lost message stops where it died. */
  readonly progress: number;
  /** The direction of travel, in degrees (0 points right, clockwise, as SVG's rotate). */
  readonly angleDegrees: number;
  readonly opacity: number;
}

/**
 * Where a message is at `clockMs`: along the link from rim to rim, by the share of its flight time that has
 * passed, on the left-hand side of its direction of travel so that a reply passes its request.
 */
export function messagePlacement(message: MessageTiming, clockMs: number, from: Point, to: Point, nodeRadius: number): MessagePlacement {
  const span = message.deliverAt - message.sentAt;
  const at = message.dropped ? Math.min(clockMs, message.dropped.at) : clockMs;
  const progress = span > 0 ? clamp((at - message.sentAt) / span, 0, 1) : 1;
  const { from: start, to: end } = trimSegment(from, to, nodeRadius + 4);
  const length = Math.hypot(to.x - from.x, to.y - from.y) || 1;
  // The left-hand normal of the direction of travel (SVG's y axis points down).
  const nx = (to.y - from.y) / length;
  const ny = -(to.x - from.x) / length;
  const opacity = message.dropped ? clamp(1 - (clockMs - message.dropped.at) / DROPPED_FADE_MS, 0.15, 1) : 1;
  return {
    x: start.x + (end.x - start.x) * progress + nx * MESSAGE_SIDE_OFFSET,
    y: start.y + (end.y - start.y) * progress + ny * MESSAGE_SIDE_OFFSET,
    progress,
    angleDegrees: (Math.atan2(to.y - from.y, to.x - from.x) * 180) / Math.PI,
    opacity,
  };
}

export type GlyphShape = 'diamond' | 'rect' | 'circle' | 'square' | 'triangle' | 'pill';

export interface MessageGlyph {
  readonly shape: GlyphShape;
  readonly color: string;
  /** PreVote is drawn dashed: a trial that changes no term and no vote. */
  readonly dashed: boolean;
  /** Text inside the glyph: the entry count, `S` for a snapshot chunk, `R` for a read. */
  readonly text: string | null;
  readonly response: boolean;
  /** A response's answer: drawn ✓ or ✗. Null for a request, and for a heartbeat's echo. */
  readonly outcome: 'ok' | 'denied' | null;
  /** A few words for a tooltip. */
  readonly title: string;
}

/**
 * How a message looks, by type, so that shape and text tell the types apart as well as colour does. An
 * AppendEntries with no entries is a heartbeat, drawn like one.
 */
export function messageGlyph(message: Message): MessageGlyph {
  const route = `S${message.from} → S${message.to}, term ${message.term}`;
  const request = (shape: GlyphShape, color: string, title: string, text: string | null = null, dashed = false): MessageGlyph => ({
    shape,
    color,
    dashed,
    text,
    response: false,
    outcome: null,
    title: `${title} ${route}`,
  });
  const response = (shape: GlyphShape, color: string, title: string, ok: boolean | null, dashed = false): MessageGlyph => ({
    shape,
    color,
    dashed,
    text: null,
    response: true,
    outcome: ok === null ? null : ok ? 'ok' : 'denied',
    title: `${title} ${route}${ok === null ? '' : ok ? ' (yes)' : ' (no)'}`,
  });
  switch (message.type) {
    case 'RequestVote':
      return request('diamond', PALETTE.orange, message.transfer ? 'RequestVote (leadership transfer)' : 'RequestVote');
    case 'RequestVoteResponse':
      return response('diamond', PALETTE.orange, 'Vote', message.granted);
    case 'PreVote':
      return request('diamond', PALETTE.yellow, 'PreVote', null, true);
    case 'PreVoteResponse':
      return response('diamond', PALETTE.yellow, 'Pre-vote', message.granted, true);
    case 'AppendEntries': {
      const count = message.entries.length;
      if (count === 0) return request('circle', PALETTE.grey, 'Heartbeat (AppendEntries, no entries)');
      return request('rect', PALETTE.green, `AppendEntries with ${count} ${count === 1 ? 'entry' : 'entries'}`, String(count));
    }
    case 'AppendEntriesResponse':
      return response('rect', PALETTE.green, 'AppendEntries reply', message.success);
    case 'Heartbeat':
      return request('circle', PALETTE.grey, 'Heartbeat');
    case 'HeartbeatResponse':
      return response('circle', PALETTE.grey, 'Heartbeat reply', null);
    case 'InstallSnapshot':
      return request('square', PALETTE.purple, 'InstallSnapshot', 'S');
    case 'InstallSnapshotResponse':
      return response('square', PALETTE.purple, 'InstallSnapshot reply', message.success);
    case 'ReadIndex':
      return request('pill', PALETTE.sky, 'ReadIndex', 'R');
    case 'ReadIndexResponse':
      return response('pill', PALETTE.sky, 'ReadIndex reply', message.ok);
    case 'TimeoutNow':
      return request('triangle', PALETTE.vermillion, 'TimeoutNow (start an election now)');
  }
}

// ---- Partition by dragging -------------------------------------------------------------------------------------

export interface Zone {
  readonly name: string;
  /** d3-shape arc angles: 0 at 12 o'clock, clockwise. */
  readonly startAngle: number;
  readonly endAngle: number;
}

const ZONE_NAMES = ['Group A', 'Group B', 'Group C'] as const;

/**
 * The drop zones shown while a node is dragged: two halves (left A, right B) for a cluster of two or three,
 * three sectors otherwise (top-left A, top-right B, bottom C).
 */
export function dropZones(nodeCount: number): Zone[] {
  const third = (2 * Math.PI) / 3;
  if (nodeCount <= 3) {
    return [
      { name: ZONE_NAMES[0], startAngle: Math.PI, endAngle: 2 * Math.PI },
      { name: ZONE_NAMES[1], startAngle: 0, endAngle: Math.PI },
    ];
  }
  return [
    { name: ZONE_NAMES[0], startAngle: 2 * third, endAngle: 3 * third },
    { name: ZONE_NAMES[1], startAngle: 0, endAngle: third },
    { name: ZONE_NAMES[2], startAngle: third, endAngle: 2 * third },
  ];
}

/** A zone's translucent region: a d3-shape arc sector from the cancel circle out to `outerRadius`. */
export function zonePath(zone: Zone, outerRadius: number): string {
  return arc()({ innerRadius: CANCEL_RADIUS, outerRadius, startAngle: zone.startAngle, endAngle: zone.endAngle }) ?? '';
}

/** The zone (index into `zones`) under `point`, or null in the cancel circle at the centre. */
export function zoneAt(point: Point, center: Point, zones: readonly Zone[]): number | null {
  if (Math.hypot(point.x - center.x, point.y - center.y) < CANCEL_RADIUS) return null;
  const angle = angleOf(center, point);
  const index = zones.findIndex((zone) => angle >= zone.startAngle && angle < zone.endAngle);
  return index === -1 ? zones.length - 1 : index;
}

/**
 * Which zone each node is in now. The ring remembers the partition it made last (`remembered`) and keeps it
 * while the links still agree with it (up exactly within a group); otherwise the groups are read from the
 * links (nodes joined by up links), numbered by their lowest node id, at most `zoneCount` of them.
 */
export function currentGroups(
  ids: readonly NodeId[],
  links: readonly LiveLink[],
  zoneCount: number,
  remembered: ReadonlyMap<NodeId, number> | null,
): Map<NodeId, number> {
  if (remembered && agreesWithLinks(ids, links, remembered, zoneCount)) return new Map(ids.map((id) => [id, remembered.get(id)!]));
  const parent = new Map<NodeId, NodeId>(ids.map((id) => [id, id]));
  const root = (id: NodeId): NodeId => {
    let at = id;
    while (parent.get(at) !== at) at = parent.get(at)!;
    return at;
  };
  for (const link of links) {
    if (link.state !== 'up' || !parent.has(link.a) || !parent.has(link.b)) continue;
    const [x, y] = [root(link.a), root(link.b)];
    if (x !== y) parent.set(Math.max(x, y), Math.min(x, y));
  }
  const numbers = new Map<NodeId, number>();
  const groups = new Map<NodeId, number>();
  for (const id of [...ids].sort((x, y) => x - y)) {
    const r = root(id);
    if (!numbers.has(r)) numbers.set(r, Math.min(numbers.size, zoneCount - 1));
    groups.set(id, numbers.get(r)!);
  }
  return groups;
}

function agreesWithLinks(ids: readonly NodeId[], links: readonly LiveLink[], groups: ReadonlyMap<NodeId, number>, zoneCount: number): boolean {
  if (!ids.every((id) => groups.has(id) && groups.get(id)! < zoneCount)) return false;
  return links.every((link) => !groups.has(link.a) || !groups.has(link.b) || (groups.get(link.a) === groups.get(link.b)) === (link.state === 'up'));
}

/** The groups, in zone order, leaving out empty zones; each group sorted. */
export function groupsOf(ids: readonly NodeId[], assignment: ReadonlyMap<NodeId, number>, zoneCount: number): NodeId[][] {
  const groups: NodeId[][] = [];
  for (let zone = 0; zone < zoneCount; zone++) {
    const members = ids.filter((id) => assignment.get(id) === zone).sort((x, y) => x - y);
    if (members.length > 0) groups.push(members);
  }
  return groups;
}

/**
 * What dropping `node` into `zone` does: it moves there and the others stay in their groups. Null when it was
 * already there; `heal` when everyone ends up together; otherwise a partition into the non-empty groups.
 */
export function partitionAfterDrop(
  ids: readonly NodeId[],
  assignment: ReadonlyMap<NodeId, number>,
  node: NodeId,
  zone: number,
  zoneCount: number,
): { action: Action; assignment: Map<NodeId, number> } | null {
  if (assignment.get(node) === zone) return null;
  const next = new Map(assignment);
  next.set(node, zone);
  const groups = groupsOf(ids, next, zoneCount);
  return { action: groups.length <= 1 ? { do: 'heal' } : { do: 'partition', groups }, assignment: next };
}

/** `node` alone on one side, everyone else on the other. */
export function isolateGroups(ids: readonly NodeId[], node: NodeId): NodeId[][] {
  return [[node], ids.filter((id) => id !== node).sort((x, y) => x - y)];
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
