// The replicated state machines: each node's key-value table side by side (they agree once every node has
// applied the same prefix of the log, §5.3's State Machine Safety), and one node's task queues as lanes.
import { useState, type ReactNode } from 'react';
import type { NodeId } from '../core/types.ts';
import type { QueueLanes } from '../machines/task-queues.ts';
import type { LiveView } from '../playground/live-cluster.ts';
import { usePointedPanel } from '../playground/lesson-store.ts';
import { shownPanelView, usePlayground } from '../playground/store.ts';
import {
  chooseQueueSource,
  compareKv,
  LeaseLengths,
  leaseFraction,
  QUEUES_SHOWN_MAX,
  takeChips,
  takeLatestChips,
} from './machine-panel-model.ts';
import { QueueControls } from './controls.tsx';
import { formatRemainingSeconds, formatSeconds } from './panel-format.ts';
import { RoleBadge } from './role-badge.tsx';
import './panels.css';

export function MachinePanel() {
  const view = usePlayground(shownPanelView);
  const pointed = usePointedPanel('machines');
  const selection = usePlayground((s) => s.selection);
  const [leases] = useState(() => new LeaseLengths());
  if (!view) return <section className="panel machine-panel" data-testid="machine-panel" aria-label="State machines" aria-busy="true" />;
  const selected = selection?.kind === 'node' ? selection.id : null;
  return (
    <section className={`panel machine-panel${pointed ? ' is-pointed' : ''}`} data-testid="machine-panel" aria-label="State machines">
      <h2 className="panel-title">State machines</h2>
      {/* It scrolls: focusable, so that the keyboard scrolls it too (WCAG 2.1.1). */}
      <div className="panel-scroll" tabIndex={0} role="group" aria-label="State machine tables">
        <KvTable view={view} />
        <QueueControls />
        <Queues view={view} source={chooseQueueSource(view.machines, view.leader, selected)} leases={leases} />
      </div>
    </section>
  );
}

function KvTable({ view }: { view: LiveView }) {
  const ids = view.nodes.map((node) => node.id);
  const { rows, hidden } = compareKv(view.machines, ids);
  if (rows.length === 0) return <p className="hint">No keys yet: every node's table is empty.</p>;
  return (
    <table className="kv-table">
      <caption>Key-value table on each node</caption>
      <thead>
        <tr>
          <th scope="col">key</th>
          {view.nodes.map((node) => (
            <th key={node.id} scope="col" className={node.status === 'down' ? 'is-down' : undefined}>
              <RoleBadge id={node.id} role={node.status === 'down' ? 'down' : node.role} />
            </th>
          ))}
          <th scope="col">nodes</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.key} className={row.agrees ? 'kv-agrees' : 'kv-differs'}>
            <th scope="row" className="kv-key" title={row.key}>
              {row.key}
            </th>
            {ids.map((id) => {
              const value = row.values.get(id);
              if (value === undefined) {
                return (
                  <td key={id} className="kv-missing" title={view.machines[id] ? `S${id} has no ${row.key}` : `S${id} is down`}>
                    —
                  </td>
                );
              }
              return (
                <td key={id} className="kv-value" data-testid={`kv-${id}-${row.key}`} title={value}>
                  {value}
                </td>
              );
            })}
            <td className="kv-verdict">{row.agrees ? '✓ agree' : '≠ differ'}</td>
          </tr>
        ))}
      </tbody>
      {hidden > 0 ? (
        <tfoot>
          <tr>
            <td colSpan={ids.length + 2} className="more">
              +{hidden} more
            </td>
          </tr>
        </tfoot>
      ) : null}
    </table>
  );
}

function Queues({ view, source, leases }: { view: LiveView; source: NodeId | null; leases: LeaseLengths }) {
  const machine = source !== null ? view.machines[source] : undefined;
  if (source === null || !machine) return <p className="hint">No state machine to show: no node is running.</p>;
  if (machine.queues.length === 0) return <p className="hint">No task queues yet.</p>;
  const why = source === view.leader ? 'leader' : 'selected';
  const shown = machine.queues.slice(0, QUEUES_SHOWN_MAX);
  return (
    <div className="queues">
      <h3 className="queues-title">
        Task queues on S{source} ({why})
      </h3>
      {shown.map((lanes) => (
        <QueueView key={lanes.queue} lanes={lanes} nowMs={view.nowMs} leases={leases} />
      ))}
      {machine.queues.length > shown.length ? <p className="more">+{machine.queues.length - shown.length} more queues</p> : null}
    </div>
  );
}

