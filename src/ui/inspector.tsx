// The selected node's state, split as Figure 2 splits it: what survives a crash and what is lost; or the
// selected message, every field of it, with a button to lose it on purpose (while it is on the way).
import type { LiveMessage, LiveNode, LiveView } from '../playground/live-cluster.ts';
import { usePointedPanel } from '../playground/lesson-store.ts';
import { currentTimeline, shownPanelView, usePlayground } from '../playground/store.ts';
import { describeDrop, describeMessageFields, describePersistent, type FieldValue } from './inspector-model.ts';
import { formatNode, formatRemainingSeconds, formatSeconds, ROLE_NAME } from './panel-format.ts';
import { RoleBadge } from './role-badge.tsx';
import './panels.css';

export function Inspector() {
  const view = usePlayground(shownPanelView);
  const pointed = usePointedPanel('inspector');
  const selection = usePlayground((s) => s.selection);
  // Scrubbed into the past, the run has gone on: a message drawn there cannot be lost now.
  const scrubbed = usePlayground((s) => s.scrubMs !== null);
  let body;
  if (!view || selection === null) {
    body = <p className="hint">Click a node or a message to inspect it.</p>;
  } else if (selection.kind === 'node') {
    const node = view.nodes.find((n) => n.id === selection.id);
    body = node ? <NodeDetails node={node} view={view} /> : <p className="hint">S{selection.id} is not in this cluster.</p>;
  } else {
    const message = view.messages.find((m) => m.id === selection.id);
    // Not in flight at this moment (one picked in the space-time diagram): the run's record of it.
    const past = message ? undefined : currentTimeline()?.timeline.message(selection.id);
    body = message ? (
      <MessageDetails message={message} droppable={!scrubbed} />
    ) : past && past.sentAt <= view.nowMs ? (
      <MessageDetails
        message={{
          id: past.id,
          message: past.message,
          sentAt: past.sentAt,
          deliverAt: past.deliverAt,
          ...(past.lost && past.endAt !== undefined && past.endAt <= view.nowMs ? { dropped: { at: past.endAt, reason: past.lost } } : {}),
        }}
        arrivedAt={!past.lost && past.endAt !== undefined && past.endAt <= view.nowMs ? past.endAt : undefined}
        droppable={false}
      />
    ) : (
      <p className="hint">Message #{selection.id} is no longer in flight: it arrived or was lost.</p>
    );
  }
  return (
    <section className={`panel inspector${pointed ? ' is-pointed' : ''}`} data-testid="inspector" aria-label="Inspector">
      <h2 className="panel-title">Inspector</h2>
      {/* It scrolls: focusable, so that the keyboard scrolls it too (WCAG 2.1.1). */}
      <div className="panel-scroll" tabIndex={0} role="group" aria-label="Inspector details">
        {body}
      </div>
    </section>
  );
}

function NodeDetails({ node, view }: { node: LiveNode; view: LiveView }) {
  const down = node.status === 'down';
  return (
    <div className="inspector-node">
      <p className="inspector-heading">
        <RoleBadge id={node.id} role={down ? 'down' : node.role} /> {down ? 'down (crashed)' : `${ROLE_NAME[node.role]}, term ${node.term}`}
      </p>
      <div className="state-boxes">
        <div className="state-box state-persistent">
          <h3>Persistent (survives a crash)</h3>
          <dl className="fields">
            {describePersistent(node).map(([name, value]) => (
              <Row key={name} name={name} value={value} />
            ))}
          </dl>
        </div>
        <div className={`state-box state-volatile${down ? ' is-gone' : ''}`}>
          <h3>Volatile (lost in a crash)</h3>
          {down ? (
            <p className="gone">Gone: the node is down. When it restarts it starts as a follower and learns the commit index again from a leader.</p>
          ) : (
            <VolatileState node={node} nowMs={view.nowMs} />
          )}
        </div>
      </div>
    </div>
  );
}

function VolatileState({ node, nowMs }: { node: LiveNode; nowMs: number }) {
  return (
    <>
      <dl className="fields">
        <Row name="role" value={ROLE_NAME[node.role]} />
        <Row name="leader" value={node.leader === 0 ? 'unknown' : formatNode(node.leader)} />
        <Row name="commitIndex" value={String(node.commitIndex)} />
        <Row name="lastApplied" value={String(node.lastApplied)} />
        {node.electionDeadlineMs !== null ? <Row name="election timer" value={`fires in ${formatRemainingSeconds(node.electionDeadlineMs - nowMs)}`} /> : null}
        {node.role === 'candidate' || node.role === 'precandidate' ? (
          <Row name="votes" value={node.votesGranted.length === 0 ? 'none yet' : node.votesGranted.map(formatNode).join(' ')} />
        ) : null}
      </dl>
      {node.role === 'leader' ? (
        <table className="progress-table">
          <caption>Leader's view of each follower (§5.3)</caption>
          <thead>
            <tr>
              <th scope="col">follower</th>
              <th scope="col">nextIndex</th>
              <th scope="col">matchIndex</th>
              <th scope="col">state</th>
            </tr>
          </thead>
          <tbody>
            {node.progress.map((p) => (
              <tr key={p.id}>
                <th scope="row">{formatNode(p.id)}</th>
                <td>{p.next}</td>
                <td>{p.match}</td>
                <td className={`progress-${p.state}`}>{p.state}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

function MessageDetails({ message, arrivedAt, droppable }: { message: LiveMessage; arrivedAt?: number | undefined; droppable: boolean }) {
  const m = message.message;
  const dropped = message.dropped !== undefined;
  const arrived = arrivedAt !== undefined;
  return (
    <div className="inspector-message">
      <p className="inspector-heading">
        <b>{m.type}</b> {formatNode(m.from)} → {formatNode(m.to)}
      </p>
      <dl className="fields">
        <Row name="sent at" value={formatSeconds(message.sentAt)} />
        <Row name={dropped ? 'was due at' : arrived ? 'arrived at' : 'arrives at'} value={formatSeconds(arrivedAt ?? message.deliverAt)} />
        {message.dropped ? <Row name="lost" value={`at ${formatSeconds(message.dropped.at)}, ${describeDrop(message)}`} /> : null}
        {describeMessageFields(m).map((field) => (
          <div key={field.name} className="field">
            <dt>{field.name}</dt>
            <dd>
              <FieldText value={field.value} />
            </dd>
          </div>
        ))}
      </dl>
      <button
        type="button"
        className="panel-button"
        disabled={dropped || arrived || !droppable}
        onClick={() => void usePlayground.getState().act({ do: 'drop', message: message.id })}
      >
        Drop message
      </button>
    </div>
  );
}

function FieldText({ value }: { value: FieldValue }) {
  if (value.kind === 'text') return <>{value.text}</>;
  if (value.lines.length === 0) return <>none (a probe or heartbeat-like append)</>;
  return (
    <ol className="entry-list">
      {value.lines.map((line) => (
        <li key={line}>{line}</li>
      ))}
      {value.more > 0 ? <li className="more">… and {value.more} more</li> : null}
    </ol>
  );
}

function Row({ name, value }: { name: string; value: string }) {
  return (
    <div className="field">
      <dt>{name}</dt>
      <dd>{value}</dd>
    </div>
  );
}
