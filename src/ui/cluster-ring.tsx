// The live cluster on a ring: each node by role (shape and colour, so that colour never carries the meaning
// alone), its term, its election timer and its votes; the links between every pair, which a click cuts and
// mends; the messages in flight, gliding between events; and partition by dragging a node into a group.
// D3 computes the geometry (ring-geometry.ts); React owns the DOM.
import { symbol, symbolTriangle } from 'd3';
import { memo, useEffect, useMemo, useRef, useState, type CSSProperties, type KeyboardEvent, type PointerEvent } from 'react';
import type { NodeId } from '../core/types.ts';
import type { LiveLink, LiveMessage, LiveNode, LiveView } from '../playground/live-cluster.ts';
import { useLessonShow, usePointedPanel } from '../playground/lesson-store.ts';
import { liveCluster, shownClock, shownView, usePlayground, type Selection } from '../playground/store.ts';
import {
  crownPath,
  currentGroups,
  diamondPath,
  dropZones,
  formatClockRate,
  layoutRing,
  linkLabel,
  messageGlyph,
  messagePlacement,
  nextLinkActions,
  nodeLabel,
  partitionAfterDrop,
  PALETTE,
  RING_HEIGHT,
  RING_WIDTH,
  ROLE_FILL,
  timerArcPath,
  timerFraction,
  trimSegment,
  voteTally,
  workingDirection,
  zoneAt,
  zonePath,
  CANCEL_RADIUS,
  type Direction,
  type Point,
  type RingLayout,
  type Zone,
} from './ring-geometry.ts';
import { runActions } from './controls.tsx';
import { describeDrop } from './inspector-model.ts';
import { classifyLeaders, staleTag, type LeaderStanding } from './leadership-model.ts';
import { NARROWEST_GLYPH_UNITS, ringSizes, useLegibility, type RingSizes } from './legibility.ts';
import './ring.css';

/** A pointer that moves further than this (CSS px) from where it went down is dragging, not clicking. */
const DRAG_THRESHOLD_PX = 6;
/** Zones reach past the corners of the drawing. */
const ZONE_OUTER_RADIUS = 420;

interface Drag {
  readonly node: NodeId;
  readonly pointerId: number;
  readonly startClient: { readonly x: number; readonly y: number };
  readonly point: Point;
  readonly moved: boolean;
}

function select(selection: Selection): void {
  usePlayground.getState().select(selection);
}

