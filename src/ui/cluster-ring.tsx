// The cluster on a ring at one moment: nodes by role (shape and colour, so colour alone never carries the
// meaning), terms, and messages in flight along the links. D3 computes the positions; React owns the DOM.
import { scaleLinear } from 'd3';
import type { MessageType, NodeId } from '../core/types.ts';
import type { ClusterView, MessageView, NodeView } from './replay.ts';

const SIZE = 520;
const CENTER = SIZE / 2;
const RADIUS = 190;
const NODE_RADIUS = 42;

/** The Okabe–Ito palette, safe for the common kinds of colour blindness. */
const ROLE_COLOR = { leader: '#0072B2', candidate: '#E69F00', precandidate: '#F0E442', follower: '#56B4E9' } as const;
const MESSAGE_COLOR: Record<MessageType, string> = {
  RequestVote: '#E69F00',
  RequestVoteResponse: '#E69F00',
  PreVote: '#F0E442',
  PreVoteResponse: '#F0E442',
  AppendEntries: '#009E73',
  AppendEntriesResponse: '#009E73',
  Heartbeat: '#999999',
  HeartbeatResponse: '#999999',
  InstallSnapshot: '#CC79A7',
  InstallSnapshotResponse: '#CC79A7',
  ReadIndex: '#56B4E9',
  ReadIndexResponse: '#56B4E9',
  TimeoutNow: '#D55E00',
};

function position(index: number, count: number): { x: number; y: number } {
  const angle = scaleLinear().domain([0, count]).range([-Math.PI / 2, (3 * Math.PI) / 2])(index);
  return { x: CENTER + RADIUS * Math.cos(angle), y: CENTER + RADIUS * Math.sin(angle) };
}

export function ClusterRing({ view }: { view: ClusterView }) {
  const places = new Map<NodeId, { x: number; y: number }>(view.nodes.map((node, i) => [node.id, position(i, view.nodes.length)]));
  return (
    <svg className="ring" viewBox={`0 0 ${SIZE} ${SIZE}`} role="img" aria-label={`The cluster at ${view.atMs} ms`}>
      {view.links.map((link) => {
        const p = places.get(link.a)!;
        const q = places.get(link.b)!;
        return (
          <line
            key={`${link.a}-${link.b}`}
            data-testid={`link-${link.a}-${link.b}`}
            data-state={link.state}
            x1={p.x}
            y1={p.y}
            x2={q.x}
            y2={q.y}
            className={`link link-${link.state}`}
          >
            <title>{`S${link.a}–S${link.b}: ${link.state === 'up' ? 'up' : link.state === 'down' ? 'cut both ways' : 'cut one way'}`}</title>
          </line>
        );
      })}
      {view.inFlight.map((message) => (
        <Message key={message.id} message={message} atMs={view.atMs} places={places} />
      ))}
      {view.nodes.map((node) => (
        <Node key={node.id} node={node} at={places.get(node.id)!} />
      ))}
    </svg>
  );
}

function Node({ node, at }: { node: NodeView; at: { x: number; y: number } }) {
  const down = node.status === 'down';
  const fill = down ? '#dddddd' : ROLE_COLOR[node.role];
  const outline = { stroke: '#222222', strokeWidth: node.role === 'leader' ? 5 : 2, strokeDasharray: down || node.role !== 'follower' && node.role !== 'leader' ? '8 5' : undefined };
  const label = `S${node.id}, ${down ? 'down' : node.role}, term ${node.term}`;
  return (
    <g
      data-testid={`node-${node.id}`}
      data-role={node.role}
      data-term={node.term}
      data-status={node.status}
      data-commit-index={node.commitIndex}
      aria-label={label}
      role="img"
      transform={`translate(${at.x} ${at.y})`}
    >
      <title>{label}</title>
      {node.role === 'leader' && !down ? (
        <rect x={-NODE_RADIUS} y={-NODE_RADIUS} width={2 * NODE_RADIUS} height={2 * NODE_RADIUS} rx={14} fill={fill} {...outline} />
      ) : (
        <circle r={NODE_RADIUS} fill={fill} {...outline} />
      )}
      <text className="node-name" dy="-0.1em" textAnchor="middle" fill={node.role === 'leader' && !down ? '#ffffff' : '#111111'}>
        S{node.id}
      </text>
      <text className="node-term" dy="1.3em" textAnchor="middle" fill={node.role === 'leader' && !down ? '#ffffff' : '#111111'}>
        {down ? 'down' : `term ${node.term}`}
      </text>
    </g>
  );
}

function Message({ message, atMs, places }: { message: MessageView; atMs: number; places: Map<NodeId, { x: number; y: number }> }) {
  const from = places.get(message.from);
  const to = places.get(message.to);
  if (!from || !to) return null;
  const progress = scaleLinear().domain([message.sentAt, message.deliverAt]).range([0, 1]).clamp(true)(atMs);
  const x = from.x + (to.x - from.x) * progress;
  const y = from.y + (to.y - from.y) * progress;
  const response = message.type.endsWith('Response');
  const color = message.empty ? '#999999' : MESSAGE_COLOR[message.type];
  return (
    <circle
      data-testid="message"
      data-type={message.type}
      data-from={message.from}
      data-to={message.to}
      cx={x}
      cy={y}
      r={9}
      fill={response ? '#ffffff' : color}
      stroke={color}
      strokeWidth={4}
    >
      <title>{`${message.type} S${message.from} → S${message.to}`}</title>
    </circle>
  );
}