function QueueView({ lanes, nowMs, leases }: { lanes: QueueLanes; nowMs: number; leases: LeaseLengths }) {
  const { queue, counts } = lanes;
  const pending = takeChips(lanes.pending, counts.pending);
  const claimed = takeChips(lanes.claimed, counts.claimed);
  const done = takeLatestChips(lanes.done, counts.done);
  const dead = takeLatestChips(lanes.dead, counts.dead);
  return (
    <section className="queue" aria-label={`Queue ${queue}`}>
      <h4 className="queue-name">{queue}</h4>
      <div className="lanes">
        <Lane name="Pending" lane="pending" count={counts.pending} more={pending.more}>
          {pending.shown.map((task) => {
            const waiting = task.readyAt > nowMs;
            return (
              <Chip
                key={task.id}
                queue={queue}
                id={task.id}
                lane="pending"
                extraClass={waiting ? 'is-waiting' : undefined}
                title={
                  waiting
                    ? `#${task.id}: waiting (backoff) until ${formatSeconds(task.readyAt)}, ${describeAttempts(task.attempts)}`
                    : `#${task.id}: ready, ${describeAttempts(task.attempts)}`
                }
              />
            );
          })}
        </Lane>
        <Lane name="Claimed" lane="claimed" count={counts.claimed} more={claimed.more}>
          {claimed.shown.map((task) => {
            const remaining = task.leaseExpiresAt - nowMs;
            const fraction = leaseFraction(remaining, leases.observe(queue, task.id, task.attempt, remaining));
            const expired = remaining <= 0;
            return (
              <Chip
                key={task.id}
                queue={queue}
                id={task.id}
                lane="claimed"
                extraClass={expired ? 'is-expired' : undefined}
                title={`#${task.id}: claimed by ${task.worker}, attempt ${task.attempt}; ${
                  expired ? 'lease over, returns to pending at the next command' : `lease ends in ${formatRemainingSeconds(remaining)}`
                }`}
              >
                <span className="lease" aria-hidden="true">
                  <span className="lease-bar" style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
                </span>
                <span className="lease-time">{expired ? 'over' : formatRemainingSeconds(remaining)}</span>
              </Chip>
            );
          })}
        </Lane>
        <Lane name="Done" lane="done" count={counts.done} more={done.more}>
          {done.shown.map((id) => (
            <Chip key={id} queue={queue} id={id} lane="done" title={`#${id}: acknowledged`} />
          ))}
        </Lane>
        <Lane name="Dead-letter" lane="dead" count={counts.dead} more={dead.more}>
          {dead.shown.map((id) => (
            <Chip key={id} queue={queue} id={id} lane="dead" title={`#${id}: failed too many times`} />
          ))}
        </Lane>
      </div>
    </section>
  );
}

type LaneName = 'pending' | 'claimed' | 'done' | 'dead';

function Lane({ name, lane, count, more, children }: { name: string; lane: LaneName; count: number; more: number; children: ReactNode }) {
  return (
    <div className={`lane lane-${lane}`}>
      <h5 className="lane-name">
        {name} <span className="lane-count">{count}</span>
      </h5>
      <ul className="chips">
        {children}
        {more > 0 ? <li className="more">+{more}</li> : null}
      </ul>
    </div>
  );
}

function Chip({
  queue,
  id,
  lane,
  title,
  extraClass,
  children,
}: {
  queue: string;
  id: number;
  lane: LaneName;
  title: string;
  extraClass?: string | undefined;
  children?: ReactNode;
}) {
  return (
    <li className={`chip chip-${lane}${extraClass ? ` ${extraClass}` : ''}`} data-testid={`task-${queue}-${id}`} data-lane={lane} title={title}>
      <span className="chip-id">#{id}</span>
      {children}
    </li>
  );
}

function describeAttempts(attempts: number): string {
  return attempts === 0 ? 'never claimed' : attempts === 1 ? 'claimed once before' : `claimed ${attempts} times before`;
}