export function ClusterRing() {
  const view = usePlayground(shownView);
  const clockMs = usePlayground(shownClock);
  const selection = usePlayground((state) => state.selection);
  const scrubbing = usePlayground((state) => state.scrubMs !== null);
  const checkQuorum = usePlayground((state) => state.config?.checkQuorum ?? false);
  /** Messages stand still only when paused or scrubbed: only then can the keyboard reach them. */
  const still = usePlayground((state) => state.paused || state.scrubMs !== null);
  const show = useLessonShow();
  const pointedPanel = usePointedPanel('ring');
  const svgRef = useRef<SVGSVGElement>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  /** The partition this ring made last, kept while the links agree with it (so that groups keep their zones). */
  const remembered = useRef<Map<NodeId, number> | null>(null);
  /** Set when a drag ends, so that the click that follows it does not also select. */
  const suppressClick = useRef(false);

  const pxPerUnit = usePixelsPerUnit(svgRef);
  const legibility = useLegibility();
  const sizes = ringSizes(pxPerUnit, legibility);

  const idsKey = view ? view.nodes.map((n) => n.id).join(',') : '';
  const ids = useMemo(() => (idsKey === '' ? [] : idsKey.split(',').map(Number)), [idsKey]);
  const layout = useMemo(() => layoutRing(ids, sizes.minNodeRadius), [ids, sizes.minNodeRadius]);
  const zones = useMemo(() => dropZones(ids.length), [ids]);

  if (!view) {
    return (
      <svg ref={svgRef} className="cluster-ring" viewBox={`0 0 ${RING_WIDTH} ${RING_HEIGHT}`} role="group" aria-label="The cluster" aria-busy="true">
        <text x={RING_WIDTH / 2} y={RING_HEIGHT / 2} textAnchor="middle" className="ring-waiting">
          Starting the cluster…
        </text>
      </svg>
    );
  }

  // Which leaders can commit (worked out once per view, leadership-model.ts).
  const standings = new Map(classifyLeaders(view, { checkQuorum }).map((standing) => [standing.id, standing]));

  // The one-way direction is not in the view; the live network knows it (not a scrubbed past: then unknown).
  const network = scrubbing ? null : (liveCluster()?.sim.network ?? null);
  const isCut = network ? (from: NodeId, to: NodeId) => network.isCut(from, to) : null;

  const toSvgPoint = (clientX: number, clientY: number): Point | null => {
    const matrix = svgRef.current?.getScreenCTM();
    if (!matrix) return null;
    const p = new DOMPoint(clientX, clientY).matrixTransform(matrix.inverse());
    return { x: p.x, y: p.y };
  };

  const groupsNow = () => currentGroups(ids, view.links, zones.length, remembered.current);

  const dropPlan = (node: NodeId, point: Point) => {
    const zone = zoneAt(point, layout.center, zones);
    return zone === null ? null : partitionAfterDrop(ids, groupsNow(), node, zone, zones.length);
  };

  const nodeHandlers = (id: NodeId) => ({
    onPointerDown(event: PointerEvent<SVGGElement>) {
      suppressClick.current = false;
      if (event.button !== 0 || ids.length < 2) return;
      const point = toSvgPoint(event.clientX, event.clientY);
      if (!point) return;
      event.currentTarget.setPointerCapture(event.pointerId);
      setDrag({ node: id, pointerId: event.pointerId, startClient: { x: event.clientX, y: event.clientY }, point, moved: false });
    },
    onPointerMove(event: PointerEvent<SVGGElement>) {
      if (!drag || drag.pointerId !== event.pointerId) return;
      const point = toSvgPoint(event.clientX, event.clientY);
      if (!point) return;
      const moved = drag.moved || Math.hypot(event.clientX - drag.startClient.x, event.clientY - drag.startClient.y) > DRAG_THRESHOLD_PX;
      setDrag({ ...drag, point, moved });
    },
    onPointerUp(event: PointerEvent<SVGGElement>) {
      if (!drag || drag.pointerId !== event.pointerId) return;
      setDrag(null);
      if (!drag.moved) return; // a click: onClick selects
      suppressClick.current = true;
      const plan = dropPlan(drag.node, toSvgPoint(event.clientX, event.clientY) ?? drag.point);
      if (!plan) return;
      remembered.current = plan.assignment;
      void runActions([plan.action]);
    },
    onPointerCancel() {
      setDrag(null);
    },
    onClick() {
      if (suppressClick.current) {
        suppressClick.current = false;
        return;
      }
      select({ kind: 'node', id });
    },
    onKeyDown(event: KeyboardEvent<SVGGElement>) {
      if (event.key !== 'Enter' && event.key !== ' ') return;
      event.preventDefault();
      select({ kind: 'node', id });
    },
  });

  const dragging = drag?.moved ? drag : null;
  const hoveredZone = dragging ? zoneAt(dragging.point, layout.center, zones) : null;
  const preview = dragging ? dropPlan(dragging.node, dragging.point) : null;
  const selectedNode = selection?.kind === 'node' ? selection.id : null;
  const selectedMessage = selection?.kind === 'message' ? selection.id : null;
  // What a lesson's step points at: "leader" is whoever leads at the moment drawn.
  const pointedNodes = new Set((show?.nodes ?? []).map((ref) => (ref === 'leader' ? view.leader : ref)));
  const pointedTypes = new Set<string>(show?.messages ?? []);

  return (
    <svg
      ref={svgRef}
      className={`cluster-ring${dragging ? ' is-dragging' : ''}${pointedPanel ? ' is-pointed' : ''}`}
      viewBox={`0 0 ${RING_WIDTH} ${RING_HEIGHT}`}
      style={{ '--ring-small': `${Math.max(14, sizes.termFloor).toFixed(1)}px` } as CSSProperties}
      role="group"
      aria-label={`The cluster: ${view.nodes.length} nodes, ${view.leader === null ? 'no leader' : `S${view.leader} leads`}`}
    >
      {dragging ? (
        <DropZones zones={zones} layout={layout} hovered={hoveredZone} />
      ) : (
        <text className="ring-hint" x={10} y={22}>
          <tspan x={10}>Drag a node to partition</tspan>
          <tspan x={10} dy="1.25em">Click a link to cut it</tspan>
        </text>
      )}
      {view.nodes.map((node) => (
        <RingNode
          key={node.id}
          node={node}
          at={layout.places.get(node.id)!}
          radius={layout.nodeRadius}
          clockMs={clockMs}
          clusterSize={view.nodes.length}
          sizes={sizes}
          standing={standings.get(node.id) ?? null}
          selected={node.id === selectedNode}
          pointed={pointedNodes.has(node.id)}
          lifted={dragging?.node === node.id}
          handlers={nodeHandlers(node.id)}
        />
      ))}
      {view.links.map((link) => (
        <RingLink key={`${link.a}-${link.b}`} link={link} layout={layout} working={workingDirection(link, isCut)} />
      ))}
      {/* Above the links, which would otherwise run through a tag below a node. */}
      {[...standings.values()].map((standing) =>
        standing.standing === 'stale' ? <StaleTag key={standing.id} text={staleTag(standing)} at={layout.places.get(standing.id)!} top={layout.nodeRadius + 8} /> : null,
      )}
      {view.messages.map((message) => (
        <RingMessage
          key={message.id}
          message={message}
          clockMs={clockMs}
          layout={layout}
          glyphScale={sizes.glyphScale}
          selected={message.id === selectedMessage}
          pointed={pointedTypes.has(message.message.type)}
          focusable={still}
        />
      ))}
      {dragging && <DropZoneLabels zones={zones} layout={layout} hovered={hoveredZone} groups={preview ? preview.assignment : groupsNow()} ids={ids} />}
      {dragging && <DragGhost view={view} node={dragging.node} at={dragging.point} radius={layout.nodeRadius} />}
    </svg>
  );
}

/** CSS px on screen per ring unit: the drawing scales to fit its box (preserveAspectRatio meet). */
function usePixelsPerUnit(svgRef: { readonly current: SVGSVGElement | null }): number {
  const [pxPerUnit, setPxPerUnit] = useState(1);
  useEffect(() => {
    const svg = svgRef.current;
    if (!svg) return;
    const measure = () => {
      const { width, height } = svg.getBoundingClientRect();
      if (width > 0 && height > 0) setPxPerUnit(Math.min(width / RING_WIDTH, height / RING_HEIGHT));
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(svg);
    return () => observer.disconnect();
  }, [svgRef]);
  return pxPerUnit;
}

// ---- Nodes ----------------------------------------------------------------------------------------------------

interface NodeHandlers {
  onPointerDown(event: PointerEvent<SVGGElement>): void;
  onPointerMove(event: PointerEvent<SVGGElement>): void;
  onPointerUp(event: PointerEvent<SVGGElement>): void;
  onPointerCancel(): void;
  onClick(): void;
  onKeyDown(event: KeyboardEvent<SVGGElement>): void;
}

function RingNode(props: {
  node: LiveNode;
  at: Point;
  radius: number;
  clockMs: number;
  clusterSize: number;
  sizes: RingSizes;
  /** For an up leader: whether it can commit (leadership-model.ts); null for every other node. */
  standing: LeaderStanding | null;
  selected: boolean;
  /** A lesson's step points at it. */
  pointed: boolean;
  lifted: boolean;
  handlers: NodeHandlers;
}) {
  const { node, at, radius, clockMs, clusterSize, sizes, standing, selected, pointed, lifted, handlers } = props;
  const down = node.status === 'down';
  const stale = standing?.standing === 'stale';
  // SPEC §7's label, and for a stale leader what it is: data-role stays "leader", as it believes.
  const label = `${nodeLabel(node)}${stale ? ', stale: cannot commit' : ''}`;
  const diamond = !down && (node.role === 'candidate' || node.role === 'precandidate');
  /** How far the shape reaches from the centre: a diamond's corners reach further than the circle. */
  const extent = diamond ? radius * 1.14 : radius;
  const fraction = down ? null : timerFraction(node.electionDeadlineMs, node.electionTimeoutMs, clockMs, node.clockRate);
  const tally = voteTally(node, clusterSize);
  const badge = formatClockRate(node.clockRate);
  // A stale leader is hollow: its text is in the ring's ink, on the page's own paper (either theme).
  const onFill = stale ? 'on-paper' : !down && node.role === 'leader' ? 'on-dark' : 'on-light';
  const nameSize = Math.max(Math.round(radius * 0.6), sizes.nameFloor);
  const termSize = Math.max(12, Math.round(radius * 0.34), sizes.termFloor);
  const classes = ['node', `role-${node.role}`, down ? 'is-down' : 'is-up', stale ? 'is-stale' : '', selected ? 'is-selected' : '', pointed ? 'is-pointed' : '', lifted ? 'is-lifted' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <g
      className={classes}
      transform={`translate(${at.x} ${at.y})`}
      data-testid={`node-${node.id}`}
      data-role={node.role}
      data-term={node.term}
      data-status={node.status}
      data-commit-index={node.commitIndex}
      data-last-index={node.lastIndex}
      {...(standing ? { 'data-stale': stale ? 'true' : 'false' } : {})}
      {...(stale ? { 'data-stale-reasons': standing.reasons.join(' ') } : {})}
      aria-label={label}
      aria-pressed={selected}
      role="button"
      tabIndex={0}
      {...handlers}
    >
      <title>{`${label}; commit index ${node.commitIndex}, last index ${node.lastIndex}.${stale ? ` ${standing.sentence}` : ''} Click to inspect, drag to partition.`}</title>
      {pointed && <circle className="lesson-halo" r={extent + 19} />}
      <circle className="focus-ring" r={extent + 15} />
      {fraction !== null && (
        <g className="election-timer" aria-hidden="true">
          <circle className="timer-track" r={extent + 7} />
          <path className="timer-arc" d={timerArcPath(fraction, extent + 4, extent + 10)} />
        </g>
      )}
      <NodeShape role={node.role} down={down} stale={stale} radius={radius} extent={extent} />
      <text className={`node-name ${onFill}`} y={-radius * 0.08} textAnchor="middle" style={{ fontSize: nameSize }}>
        S{node.id}
      </text>
      <text className={`node-term ${onFill}`} y={radius * 0.5} textAnchor="middle" style={{ fontSize: termSize }}>
        {down ? 'down' : `term ${node.term}`}
      </text>
      {tally && <VoteTally node={node} tally={tally} top={extent + 17} clusterSize={clusterSize} />}
      {badge && <ClockBadge text={badge} at={at} radius={radius} />}
    </g>
  );
}

/** `×1.5 clock` at the node's upper right, pulled in where it would leave the drawing. */
function ClockBadge({ text, at, radius }: { text: string; at: Point; radius: number }) {
  const width = text.length * 8 + 10;
  const left = Math.min(radius * 0.6, RING_WIDTH - 4 - width - at.x);
  return (
    <g className="clock-badge" transform={`translate(${left} ${-radius - 2})`}>
      <rect x={0} y={-15} width={width} height={20} rx={10} />
      <text x={5} y={0}>
        {text}
      </text>
    </g>
  );
}

/** Under a stale leader, where a candidate's votes go: `stale` (a newer term) or `no majority`, boxed and dashed. */
function StaleTag({ text, at, top }: { text: string; at: Point; top: number }) {
  const width = text.length * 11 + 18;
  return (
    <g className="stale-tag" transform={`translate(${at.x} ${at.y + top})`} aria-hidden="true">
      <rect x={-width / 2} y={0} width={width} height={28} rx={6} />
      <text y={20.5} textAnchor="middle">
        {text}
      </text>
    </g>
  );
}

/** Redrawn when the role or status changes, not with the timer around it every frame. */
const NodeShape = memo(function NodeShape({ role, down, stale = false, radius, extent }: { role: LiveNode['role']; down: boolean; stale?: boolean; radius: number; extent: number }) {
  if (down) {
    const x = radius * 0.62;
    return (
      <g className="shape">
        <circle r={radius} fill={PALETTE.downGrey} className="outline down-outline" />
        <path className="down-cross" d={`M${-x},${-x}L${x},${x}M${x},${-x}L${-x},${x}`} />
      </g>
    );
  }
  switch (role) {
    case 'leader':
      if (stale) {
        // Still in the leader role, but it cannot commit: hollow and dashed, crown and all, not only paler.
        return (
          <g className="shape stale-shape">
            <circle r={radius} className="stale-fill" />
            <circle r={radius} fill="none" className="outline leader-outline stale-outline" stroke={ROLE_FILL.leader} />
            <path className="crown stale-crown" d={crownPath(radius * 0.75)} transform={`translate(0 ${-radius + 3})`} />
          </g>
        );
      }
      return (
        <g className="shape">
          <circle r={radius} fill={ROLE_FILL.leader} className="outline leader-outline" />
          <circle r={radius - 6} className="leader-inner-ring" />
          <path className="crown" d={crownPath(radius * 0.75)} transform={`translate(0 ${-radius + 3})`} />
        </g>
      );
    case 'candidate':
    case 'precandidate':
      return (
        <g className="shape">
          <path d={diamondPath(extent)} fill={ROLE_FILL[role]} className={`outline ${role === 'precandidate' ? 'dashed-outline' : ''}`} />
        </g>
      );
    case 'follower':
      return (
        <g className="shape">
          <circle r={radius} fill={ROLE_FILL.follower} className="outline" />
        </g>
      );
  }
});

function VoteTally({ node, tally, top, clusterSize }: { node: LiveNode; tally: { granted: number; total: number; label: string }; top: number; clusterSize: number }) {
  const voters = node.voters.length > 0 ? node.voters : Array.from({ length: clusterSize }, (_, i) => i + 1);
  const spacing = 12;
  const left = (-(voters.length - 1) * spacing) / 2;
  return (
    <g className="vote-tally">
      {voters.map((voter, i) => {
        const granted = node.votesGranted.includes(voter);
        return (
          <circle key={voter} className={granted ? 'vote granted' : 'vote'} cx={left + i * spacing} cy={top} r={4.5}>
            <title>{`S${voter}: ${granted ? 'voted yes' : 'no vote yet'}`}</title>
          </circle>
        );
      })}
      <text className="vote-label" y={top + 18} textAnchor="middle">
        {tally.label}
      </text>
    </g>
  );
}

/** The node under the pointer while it is dragged: a see-through copy (the node itself stays on the ring). */
function DragGhost({ view, node, at, radius }: { view: LiveView; node: NodeId; at: Point; radius: number }) {
  const live = view.nodes.find((n) => n.id === node);
  if (!live) return null;
  return (
    <g className="drag-ghost" transform={`translate(${at.x} ${at.y})`} aria-hidden="true">
      <NodeShape role={live.role} down={live.status === 'down'} radius={radius} extent={radius} />
      <text className={`node-name ${live.role === 'leader' && live.status === 'up' ? 'on-dark' : 'on-light'}`} y={radius * 0.2} textAnchor="middle" style={{ fontSize: Math.round(radius * 0.6) }}>
        S{node}
      </text>
    </g>
  );
}

/** Where each zone's name goes: in the corners, clear of the nodes (A top left, B top right, C bottom). */
function zoneLabelAnchor(index: number): { x: number; y: number; anchor: 'start' | 'middle' | 'end' } {
  if (index === 0) return { x: 12, y: 28, anchor: 'start' };
  if (index === 1) return { x: RING_WIDTH - 12, y: 28, anchor: 'end' };
  return { x: RING_WIDTH / 2, y: RING_HEIGHT - 26, anchor: 'middle' };
}

/** The translucent regions under the nodes while one is dragged. */
function DropZones({ zones, layout, hovered }: { zones: readonly Zone[]; layout: RingLayout; hovered: number | null }) {
  const { center } = layout;
  return (
    <g className="drop-zones" aria-hidden="true">
      {zones.map((zone, i) => (
        <g key={zone.name} className={`drop-zone zone-${i}${hovered === i ? ' is-hovered' : ''}`}>
          <path d={zonePath(zone, ZONE_OUTER_RADIUS)} transform={`translate(${center.x} ${center.y})`} />
        </g>
      ))}
      <g className={`drop-zone zone-cancel${hovered === null ? ' is-hovered' : ''}`}>
        <circle cx={center.x} cy={center.y} r={CANCEL_RADIUS} />
      </g>
    </g>
  );
}

/** The zones' names and who would be in each after the drop, drawn above the nodes. */
function DropZoneLabels({ zones, layout, hovered, groups, ids }: { zones: readonly Zone[]; layout: RingLayout; hovered: number | null; groups: ReadonlyMap<NodeId, number>; ids: readonly NodeId[] }) {
  const { center } = layout;
  return (
    <g className="zone-labels" aria-hidden="true">
      {zones.map((zone, i) => {
        const members = ids.filter((id) => groups.get(id) === i);
        const at = zoneLabelAnchor(i);
        return (
          <g key={zone.name} className={`zone-label${hovered === i ? ' is-hovered' : ''}`}>
            <text className="zone-name" x={at.x} y={at.y} textAnchor={at.anchor}>
              {zone.name}
            </text>
            <text className="zone-members" x={at.x} y={at.y + 20} textAnchor={at.anchor}>
              {members.length > 0 ? members.map((id) => `S${id}`).join(' ') : '(empty)'}
            </text>
          </g>
        );
      })}
      <g className={`zone-label${hovered === null ? ' is-hovered' : ''}`}>
        <text className="zone-name" x={center.x} y={center.y + 7} textAnchor="middle">
          Cancel
        </text>
      </g>
    </g>
  );
}

// ---- Links ----------------------------------------------------------------------------------------------------

interface RingLinkProps {
  readonly link: LiveLink;
  readonly layout: RingLayout;
  readonly working: Direction | null;
}

/** Links change only when cut or healed: redrawn then, not every frame (36 of them at 9 nodes). */
const RingLink = memo(
  RingLinkDrawing,
  (before: RingLinkProps, after: RingLinkProps) =>
    before.layout === after.layout &&
    before.link.a === after.link.a &&
    before.link.b === after.link.b &&
    before.link.state === after.link.state &&
    before.working?.from === after.working?.from &&
    before.working?.to === after.working?.to,
);

function RingLinkDrawing({ link, layout, working }: RingLinkProps) {
  const p = layout.places.get(link.a);
  const q = layout.places.get(link.b);
  if (!p || !q) return null;
  // Rim to rim, clear of the election timer, so that a link never covers a node.
  const { from, to } = trimSegment(p, q, layout.nodeRadius * 1.14 + 12);
  const middle = { x: (from.x + to.x) / 2, y: (from.y + to.y) / 2 };
  const label = linkLabel(link, working);
  const cycle = () => void runActions(nextLinkActions(link, working));
  let arrow: string | null = null;
  if (working) {
    const [s, t] = working.from === link.a ? [p, q] : [q, p];
    const degrees = (Math.atan2(t.y - s.y, t.x - s.x) * 180) / Math.PI;
    arrow = `translate(${middle.x} ${middle.y}) rotate(${degrees})`;
  }
  return (
    <g
      className={`link link-${link.state}`}
      data-testid={`link-${link.a}-${link.b}`}
      data-state={link.state}
      role="button"
      tabIndex={0}
      aria-label={label}
      onClick={cycle}
      onKeyDown={(event) => {
        if (event.key !== 'Enter' && event.key !== ' ') return;
        event.preventDefault();
        cycle();
      }}
    >
      <title>{label}</title>
      <g className="link-focus" aria-hidden="true">
        <line className="link-focus-edge" x1={from.x} y1={from.y} x2={to.x} y2={to.y} />
        <line className="link-focus-core" x1={from.x} y1={from.y} x2={to.x} y2={to.y} />
      </g>
      <line className="link-line" x1={from.x} y1={from.y} x2={to.x} y2={to.y} />
      <line className="link-hit" x1={from.x} y1={from.y} x2={to.x} y2={to.y} />
      {link.state === 'down' && (
        <g className="link-cross" transform={`translate(${middle.x} ${middle.y})`}>
          <circle r={11} />
          <path d="M-6,-6L6,6M6,-6L-6,6" />
        </g>
      )}
      {arrow && <path className="link-arrow" d="M-11,-9L11,0L-11,9Z" transform={arrow} />}
    </g>
  );
}

// ---- Messages -------------------------------------------------------------------------------------------------

const TRIANGLE_PATH = symbol(symbolTriangle, 300)() ?? '';
const TRIANGLE_SMALL_PATH = symbol(symbolTriangle, 150)() ?? '';

function RingMessage(props: { message: LiveMessage; clockMs: number; layout: RingLayout; glyphScale: number; selected: boolean; pointed: boolean; focusable: boolean }) {
  const { message, clockMs, layout, glyphScale, selected, pointed, focusable } = props;
  const { from, to } = message.message;
  const p = layout.places.get(from);
  const q = layout.places.get(to);
  if (!p || !q) return null;
  const place = messagePlacement(message, clockMs, p, q, layout.nodeRadius);
  const glyph = messageGlyph(message.message);
  const drop = describeDrop(message);
  const dropped = drop !== null;
  const title = `${glyph.title}${dropped ? `; ${drop}` : ''}`;
  const classes = ['message', glyph.response ? 'is-response' : 'is-request', dropped ? 'is-dropped' : '', selected ? 'is-selected' : '', pointed ? 'is-pointed' : ''].filter(Boolean).join(' ');
  return (
    <g
      className={classes}
      data-testid="message"
      data-type={message.message.type}
      data-from={from}
      data-to={to}
      transform={`translate(${place.x.toFixed(1)} ${place.y.toFixed(1)}) scale(${glyphScale.toFixed(2)})`}
      opacity={place.opacity}
      onClick={() => select({ kind: 'message', id: message.id })}
      {...(focusable
        ? {
            role: 'button',
            tabIndex: 0,
            'aria-label': title,
            'aria-pressed': selected,
            onKeyDown(event: KeyboardEvent<SVGGElement>) {
              if (event.key !== 'Enter' && event.key !== ' ') return;
              event.preventDefault();
              select({ kind: 'message', id: message.id });
            },
          }
        : {})}
    >
      <MessageBody message={message} title={title} selected={selected} angleDegrees={place.angleDegrees} />
    </g>
  );
}

/**
 * What a message looks like: fixed from its send to its delivery (a loss makes a new LiveMessage), so only the
 * group around it, which moves it, is redrawn each frame.
 */
const MessageBody = memo(function MessageBody({ message, title, selected, angleDegrees }: { message: LiveMessage; title: string; selected: boolean; angleDegrees: number }) {
  const glyph = messageGlyph(message.message);
  return (
    <>
      <title>{title}</title>
      <circle className="message-focus" r={21} />
      {selected && <circle className="message-selected" r={19} />}
      <GlyphShape glyph={glyph} angleDegrees={angleDegrees} />
      {glyph.outcome && (
        <text className={`outcome outcome-${glyph.outcome}`} y={5} textAnchor="middle">
          {glyph.outcome === 'ok' ? '✓' : '✗'}
        </text>
      )}
      {message.dropped && <path className="dropped-cross" d="M-9,-9L9,9M9,-9L-9,9" />}
    </>
  );
});

function GlyphShape({ glyph, angleDegrees }: { glyph: ReturnType<typeof messageGlyph>; angleDegrees: number }) {
  const scale = glyph.response ? 0.85 : 1;
  // A request is filled with its colour; a response is hollow, edged in that colour, with its answer inside.
  const paint = glyph.response
    ? { className: `glyph hollow${glyph.dashed ? ' dashed' : ''}`, stroke: glyph.color }
    : { className: `glyph filled${glyph.dashed ? ' dashed' : ''}`, fill: glyph.color };
  const text = glyph.text && !glyph.response ? (
    <text className="glyph-text" y={4.5} textAnchor="middle">
      {glyph.text}
    </text>
  ) : null;
  switch (glyph.shape) {
    case 'diamond':
      return <path d={diamondPath(12 * scale)} {...paint} />;
    case 'rect': {
      const [w, h] = [26 * scale, 18 * scale];
      return (
        <>
          <rect x={-w / 2} y={-h / 2} width={w} height={h} rx={3} {...paint} />
          {text}
        </>
      );
    }
    case 'circle': {
      const r = glyph.response ? NARROWEST_GLYPH_UNITS / 2 : 7.5;
      return <circle r={r} {...paint} />;
    }
    case 'square': {
      const s = 19 * scale;
      return (
        <>
          <rect x={-s / 2} y={-s / 2} width={s} height={s} {...paint} />
          {text}
        </>
      );
    }
    case 'triangle':
      // d3's triangle points up; turn it to point the way the message travels.
      return <path d={glyph.response ? TRIANGLE_SMALL_PATH : TRIANGLE_PATH} transform={`rotate(${angleDegrees + 90})`} {...paint} />;
    case 'pill': {
      const [w, h] = [24 * scale, 16 * scale];
      return (
        <>
          <rect x={-w / 2} y={-h / 2} width={w} height={h} rx={h / 2} {...paint} />
          {text}
        </>
      );
    }
  }
}
